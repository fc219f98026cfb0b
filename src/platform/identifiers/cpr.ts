/**
 * CPR numbers (personnumre), system `urn:oid:1.2.208.176.1.2`.
 *
 * Structure (CPR office, https://www.cpr.dk/cpr-systemet/opbygning-af-cpr-nummeret): DDMMYY-SSSS, where DDMMYY is the
 * birth date without century, the first sequence digit (digit 7) together with YY gives the century, and digit 10 is
 * odd for men and even for women.
 *
 * Rules that matter:
 * - Modulus 11 is historic. Since 1 October 2007 the CPR office issues numbers that fail it (the first began
 *   010165), and requires systems to accept them. A mod-11 failure is therefore a warning here, never an error.
 * - DK-core's profile `dk-core-cpr-identifier` (invariant `cpr`, copied in profiles.ts) checks only that
 *   DDMM is plausible (29 February always passes) and that the value is 10 digits (maxLength 10, so no hyphen).
 *   {@link checkCpr} additionally resolves the century and rejects dates that do not exist, e.g. 29 February in a
 *   non-leap year. It also accepts the hyphenated display form; checkIdentifier does not, because a FHIR
 *   `Identifier.value` must be the bare 10 digits.
 * - The sex digit is the registration at issue time. People can change legal gender and receive a new CPR number
 *   (since 2014), non-binary people keep theirs: never use it as gender in logic.
 */
import type { Checked } from './checked.ts';
import { failed, passed, show } from './checked.ts';
import { CPR_WEIGHTS, cprModulus11, weightedSum } from './checksums.ts';
import type { YearMonthDay } from './dates.ts';
import { dateProblem, formatIsoDate, pad2, parseIsoDate } from './dates.ts';

/** Administrative sex as encoded in a CPR or eCPR number's last digit (odd male, even female). */
export type Sex = 'male' | 'female';

/** What a CPR number says about itself. */
export interface CprInfo {
  /** Birth date `YYYY-MM-DD`, with the century from digit 7 and YY per the CPR office table. */
  readonly birthDate: string;
  /**
   * The sex encoded in digit 10 when the number was issued (odd male, even female). Informational only: it is not
   * the person's gender, and must never drive logic; use `Patient.gender` from the source of truth instead.
   */
  readonly sexDigit: Sex;
  /** Whether the number passes the historic modulus 11 check. Numbers issued since 2007 may not; both are valid. */
  readonly modulus11: boolean;
}

/** The earliest birth date a CPR number can express (digit 7 in 5–8 with YY 58–99). */
export const CPR_MIN_BIRTH_DATE = '1858-01-01';
/** The latest birth date a CPR number can express (digit 7 in 5–8 with YY 00–57). */
export const CPR_MAX_BIRTH_DATE = '2057-12-31';

const VALID_EXAMPLE = 'e.g. 0707614285 or 070761-4285';

/**
 * The CPR office century table: digit 7 of the number and the two-digit year give the full birth year.
 *
 * | digit 7 | YY 00–36 | YY 37–57 | YY 58–99 |
 * |---|---|---|---|
 * | 0–3 | 1900s | 1900s | 1900s |
 * | 4, 9 | 2000s | 1900s | 1900s |
 * | 5–8 | 2000s | 2000s | 1800s |
 *
 * @param yy - the two-digit year, 0–99
 * @param digit7 - the first sequence digit, 0–9
 * @returns the four-digit birth year
 */
export function cprBirthYear(yy: number, digit7: number): number {
  if (digit7 <= 3) {
    return 1900 + yy;
  }
  if (digit7 === 4 || digit7 === 9) {
    return yy <= 36 ? 2000 + yy : 1900 + yy;
  }
  return yy <= 57 ? 2000 + yy : 1800 + yy;
}

/**
 * @param year - a four-digit birth year
 * @returns the digit-7 values that encode that year (ascending); empty outside 1858–2057
 */
export function cprCenturyDigits(year: number): readonly number[] {
  const out: number[] = [];
  for (let d = 0; d <= 9; d++) {
    if (cprBirthYear(year % 100, d) === year) {
      out.push(d);
    }
  }
  return out;
}

