/**
 * eCPR replacement numbers for people without a (known) CPR number: the shape DDMMYY C AA G.
 *
 * - DDMMYY: birth date; when the birth date is unknown, the date the number was created (NSP "eCPR formater").
 * - C: century and kind. X-eCPR (national eCPR service, system `urn:oid:1.2.208.176.1.6.1.1`): 1 = 1900–1999,
 *   7 = 2000–2099 (NSP, https://www.nspop.dk/pages/viewpage.action?pageId=226757583). D-eCPR (decentral, regional
 *   systems bound by `DkCoreDeCPRValueSet`): 0 = 1900–1999, 5 = before 1900, 6 = 2000 and later (MedCom,
 *   "Nu er erstatnings-CPR-numre via national e-CPR-service muligt", 2022).
 * - AA: two capital letters A–Z, often the initials.
 * - G: a digit, odd for men and even for women.
 *
 * The regexes are DK-core's `x-ecpr` and `d-ecpr` invariants (profiles `dk-core-x-ecpr-identifier` and
 * `dk-core-d-ecpr-identifier`, maxLength 10), see profiles.ts. Like them this accepts only upper-case letters. It is
 * stricter in one way: the date must exist in the century that C gives (no 29 February in non-leap years).
 */
import type { Checked } from './checked.ts';
import { assertSerial, failed, passed, show } from './checked.ts';
import { dateProblem, formatIsoDate, pad2, parseIsoDate } from './dates.ts';

/** X = national eCPR service (X-eCPR); D = decentral/regional replacement number (D-eCPR). */
export type EcprKind = 'X' | 'D';

/** What an eCPR number says about itself. */
export interface EcprInfo {
  readonly kind: EcprKind;
  /** Birth date `YYYY-MM-DD`, or the creation date when the birth date was unknown. */
  readonly birthDate: string;
}

/** Century digit (position 7) → kind and century. */
const CENTURY_DIGITS: ReadonlyMap<number, { readonly kind: EcprKind; readonly century: number }> = new Map([
  [1, { kind: 'X', century: 1900 }],
  [7, { kind: 'X', century: 2000 }],
  [0, { kind: 'D', century: 1900 }],
  [5, { kind: 'D', century: 1800 }],
  [6, { kind: 'D', century: 2000 }],
]);

const EXAMPLES = 'e.g. X-eCPR 0703921VJ4 or D-eCPR 1206550VK9';

/** How many distinct serials {@link makeEcpr} accepts per kind and birth date: 26 × 26 letter pairs × 10 digits. */
export const ECPR_SERIALS_PER_DATE = 26 * 26 * 10;

/**
 * Checks an eCPR replacement number (X-eCPR or D-eCPR) and reads its kind and birth date.
 *
 * @param value - 10 characters DDMMYY C AA G, e.g. `0703921VJ4`
 * @returns the kind (X or D, from the century digit) and the birth date, or an error saying what is wrong
 */
export function checkEcpr(value: string): Checked<EcprInfo> {
  if (typeof value !== 'string') {
    return failed(`An eCPR number must be a string of 10 characters DDMMYYCAAG, ${EXAMPLES}; got ${show(value)}.`);
  }
  const m = /^(\d{2})(\d{2})(\d{2})(\d)([A-Z]{2})(\d)$/.exec(value);
  if (m === null) {
    let why = 'it must be 10 characters: birth date DDMMYY, a century digit, two capital letters A–Z and a digit';
    if (/^\d{6}\d[a-zA-Z]{2}\d$/.test(value)) {
      why = 'the letters in positions 8–9 must be capitals A–Z (DK-core does not accept lower case)';
    } else if (/^\d{6}-?\d{4}$/.test(value)) {
      why = 'it has digits where the two letters belong (positions 8–9): it looks like a CPR number, check it with checkCpr';
    } else if (/^\d{6}\d[A-ZÆØÅa-zæøå]{2}\d$/.test(value)) {
      why = 'positions 8–9 must be letters A–Z; Æ, Ø and Å are not allowed';
    }
    return failed(`${show(value)} is not an eCPR number: ${why}; ${EXAMPLES}.`);
  }
  const digit7 = Number(m[4]);
  const meaning = CENTURY_DIGITS.get(digit7);
  if (meaning === undefined) {
    return failed(
      `${show(value)} is not an eCPR number: the century digit (position 7) is ${digit7}, but X-eCPR uses 1 (1900s) or 7 (2000s) and D-eCPR uses 0 (1900s), 5 (1800s) or 6 (2000s); ${EXAMPLES}.`,
    );
  }
  const day = Number(m[1]);
  const month = Number(m[2]);
  const year = meaning.century + Number(m[3]);
  const problem = dateProblem(day, month, year, `the century comes from the ${meaning.kind}-eCPR century digit ${digit7}`);
  if (problem !== undefined) {
    return failed(`${show(value)} is not a valid eCPR number: ${problem}. The first six characters must be a real date DDMMYY; ${EXAMPLES}.`);
  }
  return passed({ kind: meaning.kind, birthDate: formatIsoDate({ year, month, day }) });
}

/**
 * Makes a synthetic eCPR number, deterministically. The serial picks the two letters (serial ÷ 10, as a base-26 pair
 * AA, AB, …, ZZ) and the last digit (serial mod 10: odd male, even female).
 *
 * @param kind - 'X' for an X-eCPR (birth years 1900–2099) or 'D' for a D-eCPR (birth years 1800–2099)
 * @param birthDate - `YYYY-MM-DD`
 * @param serial - 0 to 6759
 * @returns the 10-character number
 */
export function makeEcpr(kind: EcprKind, birthDate: string, serial: number): string {
  const d = typeof birthDate === 'string' ? parseIsoDate(birthDate) : undefined;
  if (d === undefined) {
    throw new RangeError(`makeEcpr: birthDate ${show(birthDate)} is not a real date written YYYY-MM-DD`);
  }
  if (kind !== 'X' && kind !== 'D') {
    throw new RangeError(`makeEcpr: kind must be 'X' or 'D', got ${show(kind)}`);
  }
  const century = Math.floor(d.year / 100) * 100;
  let digit7: number | undefined;
  for (const [digit, meaning] of CENTURY_DIGITS) {
    if (meaning.kind === kind && meaning.century === century) {
      digit7 = digit;
    }
  }
  if (digit7 === undefined) {
    throw new RangeError(`makeEcpr: a ${kind}-eCPR cannot express birth year ${d.year} (X-eCPR covers 1900–2099, D-eCPR 1800–2099)`);
  }
  assertSerial(serial, ECPR_SERIALS_PER_DATE, 'makeEcpr');
  const pair = Math.floor(serial / 10);
  const letters = String.fromCharCode(65 + Math.floor(pair / 26), 65 + (pair % 26));
  return `${pad2(d.day)}${pad2(d.month)}${pad2(d.year % 100)}${digit7}${letters}${serial % 10}`;
}
