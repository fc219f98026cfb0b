/**
 * String normalisation for search. FHIR string search is case- and accent-insensitive
 * (https://hl7.org/fhir/R4/search.html#string). Danish letters are not accents: æ, ø and å are
 * letters of their own whose conventional spellings without them are "ae", "oe" and "aa" (as in
 * Aalborg/Ålborg, Soeren/Søren), so they fold to those, and other diacritics (é, ü, ö) are dropped.
 * Text is Unicode-normalised first, so composed and decomposed input match.
 */

const DANISH: Record<string, string> = { æ: 'ae', ø: 'oe', å: 'aa', ǿ: 'oe', ǻ: 'aa' };

/**
 * @param s - any text
 * @returns its search form: NFC, lower case, Danish letters transliterated, other accents removed, spaces collapsed
 */
export function normalizeString(s: string): string {
  let t = s.normalize('NFC').toLowerCase();
  if (/[^\x20-\x7e]/.test(t)) {
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