function cprDatePart(d: YearMonthDay): string {
  return `${pad2(d.day)}${pad2(d.month)}${pad2(d.year % 100)}`;
}

function sexOfDigit(digit: number): Sex {
  return digit % 2 === 1 ? 'male' : 'female';
}

/**
 * Checks a CPR number and reads its birth date and sex digit.
 *
 * Accepts `DDMMYYSSSS` and `DDMMYY-SSSS`. The date must exist once the century is resolved from digit 7; a number that
 * fails modulus 11 is accepted with a warning (the CPR office has issued such numbers since 2007).
 *
 * @param value - the CPR number, 10 digits with an optional hyphen after the sixth
 * @returns the birth date, sex digit and modulus 11 status, or an error saying what is wrong
 */
export function checkCpr(value: string): Checked<CprInfo> {
  if (typeof value !== 'string') {
    return failed(`A CPR number must be a string of 10 digits (DDMMYYSSSS or DDMMYY-SSSS, ${VALID_EXAMPLE}), got ${show(value)}.`);
  }
  const m = /^(\d{2})(\d{2})(\d{2})-?(\d)(\d{3})$/.exec(value);
  if (m === null) {
    if (/^\d{6}-?\d[A-Za-z]{2}\d$/.test(value)) {
      return failed(`${show(value)} is not a CPR number: letters in positions 8–9 make it an eCPR replacement number (check it with checkEcpr). A CPR number is 10 digits, DDMMYYSSSS or DDMMYY-SSSS, ${VALID_EXAMPLE}.`);
    }
    const digits = value.replace(/\D/g, '').length;
    return failed(`${show(value)} is not a CPR number: it must be exactly 10 digits written DDMMYYSSSS or DDMMYY-SSSS (birth date, then a 4-digit sequence number), with no spaces or other characters, ${VALID_EXAMPLE}; it has ${digits} digit${digits === 1 ? '' : 's'}.`);
  }
  const day = Number(m[1]);
  const month = Number(m[2]);
  const yy = Number(m[3]);
  const digit7 = Number(m[4]);
  const year = cprBirthYear(yy, digit7);
  const problem = dateProblem(day, month, year, `the century comes from digit 7 = ${digit7} with year ${pad2(yy)}`);
  if (problem !== undefined) {
    return failed(`${show(value)} is not a valid CPR number: ${problem}. The first six digits must be a real birth date DDMMYY, ${VALID_EXAMPLE}.`);
  }
  const digits = `${m[1]!}${m[2]!}${m[3]!}${m[4]!}${m[5]!}`;
  const modulus11 = cprModulus11(digits);
  const warnings = modulus11
    ? []
    : [
        `CPR number ${formatCpr(digits)} does not pass the modulus 11 check. The CPR office has issued numbers without modulus 11 since 1 October 2007, so this may be a real number: accept it and, at most, flag it for manual review; never reject it.`,
      ];
  return passed({ birthDate: formatIsoDate({ year, month, day }), sexDigit: sexOfDigit(Number(value.at(-1))), modulus11 }, warnings);
}

/**
 * Writes a CPR number in the display form `DDMMYY-SSSS`. Only the shape is checked (10 digits with an optional hyphen
 * after the sixth); use {@link checkCpr} to validate the date.
 *
 * @param value - `DDMMYYSSSS` or `DDMMYY-SSSS`
 * @returns the number as `DDMMYY-SSSS`
 */
export function formatCpr(value: string): string {
  const m = typeof value === 'string' ? /^(\d{6})-?(\d{4})$/.exec(value) : null;
  if (m === null) {
    throw new TypeError(`formatCpr: ${show(value)} is not 10 digits in the form DDMMYYSSSS or DDMMYY-SSSS`);
  }
  return `${m[1]!}-${m[2]!}`;
}

/** Cache of sequence-number lists, keyed by what decides them: date checksum residue, century digits, sex, mod-11. */
const sequenceCache = new Map<string, readonly string[]>();

/**
 * The sequence numbers SSSS available for a date, in ascending order.
 *
 * @param dateSumMod11 - weighted sum of the DDMMYY digits (weights 4,3,2,7,6,5) modulo 11
 * @param centuryDigits - allowed values of digit 7 for the birth year
 * @param sex - wanted sex digit parity
 * @param modulus11 - true for numbers passing modulus 11, false for numbers failing it
 * @returns the list (cached)
 */
