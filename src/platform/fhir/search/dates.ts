/**
 * FHIR dates as ranges. A date is as precise as it is written: "2020" is all of 2020, "2020-05-06"
 * the whole day, "2020-05-06T10:00:00Z" that second. Search compares these ranges
 * (https://hl7.org/fhir/R4/search.html#date). Values without a time zone are taken as UTC.
 * Ranges are half-open: [lo, hi).
 */

export interface DateRange {
  /** Inclusive lower bound, epoch milliseconds. */
  readonly lo: number;
  /** Exclusive upper bound, epoch milliseconds. */
  readonly hi: number;
}

const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** Earliest and latest instants the database stores (PostgreSQL timestamptz covers these). */

export const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999) + 1;

/**
 * @param value - a FHIR date, dateTime or instant (or a search value of the same shape)
 * @returns its range, or undefined if it is not a valid date
 */
export function dateRange(value: string): DateRange | undefined {
  const m = DATE_RE.exec(value);
  if (m === null) {
    return undefined;
  }
  const [, y, mo, d, hh, mi, ss, frac, tz] = m;
  const year = Number(y);
  const month = mo === undefined ? 1 : Number(mo);
  const day = d === undefined ? 1 : Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31) {
    return undefined;
  }
  let offsetMs = 0;
  if (tz !== undefined && tz !== 'Z') {
    const sign = tz.startsWith('-') ? -1 : 1;
    offsetMs = sign * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) * 60000;
  }
  const utc = (yy: number, mm: number, dd: number, h = 0, min = 0, s = 0, ms = 0): number => {
    const t = new Date(0);
    t.setUTCFullYear(yy, mm - 1, dd);
    t.setUTCHours(h, min, s, ms);
    return t.getTime();
  };
  if (mo === undefined) {
    return { lo: utc(year, 1, 1), hi: utc(year + 1, 1, 1) };
  }
  if (d === undefined) {
    return { lo: utc(year, month, 1), hi: month === 12 ? utc(year + 1, 1, 1) : utc(year, month + 1, 1) };
  }
  // Reject impossible days such as 2021-02-30.
  if (new Date(utc(year, month, day)).getUTCDate() !== day) {
    return undefined;
  }
  if (hh === undefined) {
    return { lo: utc(year, month, day), hi: utc(year, month, day) + 86400000 };
  }
  const h = Number(hh);
  const min = Number(mi);
  if (h > 24 || min > 59) {
    return undefined;
  }
  if (ss === undefined) {
    const lo = utc(year, month, day, h, min) - offsetMs;
    return { lo, hi: lo + 60000 };
  }
  const s = Number(ss);
  if (s > 60) {
    return undefined;
  }
  if (frac === undefined) {
    const lo = utc(year, month, day, h, min, s) - offsetMs;
    return { lo, hi: lo + 1000 };
  }
  const digits = frac.length - 1;
  const ms = Math.floor(Number(frac) * 1000);
  const lo = utc(year, month, day, h, min, s, ms) - offsetMs;
  return { lo, hi: lo + (digits >= 3 ? 1 : 10 ** (3 - digits)) };
}

/**
 * @param ms - epoch milliseconds, clamped to what the database stores
 * @returns an ISO instant for the database
 */
export function toDbTime(ms: number): string {
  if (ms <= MIN_TIME_DB) {
    return '-infinity';
  }
  if (ms >= MAX_TIME) {
    return 'infinity';
  }
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  if (y < 1) {
    return '-infinity';
  }
  const iso = d.toISOString();
  // Years 10000 and later are written +010000-…: the database reads the year without sign or zeros.
  return y <= 9999 ? iso : `${y}${iso.slice(iso.indexOf('-', 1))}`;
}

const MIN_TIME_DB = (() => {
  const t = new Date(0);
  t.setUTCFullYear(1, 0, 1);
  t.setUTCHours(0, 0, 0, 0);
  return t.getTime();
})();
