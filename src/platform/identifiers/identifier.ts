/**
 * Dispatch from a FHIR `Identifier.system` to the check for its value, with DK-core's rules for `Identifier.value`.
 */
import { checkAuthorizationId } from './authorization.ts';
import type { Checked } from './checked.ts';
import { failed, show } from './checked.ts';
import { checkCpr } from './cpr.ts';
import { checkEcpr } from './ecpr.ts';
import { checkMunicipalityCode, checkRegionCode } from './geography.ts';
import { checkCvr, checkGln, checkKombitOrgId, checkSor, checkYdernummer } from './organisation.ts';
import { D_ECPR_SYSTEMS, GLN_HTTPS_MISSPELLING, IdentifierSystem } from './systems.ts';

function checkEcprOfKind(value: string, kind: 'X' | 'D', system: string): ReturnType<typeof checkEcpr> {
  const r = checkEcpr(value);
  if (r.ok && r.value.kind !== kind) {
    const digit = value[6]!;
    return failed(
      kind === 'X'
        ? `${show(value)} is a D-eCPR (century digit ${digit}), not an X-eCPR: under ${system} the century digit (position 7) must be 1 or 7. Use a D-eCPR system (e.g. ${IdentifierSystem.dEcpr}) for it.`
        : `${show(value)} is an X-eCPR (century digit ${digit}), not a D-eCPR: under ${system} the century digit (position 7) must be 0, 5 or 6. Use ${IdentifierSystem.xEcpr} for it.`,
    );
  }
  return r;
}

/**
 * Checks an identifier value by its system, as DK-core 3.8.0 constrains `Identifier.value` for that system.
 *
 * Differences from the stand-alone checks: a CPR number must be the bare 10 digits (DK-core's maxLength 10 and regex
 * exclude the hyphen), and X-eCPR/D-eCPR systems accept only their own kind. `https://www.gs1.org/gln` (a misspelling
 * found in DK-core's examples) is checked as a GLN with a warning that the system is wrong.
 *
 * @param system - the identifier's system URI
 * @param value - the identifier's value
 * @returns the check result, or undefined when the system is not one this module knows
 */
export function checkIdentifier(system: string, value: string): Checked<unknown> | undefined {
  if (D_ECPR_SYSTEMS.includes(system)) {
    return checkEcprOfKind(value, 'D', system);
  }
  switch (system) {
    case IdentifierSystem.cpr:
      if (typeof value === 'string' && /^\d{6}-\d{4}$/.test(value)) {
        return failed(`${show(value)} is written with a hyphen, but a CPR identifier value must be the 10 digits only (DK-core dk-core-cpr-identifier: maxLength 10), e.g. ${value.replace('-', '')}.`);
      }
      return checkCpr(value);
    case IdentifierSystem.xEcpr:
      return checkEcprOfKind(value, 'X', system);
    case IdentifierSystem.sor:
      return checkSor(value);
    case IdentifierSystem.ydernummer:
      return checkYdernummer(value);
    case IdentifierSystem.cvr:
      return checkCvr(value);
    case IdentifierSystem.gln:
      return checkGln(value);
    case GLN_HTTPS_MISSPELLING: {
      const r = checkGln(value);
      return r.ok
        ? { ...r, warnings: [...r.warnings, `The system ${GLN_HTTPS_MISSPELLING} is not DK-core's GLN system: use ${IdentifierSystem.gln} (http, not https), or the identifier will not match the EAN-ID slice.`] }
        : r;
    }
    case IdentifierSystem.authorization:
      return checkAuthorizationId(value);
    case IdentifierSystem.kombitOrg:
      return checkKombitOrgId(value);
    case IdentifierSystem.municipalityCode:
      return checkMunicipalityCode(value);
    case IdentifierSystem.municipalityCodeGreenland:
      return checkMunicipalityCode(value, true);
    case IdentifierSystem.regionCode:
      return checkRegionCode(value);
    default:
      return undefined;
  }
}
