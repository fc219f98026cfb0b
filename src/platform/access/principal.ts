/**
 * Who is calling: the verified claims of an access token and the principal the access policy
 * decides for. The identity service issues the claims; the access layer only reads them.
 */

/** The three kinds of caller the Danish model knows. */
export type UserKind = 'citizen' | 'professional' | 'system';

/** NSIS assurance level of the login (MitID: low, substantial, high). */
export type AssuranceLevel = 'low' | 'substantial' | 'high';

/**
 * The claims of a verified access token (a signed JWT whose audience is the FHIR base URL).
 * Resource ids are plain ids (no type prefix) unless named `…Ref`.
 */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string | readonly string[];
  readonly exp: number;
  readonly iat: number;
  readonly jti: string;
  readonly client_id: string;
  /** Granted scopes, space separated (SMART App Launch v2 syntax, v1 `.read`/`.write` accepted). */
  readonly scope: string;
  readonly dsd_kind: UserKind;
  /** The logged-in user as a FHIR reference: `Patient/<id>` (citizen) or `Practitioner/<id>` (professional). */
  readonly fhirUser?: string;
  /** SMART launch context: the id of the Patient the token acts for (`patient/` scopes). */
  readonly patient?: string;
  /** Citizen: ids of every Patient the user may act for (own, children under 15, power of attorney). */
  readonly dsd_patients?: readonly string[];
  /** Professional: the PractitionerRole id the user logged in with. */
  readonly dsd_practitioner_role?: string;
  /** Professional: the Organization id of the SOR unit the user works at in this login. */
  readonly dsd_organization?: string;
  /** Professional: the role code (MedCom practitioner role, e.g. `doctor`, `nurse`). */
  readonly dsd_role?: string;
  /** Professional: the authorisation id (autorisations-ID) from the Danish Patient Safety Authority. */
  readonly dsd_authorisation_id?: string;
  /** Display name of the user (or of the system). */
  readonly name?: string;
  readonly dsd_assurance?: AssuranceLevel;
}

/** One parsed SMART scope (https://build.fhir.org/ig/HL7/smart-app-launch/scopes-and-launch-context.html). */
export interface SmartScope {
  readonly level: 'patient' | 'user' | 'system';
  /** A resource type or `*`. */
  readonly resourceType: string;
  /** Granted interactions: c(reate) r(ead) u(pdate) d(elete) s(earch). */
  readonly ops: ReadonlySet<Op>;
  /** Granular narrowing (`?category=…`) as decoded query pairs; empty when absent. */
  readonly narrowing: readonly (readonly [string, string])[];
  readonly text: string;
}

export type Op = 'c' | 'r' | 'u' | 'd' | 's';

/** The caller as the access policy sees it. */
export interface Principal {
  readonly kind: UserKind;
  readonly claims: AccessTokenClaims;
  readonly scopes: readonly SmartScope[];
  /** Reference of the acting user (`Patient/x`, `Practitioner/x`) or `Device/<client_id>` for systems. */
  readonly actorRef: string;
  readonly displayName: string;
  /** Citizen: the Patient ids this token may reach (launch context, or all acted-for with `user/` scopes). */
  readonly patientIds: readonly string[];
  /** Professional: references that identify the user as a party (`Practitioner/x`, `PractitionerRole/y`). */
  readonly personRefs: readonly string[];
  /** Professional: `Organization/<unit>` and, for blocks that include sub-units, its ancestors. */
  readonly organizationRef?: string;
  readonly organizationName?: string;
  readonly organizationAncestors: readonly string[];
}

const SCOPE_RE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]{1,63})\.(read|write|\*|c?r?u?d?s?)(?:\?(.+))?$/;

/**
 * Parses one SMART scope. Anything not understood yields undefined, so an unknown scope can
 * never widen access (it is dropped, never guessed).
 * @param text - e.g. `patient/Observation.rs?category=laboratory`
 * @returns the scope or undefined
 */
export function parseSmartScope(text: string): SmartScope | undefined {
  const m = SCOPE_RE.exec(text);
  if (m === null) {
    return undefined;
  }
  const [, level, resourceType, opText, query] = m as unknown as [string, SmartScope['level'], string, string, string | undefined];
  let ops: Op[];
  if (opText === 'read') {
    ops = ['r', 's'];
  } else if (opText === 'write') {
    ops = ['c', 'u', 'd'];
  } else if (opText === '*') {
    ops = ['c', 'r', 'u', 'd', 's'];
  } else if (opText === '') {
    return undefined;
  } else {
    ops = opText.split('') as Op[]; // ASCII letters only (checked by SCOPE_RE)
  }
  let narrowing: [string, string][] = [];
  if (query !== undefined) {
    if (resourceType === '*') {
      // A search parameter needs a resource type to mean anything.
      return undefined;
    }
    try {
      narrowing = [...new URLSearchParams(query)];
    } catch {
      return undefined;
    }
    if (narrowing.length === 0 || narrowing.some(([k, v]) => k === '' || v === '' || k.startsWith('_'))) {
      return undefined;
    }
  }
  return { level, resourceType, ops: new Set(ops), narrowing, text };
}

/**
 * Parses a space-separated scope string, dropping what is not a resource scope (openid,
 * fhirUser, launch/patient, offline_access …).
 * @param scope - the token's scope claim
 * @returns the resource scopes
 */
export function parseSmartScopes(scope: string): SmartScope[] {
  const out: SmartScope[] = [];
  for (const s of scope.split(/\s+/)) {
    const p = s === '' ? undefined : parseSmartScope(s);
    if (p !== undefined) {
      out.push(p);
    }
  }
  return out;
}
