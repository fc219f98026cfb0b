import type { SmartScope } from '../access/principal.ts';
import { parseSmartScope } from '../access/principal.ts';

/**
 * Which scopes a client may ask for and get, and how they read in Danish on the consent page.
 * See: https://build.fhir.org/ig/HL7/smart-app-launch/scopes-and-launch-context.html
 */

/** Scopes that are not resource scopes: OpenID Connect and SMART launch context. */
export const STATIC_SCOPES = ['openid', 'fhirUser', 'profile', 'launch', 'launch/patient', 'offline_access'] as const;

/** What a client may ask for: user-facing apps (patient/, user/) or backend systems (system/). */
export const ClientKind = { user: 'user', system: 'system' } as const;
export type ClientKind = (typeof ClientKind)[keyof typeof ClientKind];

/** A scope request that cannot be granted as asked. */
export class ScopeError extends Error {}

const STATICS: ReadonlySet<string> = new Set(STATIC_SCOPES);

/**
 * Splits a scope string into its distinct values.
 * @param scope - space-separated scopes (may be undefined)
 * @returns the values
 */
export function splitScopes(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(' ').filter((s) => s !== ''))];
}

/**
 * True when `inner` grants nothing beyond `outer` (same level, type equal or `*`, operations a
 * subset, and at least the narrowing of `outer`).
 * @param inner - the requested scope
 * @param outer - a registered scope
 * @returns whether inner is within outer
 */
export function scopeWithin(inner: SmartScope, outer: SmartScope): boolean {
  if (inner.level !== outer.level) {
    return false;
  }
  if (outer.resourceType !== '*' && outer.resourceType !== inner.resourceType) {
    return false;
  }
  for (const op of inner.ops) {
    if (!outer.ops.has(op)) {
      return false;
    }
  }
  return outer.narrowing.every(([k, v]) => inner.narrowing.some(([k2, v2]) => k === k2 && v === v2));
}

/**
 * The resource scopes granted for a request: every requested value must be a static scope or a
 * well-formed SMART scope of the client's kind (and, when the client registered scopes, within
 * one of them). Anything else fails the whole request: a malformed or foreign scope never
 * silently turns into a narrower token.
 * @param requested - the requested scope values
 * @param kind - user-facing or backend client
 * @param registered - the SMART scopes registered for the client (undefined: any of its kind)
 * @returns the granted values (statics included for user-facing clients)
 */
export function grantableScopes(requested: readonly string[], kind: ClientKind, registered: readonly string[] | undefined): string[] {
  const allowed = registered?.map(parseSmartScope).filter((s): s is SmartScope => s !== undefined);
  const out: string[] = [];
  for (const value of requested) {
    if (STATICS.has(value)) {
      if (kind === ClientKind.system) {
        throw new ScopeError(`scope "${value}" is not available to backend clients`);
      }
      out.push(value);
      continue;
    }
    const parsed = parseSmartScope(value);
    if (parsed === undefined) {
      throw new ScopeError(`scope "${value}" is not a SMART scope this server understands`);
    }
    if ((kind === ClientKind.system) !== (parsed.level === 'system')) {
      throw new ScopeError(kind === ClientKind.system ? `backend clients may only ask for system/ scopes, not "${value}"` : `system/ scopes are only for backend clients, not "${value}"`);
    }
    if (allowed !== undefined && !allowed.some((a) => scopeWithin(parsed, a))) {
      throw new ScopeError(`scope "${value}" is beyond what is registered for this client`);
    }
    out.push(value);
  }
  return out;
}

/**
 * Checks the scopes a third-party app registers (dynamic registration): user-facing only.
 * @param values - the registration's scope values
 * @returns undefined when fine, else what is wrong
 */
export function registrationScopeProblem(values: readonly string[]): string | undefined {
  try {
    grantableScopes(values, ClientKind.user, undefined);
    return undefined;
  } catch (err) {
    return err instanceof ScopeError ? err.message : 'invalid scope';
  }
}

const OPS_DA: Record<string, string> = { c: 'oprette', r: 'læse', u: 'ændre', d: 'slette', s: 'søge i' };
const STATIC_DA: Record<string, string> = {
  openid: 'Bekræfte over for appen, hvem du er',
  fhirUser: 'Vide, hvem du er i sundhedsdata (din egen registrering)',
  profile: 'Se dit navn',
  launch: 'Starte med den sammenhæng, du vælger',
  'launch/patient': 'Vide, hvilken person du har valgt at se data for',
  offline_access: 'Bevare adgangen, også når du ikke er logget ind (indtil du trækker den tilbage)',
};

/**
 * A scope in plain Danish for the consent page.
 * @param value - the scope
 * @returns the description
 */
export function describeScopeDa(value: string): string {
  const fixed = STATIC_DA[value];
  if (fixed !== undefined) {
    return fixed;
  }
  const s = parseSmartScope(value);
  if (s === undefined) {
    return value;
  }
  const ops = (['r', 's', 'c', 'u', 'd'] as const).filter((o) => s.ops.has(o)).map((o) => OPS_DA[o]!);
  const verbs = ops.length <= 1 ? (ops[0] ?? '') : `${ops.slice(0, -1).join(', ')} og ${ops[ops.length - 1]!}`;
  const what = s.resourceType === '*' ? 'alle typer sundhedsdata' : `data af typen ${s.resourceType}`;
  const whose = s.level === 'patient' ? 'for den valgte person' : s.level === 'user' ? 'som du selv har adgang til' : 'for systemet';
  const narrowing = s.narrowing.length === 0 ? '' : ` (kun hvor ${s.narrowing.map(([k, v]) => `${k} = ${v}`).join(' og ')})`;
  const text = `${verbs} ${what} ${whose}${narrowing}`;
  return text.charAt(0).toUpperCase() + text.slice(1);
}
