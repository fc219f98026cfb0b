/** Calendar helpers for the date parts of CPR and eCPR numbers (proleptic Gregorian, no time zones). */

/**
 * @param year - a full year
 * @returns true for Gregorian leap years
 */
export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * @param year - a full year
 * @param month - 1–12
 * @returns the number of days in that month
 */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    return isLeapYear(year) ? 29 : 28;
  }
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** A calendar date split into numbers. */
export interface YearMonthDay {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/**
 * @param value - a date written `YYYY-MM-DD`
 * @returns the parts, or undefined when the text is not a real calendar date in that form
 */
export function parseIsoDate(value: string): YearMonthDay | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (m === null) {
    return undefined;
  }
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return undefined;
  }
  return { year, month, day };
}

/**
 * @param n - 0–99 (or more digits)
 * @returns the number with at least two digits
 */
export function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * @param d - a date
 * @returns the date written `YYYY-MM-DD`
 */
export function formatIsoDate(d: YearMonthDay): string {
  return `${String(d.year).padStart(4, '0')}-${pad2(d.month)}-${pad2(d.day)}`;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * Checks the day and month of a DDMM birth date once the full year is known.
 *
 * @param day - the DD number
 * @param month - the MM number
 * @param year - the full year the century rules gave
 * @param yearNote - how the year was derived, for the message
 * @returns undefined when the date exists, else an English explanation
 */
export function dateProblem(day: number, month: number, year: number, yearNote: string): string | undefined {
  if (month < 1 || month > 12) {
    return `month ${pad2(month)} does not exist (positions 3–4 must be 01–12)`;
  }
  const max = daysInMonth(year, month);
  if (day < 1 || day > max) {
    if (month === 2 && day === 29) {
      return `29 February ${year} does not exist: ${year} is not a leap year (${yearNote})`;
    }
    return `day ${pad2(day)} does not exist in ${MONTHS[month - 1]!} ${year} (positions 1–2 must be 01–${max})`;
  }
  return undefined;
}
