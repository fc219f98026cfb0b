/**
 * Calendar arithmetic on whole days (UTC day numbers), so the generator never reads the clock.
 * Times are written with the Danish offset (+02:00 from April to October, +01:00 otherwise: a
 * simplification of the real DST switch dates, good enough for synthetic data).
 */

const DAY_MS = 86_400_000;

/**
 * @param iso - `YYYY-MM-DD`
 * @returns days since 1970-01-01
 */
export function dayOf(iso: string): number {
  const [y, m, d] = iso.split('-').map(Number);
  return Math.round(Date.UTC(y!, m! - 1, d) / DAY_MS);
}

/**
 * @param day - days since 1970-01-01
 * @returns `YYYY-MM-DD`
 */
export function isoDay(day: number): string {
  let iso = ISO_CACHE.get(day);
  if (iso === undefined) {
    iso = new Date(day * DAY_MS).toISOString().slice(0, 10);
    ISO_CACHE.set(day, iso);
  }
  return iso;
}

/** Day → ISO date; days repeat a lot across a population, and Date formatting is slow. */
const ISO_CACHE = new Map<number, string>();

/**
 * @param day - a day number
 * @returns the calendar year
 */
export function yearOf(day: number): number {
  return new Date(day * DAY_MS).getUTCFullYear();
}

/**
 * @param day - a day number
 * @returns the month, 1–12
 */
export function monthOf(day: number): number {
  return new Date(day * DAY_MS).getUTCMonth() + 1;
}

/**
 * The same calendar date `years` later (29 February becomes 28 February).
 * @param day - a day number
 * @param years - years to add (may be negative)
 * @returns the day number
 */
export function addYears(day: number, years: number): number {
  const d = new Date(day * DAY_MS);
  const y = d.getUTCFullYear() + years;
  const m = d.getUTCMonth();
  const dd = Math.min(d.getUTCDate(), new Date(Date.UTC(y, m + 1, 0)).getUTCDate());
  return Math.round(Date.UTC(y, m, dd) / DAY_MS);
}

/**
 * The same day-of-month `months` later (clamped to the month's length).
 * @param day - a day number
 * @param months - months to add
 * @returns the day number
 */
export function addMonths(day: number, months: number): number {
  const d = new Date(day * DAY_MS);
  const total = d.getUTCFullYear() * 12 + d.getUTCMonth() + months;
  const y = Math.floor(total / 12);
  const m = total % 12;
  const dd = Math.min(d.getUTCDate(), new Date(Date.UTC(y, m + 1, 0)).getUTCDate());
  return Math.round(Date.UTC(y, m, dd) / DAY_MS);
}

/**
 * Whole years between two days (age).
 * @param birth - birth day
 * @param at - the day to measure at
 * @returns completed years
 */
export function yearsBetween(birth: number, at: number): number {
  const b = new Date(birth * DAY_MS);
  const a = new Date(at * DAY_MS);
  let years = a.getUTCFullYear() - b.getUTCFullYear();
  if (a.getUTCMonth() < b.getUTCMonth() || (a.getUTCMonth() === b.getUTCMonth() && a.getUTCDate() < b.getUTCDate())) {
    years--;
  }
  return years;
}

function offset(day: number): string {
  const m = Number(isoDay(day).slice(5, 7));
  return m >= 4 && m <= 10 ? '+02:00' : '+01:00';
}

/**
 * A dateTime with minutes and the Danish offset.
 * @param day - a day number
 * @param minute - minutes after midnight
 * @returns e.g. `2024-03-05T09:15:00+01:00`
 */
export function dateTime(day: number, minute: number): string {
  const m = Math.max(0, Math.min(1439, Math.round(minute)));
  return `${isoDay(day)}T${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}:00${offset(day)}`;
}

/**
 * A Danish date as written in letters (`5. marts 2024`).
 * @param day - a day number
 * @returns the text
 */
export function danishDate(day: number): string {
  const months = ['januar', 'februar', 'marts', 'april', 'maj', 'juni', 'juli', 'august', 'september', 'oktober', 'november', 'december'];
  const d = new Date(day * DAY_MS);
  return `${d.getUTCDate()}. ${months[d.getUTCMonth()]!} ${d.getUTCFullYear()}`;
}
