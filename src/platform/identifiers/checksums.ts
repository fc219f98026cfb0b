/**
 * Check-digit algorithms used by Danish identifiers. Inputs are strings of ASCII digits; callers check the format
 * first (these functions do not validate it).
 */

/** CPR modulus 11 weights (CPR office; historic, see {@link cprModulus11}). */
export const CPR_WEIGHTS: readonly number[] = [4, 3, 2, 7, 6, 5, 4, 3, 2, 1];

/** CVR modulus 11 weights, as in DK-core's `CVR-modulus-11` invariant. */
export const CVR_WEIGHTS: readonly number[] = [2, 7, 6, 5, 4, 3, 2, 1];

/**
 * @param digits - a string of digits
 * @param weights - one weight per leading digit
 * @returns the sum of digit × weight over the leading digits that have a weight (the shorter of the two lengths)
 */
export function weightedSum(digits: string, weights: readonly number[]): number {
  let sum = 0;
  const n = Math.min(digits.length, weights.length);
  for (let i = 0; i < n; i++) {
    sum += (digits.charCodeAt(i) - 48) * weights[i]!;
  }
  return sum;
}

/**
 * The historic CPR modulus 11 test. Since 1 October 2007 the CPR office issues numbers that fail it, so a failure
 * must only ever be a warning.
 *
 * @param cpr - ten digits, no hyphen
 * @returns true when the weighted sum with weights 4,3,2,7,6,5,4,3,2,1 is divisible by 11
 */
export function cprModulus11(cpr: string): boolean {
  return weightedSum(cpr, CPR_WEIGHTS) % 11 === 0;
}

/**
 * @param cvr - eight digits
 * @returns true when the weighted sum with weights 2,7,6,5,4,3,2,1 is divisible by 11 (DK-core `CVR-modulus-11`)
 */
export function cvrModulus11(cvr: string): boolean {
  return weightedSum(cvr, CVR_WEIGHTS) % 11 === 0;
}

/**
 * GS1 mod-10 check digit for any GS1 key (GLN, GTIN, …): weights 3,1,3,1,… from the rightmost body digit.
 * For a 12-digit GLN body this equals DK-core's `gln-modulus-10` weights 1,3,1,3,… from the left.
 *
 * @param body - the digits before the check digit
 * @returns the check digit, 0–9
 */
export function gs1CheckDigit(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    const fromRight = body.length - 1 - i;
    sum += (body.charCodeAt(i) - 48) * (fromRight % 2 === 0 ? 3 : 1);
  }
  return (10 - (sum % 10)) % 10;
}

const VERHOEFF_D: readonly (readonly number[])[] = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
  [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
  [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P: readonly (readonly number[])[] = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
  [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 8, 7, 0, 6],
  [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
  [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];
const VERHOEFF_INV: readonly number[] = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];

function verhoeffState(digits: string, offset: number): number {
  let c = 0;
  for (let i = 0; i < digits.length; i++) {
    const digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    c = VERHOEFF_D[c]![VERHOEFF_P[(i + offset) % 8]![digit]!]!;
  }
  return c;
}

/**
 * Verhoeff check digit, as used by SNOMED CT identifiers (SCTIDs); SOR codes have the SCTID shape.
 *
 * @param body - the digits before the check digit
 * @returns the check digit, 0–9
 */
export function verhoeffCheckDigit(body: string): number {
  return VERHOEFF_INV[verhoeffState(body, 1)]!;
}

/**
 * @param digits - a string of digits whose last digit is a Verhoeff check digit
 * @returns true when the check digit is right
 */
export function verhoeffValid(digits: string): boolean {
  return verhoeffState(digits, 0) === 0;
}
