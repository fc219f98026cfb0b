/**
 * String normalisation for search. FHIR string search is case- and accent-insensitive
 * (https://hl7.org/fhir/R4/search.html#string). Danish letters are not accents: æ, ø and å are
 * letters of their own whose conventional spellings without them are "ae", "oe" and "aa" (as in
 * Aalborg/Ålborg, Soeren/Søren), so they fold to those, and other diacritics (é, ü, ö) are dropped.
 * Text is Unicode-normalised first, so composed and decomposed input match.
 */

const DANISH: Record<string, string> = { æ: 'ae', ø: 'oe', å: 'aa', ǿ: 'oe', ǻ: 'aa' };

/** Anything outside the printable ASCII range (space to tilde). */
const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/;

/**
 * @param s - any text
 * @returns its search form: NFC, lower case, Danish letters transliterated, other accents removed, spaces collapsed
 */
export function normalizeString(s: string): string {
  if (!NOT_PRINTABLE_ASCII.test(s)) {
    // Printable ASCII (most codes, ids and resource text) is already NFC, has no accents, and its
    // only white space is the plain space.
    const t = s.toLowerCase();
    return t.includes('  ') || t.startsWith(' ') || t.endsWith(' ') ? t.replace(/ {2,}/g, ' ').trim() : t;
  }
  let t = s.normalize('NFC').toLowerCase();
  if (NOT_PRINTABLE_ASCII.test(t)) {
    t = t
      .replace(/[æøåǿǻ]/g, (c) => DANISH[c] ?? c)
      .replace(/ß/g, 'ss')
      .normalize('NFD')
      .replace(/\p{M}/gu, '')
      .normalize('NFC');
  }
  return t.replace(/\s+/g, ' ').trim();
}

/**
 * Escapes LIKE wildcards so user text is matched literally.
 * @param s - text
 * @returns text safe inside a LIKE pattern with the default escape character
 */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
