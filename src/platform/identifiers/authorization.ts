/**
 * Authorisation IDs of health professionals (autorisations-ID) from the Danish Patient Safety Authority's register,
 * system `https://autregweb.sst.dk`. See https://stps.dk/da/autorisation/om-autorisationer/autorisations-id/.
 *
 * Profile `dk-core-authorization-identifier`: maxLength 5 and invariant `authorization-id-format`
 * `^([b-df-hj-np-tv-zB-DF-HJ-NP-TV-Z0-9]){5}$`: five characters, each a digit or a consonant (Y counts as a
 * consonant), in either case. The register writes them in capitals (e.g. `005ML`, `CBDJ6`); lower case passes the
 * profile, so it is ok here with a warning.
 */
import type { Checked } from './checked.ts';
import { assertSerial, failed, passed, show } from './checked.ts';
import { DK_CORE_AUTHORIZATION_PATTERN } from './profiles.ts';

/** The 31 characters an authorisation ID is made of, in the order {@link makeAuthorizationId} counts in. */
export const AUTHORIZATION_ID_ALPHABET = '0123456789BCDFGHJKLMNPQRSTVWXYZ';

/** How many distinct serials {@link makeAuthorizationId} accepts: 31^5. */
export const AUTHORIZATION_ID_SERIALS = 31 ** 5;

const EXAMPLE = 'e.g. 005ML or CBDJ6';

/**
 * Checks an authorisation ID.
 *
 * @param value - five characters from digits and consonants
 * @returns the ID as given, or an error saying what is wrong
 */
export function checkAuthorizationId(value: string): Checked<string> {
  if (typeof value !== 'string') {
    return failed(`An authorisation ID must be a string of 5 characters, each a digit or a consonant (Y counts as a consonant), ${EXAMPLE}; got ${show(value)}.`);
  }
  if (!DK_CORE_AUTHORIZATION_PATTERN.test(value)) {
    const chars = Array.from(value);
    let why: string;
    if (chars.length !== 5) {
      why = `it has ${chars.length} character${chars.length === 1 ? '' : 's'}, not 5`;
    } else {
      const bad = chars.filter((c) => !/^[b-df-hj-np-tv-zB-DF-HJ-NP-TV-Z0-9]$/.test(c));
      const vowels = bad.filter((c) => /^[aeiouæøåAEIOUÆØÅ]$/.test(c));
      why =
        vowels.length > 0
          ? `it contains the vowel${vowels.length === 1 ? '' : 's'} ${vowels.join(', ')}; authorisation IDs never use vowels (Y counts as a consonant)`
          : `it contains ${bad.map((c) => show(c)).join(', ')}, which ${bad.length === 1 ? 'is' : 'are'} neither a digit nor a consonant A–Z`;
    }
    return failed(`${show(value)} is not an authorisation ID (DK-core authorization-id-format): ${why}. An authorisation ID is exactly 5 characters, each a digit or a consonant, ${EXAMPLE}.`);
  }
  const warnings = value === value.toUpperCase() ? [] : [`Authorisation ID ${show(value)} has lower-case letters; the register writes them in capitals (${value.toUpperCase()}), so compare them case-insensitively.`];
  return passed(value, warnings);
}

/**
 * Makes a synthetic authorisation ID: the serial written in base 31 over {@link AUTHORIZATION_ID_ALPHABET}, five
 * characters with leading zeros.
 *
 * @param serial - 0 to 28 629 150
 * @returns five upper-case characters that pass {@link checkAuthorizationId}
 */
export function makeAuthorizationId(serial: number): string {
  assertSerial(serial, AUTHORIZATION_ID_SERIALS, 'makeAuthorizationId');
  let rest = serial;
  let out = '';
  for (let i = 0; i < 5; i++) {
    out = AUTHORIZATION_ID_ALPHABET[rest % 31]! + out;
    rest = Math.floor(rest / 31);
  }
  return out;
}
