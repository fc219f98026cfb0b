import { locale } from './i18n.ts';

/** Dates and numbers in Danish format (British English when English is chosen), in Danish time. */

const TZ = 'Europe/Copenhagen';

interface Formats {
  readonly date: Intl.DateTimeFormat;
  readonly dateTime: Intl.DateTimeFormat;
  readonly time: Intl.DateTimeFormat;
  readonly number: Intl.NumberFormat;
}

const formats = new Map<string, Formats>();

function fmt(): Formats {
  const l = locale();
  let f = formats.get(l);
  if (f === undefined) {
    f = {
      date: new Intl.DateTimeFormat(l, { day: 'numeric', month: 'short', year: 'numeric', timeZone: TZ }),
      dateTime: new Intl.DateTimeFormat(l, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: TZ }),
      time: new Intl.DateTimeFormat(l, { hour: '2-digit', minute: '2-digit', timeZone: TZ }),
      number: new Intl.NumberFormat(l, { maximumFractionDigits: 3 }),
    };
    formats.set(l, f);
  }
  return f;
}

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
  return Number.isNaN(t) ? value : fmt().date.format(t);
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
  return Number.isNaN(t) ? value : fmt().dateTime.format(t);
}

/**
 * @param value - an ISO date-time
 * @returns e.g. "14.35"
 */
export function formatTime(value: string | number): string {
  return fmt().time.format(typeof value === 'number' ? value : Date.parse(value));
}

/**
 * @param value - a number
 * @returns e.g. "6,4" or "1.234"
 */
export function formatNumber(value: number | undefined): string {
  return value === undefined ? '' : fmt().number.format(value);
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
