/**
 * Organisation identifiers of DK-core 3.8.0: SOR, GLN (EAN location number), CVR, ydernummer and KOMBIT/FK-ORG.
 * Each check agrees with the profile's `Identifier.value` invariants (copied in profiles.ts): a value is ok exactly
 * when the profile passes it; warnings never change that.
 *
 * `make*` functions are deterministic generators for synthetic data. Their values have the real shape and check
 * digits and may coincide with a real registration: use them only in test and synthetic environments.
 */
import { createHash } from 'node:crypto';
import type { Checked } from './checked.ts';
import { assertSerial, failed, passed, show } from './checked.ts';
import { CVR_WEIGHTS, cvrModulus11, gs1CheckDigit, verhoeffCheckDigit, weightedSum } from './checksums.ts';
import { DK_CORE_CVR_PATTERN, DK_CORE_GLN_PATTERN, DK_CORE_KOMBIT_ORG_PATTERN, DK_CORE_SOR_PATTERN } from './profiles.ts';

function describeDigits(value: string): string {
  const nonDigits = value.replace(/[0-9]/g, '');
  if (nonDigits.length > 0) {
    return `it contains ${show(nonDigits.slice(0, 5))}, which ${nonDigits.length === 1 ? 'is not a digit' : 'are not digits'}`;
  }
  return `it has ${value.length} digit${value.length === 1 ? '' : 's'}`;
}

// ---------------------------------------------------------------------------------------------------------------
// SOR

const SOR_EXAMPLE = 'e.g. 61741000016007';

/**
 * Checks a SOR code (Sundhedsvæsenets Organisationsregister). Profile `dk-core-sor-identifier`, invariant
 * `min-digits-sor`: `^([0-9]){11,}$`. Real SOR codes have the SNOMED CT identifier shape (item, namespace 1000016,
 * partition, Verhoeff check digit), but DK-core does not check that and neither does this function: DK-core's own
 * examples include `12345678901`.
 *
 * @param value - the SOR code
 * @returns the code, or an error saying what is wrong
 */
export function checkSor(value: string): Checked<string> {
  if (typeof value !== 'string') {
    return failed(`A SOR code must be a string of at least 11 digits, ${SOR_EXAMPLE}; got ${show(value)}.`);
  }
  if (DK_CORE_SOR_PATTERN.test(value)) {
    return passed(value);
  }
  return failed(`${show(value)} is not a SOR code: a SOR code is at least 11 digits and nothing else (DK-core dk-core-sor-identifier), ${SOR_EXAMPLE}; ${describeDigits(value)}.`);
}

/** How many distinct serials {@link makeSor} accepts. */
export const SOR_SERIALS = 1_000_000_000;

/**
 * Makes a synthetic SOR code with the shape of real ones: item number (serial + 1), the SOR namespace `1000016`,
 * partition `00` and a Verhoeff check digit, e.g. serial 6173 gives `61741000016007`.
 *
 * @param serial - 0 to 999 999 999
 * @returns a code of 11 to 19 digits that passes {@link checkSor}
 */
