/**
 * Checks of FHIR primitive values in their JSON form: JSON type, lexical format (the regexes the R4
 * StructureDefinitions give for each primitive), ranges, calendar validity, control characters and
 * empty / whitespace-only strings.
 */

// Regexes from the R4 primitive StructureDefinitions (`ElementDefinition.type` regex extension),
// anchored. decimal/integer are JSON numbers and are checked as numbers.
const REGEX: Readonly<Record<string, RegExp>> = {
  code: /^[^\s]+(\s[^\s]+)*$/,
  id: /^[A-Za-z0-9\-.]{1,64}$/,
  oid: /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/,
  uuid: /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  uri: /^\S*$/,
  url: /^\S*$/,
  canonical: /^\S*$/,
  date: /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$/,
  dateTime:
    /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$/,
  instant:
    /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$/,
  time: /^([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?$/,
};

/** C0 control characters other than tab, line feed and carriage return. */
const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;

/** Maximum size of a FHIR string (R4 datatypes: "strings SHALL NOT exceed 1MB"). */
export const MAX_STRING_LENGTH = 1024 * 1024;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

const NUMBER_TYPES = new Set(['decimal', 'integer', 'positiveInt', 'unsignedInt', 'integer64']);

/**
 * The JSON type a primitive is written as.
 * @param type - FHIR primitive type code.
 * @returns 'boolean', 'number' or 'string'.
 */
export function jsonTypeOf(type: string): 'boolean' | 'number' | 'string' {
  if (type === 'boolean') {
    return 'boolean';
  }
  return NUMBER_TYPES.has(type) ? 'number' : 'string';
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Checks that a date's day exists in its month (the regexes allow 31 for every month). */
function calendarError(value: string): string | undefined {
  if (value.length < 10) {
    return undefined;
  }
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(5, 7));
  const day = Number(value.slice(8, 10));
  return day > daysInMonth(year, month) ? `day ${day} does not exist in month ${value.slice(0, 7)}` : undefined;
}

const BASE64 = /^[A-Za-z0-9+/\s]*(=\s*){0,2}$/;
const WHITESPACE = /\s/;

/** base64 (whitespace allowed between characters); values can be megabytes, so only linear regexes. */
function base64Error(value: string): string | undefined {
  if (!BASE64.test(value)) {
    return 'is not valid base64';
  }
  const length = WHITESPACE.test(value) ? value.replace(/\s+/g, '').length : value.length;
  return length % 4 === 0 ? undefined : 'is not valid base64 (its length is not a multiple of 4)';
}

/**
 * Checks one primitive value.
 * @param type - FHIR primitive type code (e.g. 'date', 'code', 'positiveInt').
 * @param value - the JSON value (not null or undefined).
 * @param maxLength - optional maximum length (from the element definition).
 * @returns a description of what is wrong, or undefined when the value is valid.
 */
export function checkPrimitive(type: string, value: unknown, maxLength?: number): string | undefined {
  const expected = jsonTypeOf(type);
  if (typeof value !== expected) {
    const got = Array.isArray(value) ? 'an array' : value === null ? 'null' : `a JSON ${typeof value}`;
    return `must be a JSON ${expected} (FHIR ${type}), but is ${got}`;
  }
  if (expected === 'boolean') {
    return undefined;
  }
  if (expected === 'number') {
    const n = value as number;
    if (!Number.isFinite(n)) {
      return `is not a finite number`;
    }
    if (type === 'decimal') {
      return undefined;
    }
    if (!Number.isInteger(n)) {
      return `must be an integer (FHIR ${type}), but is ${n}`;
    }
    if (n < INT32_MIN || n > INT32_MAX) {
      return `is outside the 32-bit range of FHIR ${type}`;
    }
    if (type === 'positiveInt' && n < 1) {
      return `must be a positive integer (FHIR positiveInt), but is ${n}`;
    }
    if (type === 'unsignedInt' && n < 0) {
      return `must be zero or a positive integer (FHIR unsignedInt), but is ${n}`;
    }
    return undefined;
  }

  const s = value as string;
  if (s.length === 0) {
    return 'must not be an empty string (omit the element instead)';
  }
  if (CONTROL_CHARS.test(s)) {
    const i = s.search(CONTROL_CHARS);
    const code = s.charCodeAt(i).toString(16).padStart(4, '0');
    return `contains the control character U+${code.toUpperCase()} at position ${i}, which FHIR strings must not contain`;
  }
  if (maxLength !== undefined && s.length > maxLength) {
    return `is ${s.length} characters long; the maximum is ${maxLength}`;
  }
  switch (type) {
    case 'string':
      if (s.length > MAX_STRING_LENGTH) {
        return 'exceeds the 1 MB limit for FHIR strings';
      }
      return s.trim().length === 0 ? 'must contain non-whitespace content' : undefined;
    case 'markdown':
      return s.trim().length === 0 ? 'must contain non-whitespace content' : undefined;
    case 'xhtml':
      return undefined; // checked by the narrative invariants txt-1 / txt-2
    case 'base64Binary':
      return base64Error(s);
    case 'date':
    case 'dateTime':
    case 'instant': {
      const re = REGEX[type]!;
      if (!re.test(s)) {
        return `is not a valid FHIR ${type} ('${truncate(s)}')`;
      }
      const cal = calendarError(s);
      return cal ? `is not a valid FHIR ${type}: ${cal}` : undefined;
    }
    default: {
      const re = REGEX[type];
      if (re && !re.test(s)) {
        return `is not a valid FHIR ${type} ('${truncate(s)}')`;
      }
      return undefined;
    }
  }
}

function truncate(s: string): string {
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}
