/** Dates and numbers in Danish format, in Danish time. */

const TZ = 'Europe/Copenhagen';
const dateFmt = new Intl.DateTimeFormat('da-DK', { day: 'numeric', month: 'short', year: 'numeric', timeZone: TZ });
const dateTimeFmt = new Intl.DateTimeFormat('da-DK', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: TZ });
const timeFmt = new Intl.DateTimeFormat('da-DK', { hour: '2-digit', minute: '2-digit', timeZone: TZ });
const numberFmt = new Intl.NumberFormat('da-DK', { maximumFractionDigits: 3 });

/**
 * @param value - an ISO date or date-time
 * @returns e.g. "9. nov. 2025" (empty for no value)
 */
export function formatDate(value: string | undefined): string {
  if (value === undefined || value === '') {
    return '';
  }
  if (/^\d{4}$/.test(value)) {
    return value;
  }
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T12:00:00Z` : value);
  return Number.isNaN(t) ? value : dateFmt.format(t);
}

/**
 * @param value - an ISO date-time
 * @returns e.g. "9. nov. 2025 09.00"
 */
export function formatDateTime(value: string | undefined): string {
  if (value === undefined || value === '') {
    return '';
  }
  if (!value.includes('T')) {
    return formatDate(value);
  }
  const t = Date.parse(value);
  return Number.isNaN(t) ? value : dateTimeFmt.format(t);
}

/**
 * @param value - an ISO date-time
 * @returns e.g. "14.35"
 */
export function formatTime(value: string | number): string {
  return timeFmt.format(typeof value === 'number' ? value : Date.parse(value));
}

/**
 * @param value - a number
 * @returns e.g. "6,4" or "1.234"
 */
export function formatNumber(value: number | undefined): string {
  return value === undefined ? '' : numberFmt.format(value);
}

/**
 * @param n - a count
 * @param one - the word for one
 * @param many - the word for several
 * @returns e.g. "3 prøvesvar"
 */
export function count(n: number, one: string, many: string): string {
  return `${formatNumber(n)} ${n === 1 ? one : many}`;
}
