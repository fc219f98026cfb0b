/**
 * The result shape shared by every identifier check in this folder.
 *
 * A check never throws on bad input: it returns `{ ok: false, error }` with an English sentence that says
 * what is wrong and what a valid value looks like. `ok: true` results may carry warnings: facts a caller
 * should surface (for example a CPR number without modulus 11) but must not reject on.
 */
export type Checked<T> = { readonly ok: true; readonly value: T; readonly warnings: readonly string[] } | { readonly ok: false; readonly error: string };

/**
 * @param value - the checked value
 * @param warnings - non-blocking remarks about the value
 * @returns a successful check result
 */
export function passed<T>(value: T, warnings: readonly string[] = []): Checked<T> {
  return { ok: true, value, warnings };
}

/**
 * @param error - what is wrong and what a valid value looks like
 * @returns a failed check result
 */
export function failed<T>(error: string): Checked<T> {
  return { ok: false, error };
}

/**
 * Quotes a value for an error message, including non-strings passed in by untyped callers.
 *
 * @param value - anything
 * @returns a short printable rendering
 */
export function show(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return value === null ? 'null' : `a value of type ${typeof value}`;
}

/**
 * Validates a `serial` argument of a `make*` function.
 *
 * @param serial - the caller's serial
 * @param count - how many distinct values the generator can make
 * @param what - the identifier name, for the error
 * @returns nothing; throws a RangeError when the serial is not an integer in [0, count)
 */
export function assertSerial(serial: number, count: number, what: string): void {
  if (!Number.isSafeInteger(serial) || serial < 0 || serial >= count) {
    throw new RangeError(`${what}: serial must be an integer from 0 to ${count - 1}, got ${String(serial)}`);
  }
}