export function makeSor(serial: number): string {
  assertSerial(serial, SOR_SERIALS, 'makeSor');
  const body = `${serial + 1}100001600`;
  return `${body}${verhoeffCheckDigit(body)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// GLN

const GLN_EXAMPLE = 'e.g. 5798002472264';

/**
 * Checks a GS1 Global Location Number (EAN location number). Profile `dk-core-gln-identifier`, invariants
 * `gln-length` (`^[0-9]{13}$`) and `gln-modulus-10` (GS1 check digit, weights 1,3,1,3,… from the left).
 *
 * @param value - the GLN
 * @returns the GLN, or an error saying what is wrong
 */
export function checkGln(value: string): Checked<string> {
  if (typeof value !== 'string') {
    return failed(`A GLN must be a string of 13 digits, the last a GS1 check digit, ${GLN_EXAMPLE}; got ${show(value)}.`);
  }
  if (!DK_CORE_GLN_PATTERN.test(value)) {
    return failed(`${show(value)} is not a GLN: a GLN is exactly 13 digits (DK-core gln-length), ${GLN_EXAMPLE}; ${describeDigits(value)}.`);
  }
  const expected = gs1CheckDigit(value.slice(0, 12));
  if (expected !== Number(value[12])) {
    return failed(
      `${show(value)} is not a valid GLN: its check digit is ${value[12]!} but the GS1 modulus 10 check digit of ${value.slice(0, 12)} is ${expected} (DK-core gln-modulus-10). A digit was probably mistyped; ${GLN_EXAMPLE}.`,
    );
  }
  return passed(value);
}

/**
 * Makes a synthetic GLN: the prefix, the serial zero-padded to fill 12 digits, and the GS1 check digit.
 *
 * @param serial - 0 to 10^(12 − prefix length) − 1
 * @param prefix - leading digits, default `579` (a GS1 Denmark prefix; 570–579 are Danish)
 * @returns a 13-digit GLN that passes {@link checkGln}
 */
export function makeGln(serial: number, prefix = '579'): string {
  if (typeof prefix !== 'string' || !/^[0-9]{1,11}$/.test(prefix)) {
    throw new RangeError(`makeGln: prefix must be 1 to 11 digits, got ${show(prefix)}`);
  }
  const width = 12 - prefix.length;
  assertSerial(serial, 10 ** width, 'makeGln');
  const body = `${prefix}${String(serial).padStart(width, '0')}`;
  return `${body}${gs1CheckDigit(body)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// CVR

const CVR_EXAMPLE = 'e.g. 64942212';

/**
 * Checks a CVR number (Det Centrale Virksomhedsregister). Profile `dk-core-cvr-identifier`, invariants `CVR-length`
 * (`^[0-9]{8}$`) and `CVR-modulus-11` (weights 2,7,6,5,4,3,2,1; the sum must be divisible by 11).
 *
 * @param value - the CVR number
 * @returns the number, or an error saying what is wrong
 */
export function checkCvr(value: string): Checked<string> {
  if (typeof value !== 'string') {
    return failed(`A CVR number must be a string of 8 digits that passes modulus 11, ${CVR_EXAMPLE}; got ${show(value)}.`);
  }
  if (!DK_CORE_CVR_PATTERN.test(value)) {
    return failed(`${show(value)} is not a CVR number: a CVR number is exactly 8 digits (DK-core CVR-length), ${CVR_EXAMPLE}; ${describeDigits(value)}.`);
  }
  if (!cvrModulus11(value)) {
    const rest = weightedSum(value, CVR_WEIGHTS) % 11;
    return failed(
      `${show(value)} is not a valid CVR number: it fails the modulus 11 check (digits × weights 2,7,6,5,4,3,2,1 sum to a remainder of ${rest}, not 0, modulo 11; DK-core CVR-modulus-11). A digit was probably mistyped; ${CVR_EXAMPLE}.`,
    );
  }
  return passed(value);
}

/** How many distinct serials {@link makeCvr} accepts: 900 000 six-digit stems × 9 choices of the seventh digit. */
export const CVR_SERIALS = 900_000 * 9;

/**
 * Makes a synthetic CVR number: a six-digit stem 100000 + ⌊serial / 9⌋ (so no leading zero), then the (serial mod 9)-th
 * seventh digit for which a modulus 11 check digit exists, then that check digit.
 *
 * @param serial - 0 to 8 099 999
 * @returns an 8-digit number that passes {@link checkCvr}
 */
export function makeCvr(serial: number): string {
  assertSerial(serial, CVR_SERIALS, 'makeCvr');
  const stem = String(100_000 + Math.floor(serial / 9));
  let wanted = serial % 9;
  const stemSum = weightedSum(stem, CVR_WEIGHTS);
  for (let d7 = 0; d7 <= 9; d7++) {
    // Weight of the check digit is 1, so it is minus the rest of the sum, modulo 11; 10 means no digit fits.
    const check = (11 - ((stemSum + CVR_WEIGHTS[6]! * d7) % 11)) % 11;
    if (check <= 9) {
      if (wanted === 0) {
        return `${stem}${d7}${check}`;
      }
      wanted--;
    }
  }
  // 2·d7 takes ten different values modulo 11, so at most one d7 lacks a check digit and nine always remain.
  throw new Error('makeCvr: unreachable');
}

// ---------------------------------------------------------------------------------------------------------------
// Ydernummer

const YDERNUMMER_EXAMPLE = 'e.g. 077410 or 77410';

/**
 * Checks a ydernummer (provider number from the regions' yderregister, used for GP and specialist practices).
 *
 * DK-core defines no profile for it, only the Organization slice `Ydernummer` with a fixed system and a required
 * value (`StructureDefinition-dk-core-organization.json`), and its example uses `77410`. So only an empty value is an
 * error here, and a value that is not 5 or 6 digits gets a warning. Ydernumre are written with 6 digits or, without
 * the leading zero, 5; identifiers compare as exact strings, so `077410` and `77410` do not find each other: pick
 * one form per data source.
 *
 * @param value - the ydernummer
 * @returns the value, with a warning when it does not look like a ydernummer, or an error when it is empty
 */
export function checkYdernummer(value: string): Checked<string> {
  if (typeof value !== 'string' || value.trim().length === 0) {
    return failed(`A ydernummer must be a non-empty string, normally 5 or 6 digits, ${YDERNUMMER_EXAMPLE}; got ${show(value)}.`);
  }
  const warnings = /^[0-9]{5,6}$/.test(value)
    ? []
    : [`${show(value)} does not look like a ydernummer (5 or 6 digits, ${YDERNUMMER_EXAMPLE}). DK-core does not constrain the format, so it is accepted.`];
  return passed(value, warnings);
}

/** How many distinct serials {@link makeYdernummer} accepts. */
export const YDERNUMMER_SERIALS = 900_000;

/**
 * Makes a synthetic ydernummer: 100000 + serial, six digits without a leading zero (so there is only one way to write
 * it).
 *
 * @param serial - 0 to 899 999
 * @returns a 6-digit ydernummer
 */
export function makeYdernummer(serial: number): string {
  assertSerial(serial, YDERNUMMER_SERIALS, 'makeYdernummer');
  return String(100_000 + serial);
}

// ---------------------------------------------------------------------------------------------------------------
// KOMBIT / FK-ORG

const KOMBIT_EXAMPLE = 'e.g. urn:uuid:a107fd1e-9f35-422c-9d1e-add097bbf4a6';
const KOMBIT_EXACT = new RegExp(`^${DK_CORE_KOMBIT_ORG_PATTERN.source}$`);

/**
 * Checks a KOMBIT (FK Organisation) organisation unit id. Profile `dk-core-kombit-org-identifier`, invariant `uuid`:
 * `matches('urn:uuid:[0-9a-f]{8}-…-[0-9a-f]{12}')`. The profile's regex is not anchored, and FHIRPath `matches()` is a
 * partial match, so a value with text around the URN passes the profile: it is ok here too, with a warning. Upper-case
 * hex digits fail the profile and are an error.
 *
 * @param value - `urn:uuid:` followed by a lower-case UUID
 * @returns the value, or an error saying what is wrong
 */
export function checkKombitOrgId(value: string): Checked<string> {
  if (typeof value !== 'string') {
    return failed(`A KOMBIT organisation id must be a string urn:uuid:<lower-case UUID>, ${KOMBIT_EXAMPLE}; got ${show(value)}.`);
  }
  if (!DK_CORE_KOMBIT_ORG_PATTERN.test(value)) {
    const why = DK_CORE_KOMBIT_ORG_PATTERN.test(value.toLowerCase())
      ? 'the UUID must be written in lower case'
      : /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(value)
        ? 'the UUID must be prefixed with urn:uuid:'
        : 'it must be urn:uuid: followed by a UUID of 8-4-4-4-12 lower-case hex digits';
    return failed(`${show(value)} is not a KOMBIT organisation id (DK-core dk-core-kombit-org-identifier): ${why}, ${KOMBIT_EXAMPLE}.`);
  }
  const warnings = KOMBIT_EXACT.test(value)
    ? []
    : [`${show(value)} contains a urn:uuid but also other text. DK-core's regex is unanchored so it passes, but the value should be exactly urn:uuid:<UUID>, ${KOMBIT_EXAMPLE}.`];
  return passed(value, warnings);
}

/**
 * Makes a synthetic KOMBIT organisation id: a name-based UUID (SHA-1 of the serial, version 5 layout), so the same
 * serial always gives the same id.
 *
 * @param serial - a non-negative safe integer
 * @returns `urn:uuid:` and a lower-case UUID
 */
export function makeKombitOrgId(serial: number): string {
  assertSerial(serial, Number.MAX_SAFE_INTEGER, 'makeKombitOrgId');
  const hash = createHash('sha1').update(`dsd:synthetic:kombit-org:${serial}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
