/**
 * Danish health identifiers: checks and deterministic synthetic generators for CPR, eCPR (X and D), SOR, GLN, CVR,
 * ydernummer, authorisation ID and KOMBIT organisation ids, plus municipality and region codes, agreeing with the
 * identifier profiles of DK-core 3.8.0 (`hl7.fhir.dk.core`). See the role files for the rules and their sources.
 */
export type { Checked } from './checked.ts';
export { D_ECPR_SYSTEMS, GLN_HTTPS_MISSPELLING, IdentifierSystem } from './systems.ts';
export type { CprInfo, Sex } from './cpr.ts';
export { CPR_MAX_BIRTH_DATE, CPR_MIN_BIRTH_DATE, checkCpr, cprBirthYear, cprCenturyDigits, cprSerialCount, formatCpr, makeCpr } from './cpr.ts';
export type { EcprInfo, EcprKind } from './ecpr.ts';
export { ECPR_SERIALS_PER_DATE, checkEcpr, makeEcpr } from './ecpr.ts';
export {
  CVR_SERIALS,
  SOR_SERIALS,
  YDERNUMMER_SERIALS,
  checkCvr,
  checkGln,
  checkKombitOrgId,
  checkSor,
  checkYdernummer,
  makeCvr,
  makeGln,
  makeKombitOrgId,
  makeSor,
  makeYdernummer,
} from './organisation.ts';
export { AUTHORIZATION_ID_ALPHABET, AUTHORIZATION_ID_SERIALS, checkAuthorizationId, makeAuthorizationId } from './authorization.ts';
export type { CodeInfo } from './geography.ts';
export { DANISH_MUNICIPALITIES, DANISH_REGIONS, GREENLAND_MUNICIPALITIES, checkMunicipalityCode, checkRegionCode } from './geography.ts';
export { checkIdentifier } from './identifier.ts';
export { cprModulus11, cvrModulus11, gs1CheckDigit, verhoeffCheckDigit, verhoeffValid } from './checksums.ts';
export {
  DK_CORE_AUTHORIZATION_PATTERN,
  DK_CORE_CPR_PATTERN,
  DK_CORE_CVR_PATTERN,
  DK_CORE_D_ECPR_PATTERN,
  DK_CORE_GLN_PATTERN,
  DK_CORE_KOMBIT_ORG_PATTERN,
  DK_CORE_SOR_PATTERN,
  DK_CORE_X_ECPR_PATTERN,
} from './profiles.ts';