function sequenceNumbers(dateSumMod11: number, centuryDigits: readonly number[], sex: Sex, modulus11: boolean): readonly string[] {
  const key = `${dateSumMod11}|${centuryDigits.join('')}|${sex}|${modulus11}`;
  const cached = sequenceCache.get(key);
  if (cached !== undefined) {
    return cached;
  }
  const out: string[] = [];
  const parity = sex === 'male' ? 1 : 0;
  for (const d7 of centuryDigits) {
    for (let d89 = 0; d89 < 100; d89++) {
      const d8 = Math.floor(d89 / 10);
      const d9 = d89 % 10;
      for (let d10 = parity; d10 <= 9; d10 += 2) {
        const passes = (dateSumMod11 + 4 * d7 + 3 * d8 + 2 * d9 + d10) % 11 === 0;
        if (passes === modulus11) {
          out.push(`${d7}${d8}${d9}${d10}`);
        }
      }
    }
  }
  sequenceCache.set(key, out);
  return out;
}

/**
 * Makes a synthetic CPR number, deterministically. The serial picks, in ascending order, among the sequence numbers
 * whose digit 7 encodes the birth year's century and whose last digit has the requested sex parity. The result may
 * coincide with a real person's number: use it only for test and synthetic data.
 *
 * @param birthDate - `YYYY-MM-DD`, from 1858-01-01 to 2057-12-31 (what the century table can express)
 * @param sex - the sex digit parity (odd male, even female)
 * @param serial - 0-based index among the available sequence numbers for that date, sex and modulus-11 choice
 * @param options - `modulus11` (default true): true for a number that passes modulus 11, false for one that fails it
 *   (as the CPR office has issued since 2007)
 * @returns the 10-digit number `DDMMYYSSSS` (no hyphen, as DK-core stores it)
 */
export function makeCpr(birthDate: string, sex: Sex, serial: number, options: { readonly modulus11?: boolean } = {}): string {
  const d = typeof birthDate === 'string' ? parseIsoDate(birthDate) : undefined;
  if (d === undefined) {
    throw new RangeError(`makeCpr: birthDate ${show(birthDate)} is not a real date written YYYY-MM-DD`);
  }
  const centuryDigits = cprCenturyDigits(d.year);
  if (centuryDigits.length === 0) {
    throw new RangeError(`makeCpr: birthDate ${birthDate} cannot be written as a CPR number (the century table covers ${CPR_MIN_BIRTH_DATE} to ${CPR_MAX_BIRTH_DATE})`);
  }
  if (sex !== 'male' && sex !== 'female') {
    throw new RangeError(`makeCpr: sex must be 'male' or 'female', got ${show(sex)}`);
  }
  const modulus11 = options.modulus11 ?? true;
  const datePart = cprDatePart(d);
  const list = sequenceNumbers(weightedSum(datePart, CPR_WEIGHTS) % 11, centuryDigits, sex, modulus11);
  if (!Number.isSafeInteger(serial) || serial < 0 || serial >= list.length) {
    throw new RangeError(
      `makeCpr: there is no ${modulus11 ? 'modulus-11-valid' : 'modulus-11-failing'} ${sex} CPR number with serial ${String(serial)} for ${birthDate}; serials run from 0 to ${list.length - 1}`,
    );
  }
  return `${datePart}${list[serial]!}`;
}

/**
 * @param birthDate - `YYYY-MM-DD`
 * @param sex - the sex digit parity
 * @param options - `modulus11` as for {@link makeCpr}
 * @returns how many distinct serials {@link makeCpr} accepts for these arguments (0 when the date cannot be expressed)
 */
export function cprSerialCount(birthDate: string, sex: Sex, options: { readonly modulus11?: boolean } = {}): number {
  const d = parseIsoDate(birthDate);
  if (d === undefined) {
    return 0;
  }
  const centuryDigits = cprCenturyDigits(d.year);
  if (centuryDigits.length === 0) {
    return 0;
  }
  return sequenceNumbers(weightedSum(cprDatePart(d), CPR_WEIGHTS) % 11, centuryDigits, sex, options.modulus11 ?? true).length;
}
