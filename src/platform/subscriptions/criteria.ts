import type { Subscription } from '@medplum/fhirtypes';
import type { FhirPlatform } from '../fhir/platform.ts';
import { OperationOutcomeError, badRequest } from '../fhir/outcome.ts';
import { parseSearch } from '../fhir/search/parse.ts';
import type { Channel, SubscriptionStatus } from './subscription.store.ts';

/**
 * What the platform accepts in a Subscription (R4, https://hl7.org/fhir/R4/subscription.html):
 * criteria as a search on one resource type, a rest-hook or websocket channel, and a payload that
 * is empty or `application/fhir+json`. A refusal is a 400 OperationOutcome naming the element.
 */

/** Search result parameters mean nothing for one resource's match, so criteria may not use them. */
const RESULT_PARAMETERS = new Set(['_count', '_offset', '_sort', '_include', '_revinclude', '_summary', '_elements', '_total', '_contained', '_containedType', '_format']);

/** Request headers the platform sets itself, which channel.header may not replace. */
const RESERVED_HEADERS = new Set(['host', 'content-type', 'content-length', 'transfer-encoding', 'connection', 'accept', 'expect', 'upgrade', 'te', 'trailer', 'keep-alive', 'proxy-authorization']);

/** The payload types the platform sends (R4 uses a MIME type; only JSON is spoken here). */
export const PAYLOAD_TYPES = ['application/fhir+json', 'application/json+fhir', 'application/json'];

/** A Subscription's parts once checked. */
export interface CheckedSubscription {
  readonly resourceType: string;
  /** The search parameters of the criteria, decoded. */
  readonly params: readonly (readonly [string, string])[];
  readonly channel: Channel;
  readonly endpoint: string | null;
  readonly headers: readonly string[];
  readonly payload: string | null;
  readonly status: SubscriptionStatus;
}

/**
 * Splits criteria `Type?params` into the type and decoded parameters, without checking them.
 * @param criteria - the criteria text
 * @returns type and parameters
 */
export function splitCriteria(criteria: string): { resourceType: string; params: [string, string][] } {
  const at = criteria.indexOf('?');
  const resourceType = at === -1 ? criteria : criteria.slice(0, at);
  let params: [string, string][];
  try {
    params = at === -1 ? [] : [...new URLSearchParams(criteria.slice(at + 1))];
  } catch {
    throw new OperationOutcomeError(badRequest(`Subscription.criteria er ikke korrekt kodet: ${criteria}`, ['Subscription.criteria']));
  }
  return { resourceType, params };
}

/**
 * Checks a Subscription against what the platform supports. The host of a rest-hook endpoint is
 * checked by the caller (it needs the database).
 * @param platform - the FHIR platform (its search parser and resource types)
 * @param s - the Subscription
 * @returns its parts
 */
export function checkSubscription(platform: FhirPlatform, s: Subscription): CheckedSubscription {
  const status = s.status;
  if (status !== 'requested' && status !== 'active' && status !== 'error' && status !== 'off') {
    throw new OperationOutcomeError(badRequest('Subscription.status skal være requested, active, error eller off', ['Subscription.status']));
  }
  const criteria = s.criteria ?? '';
  const { resourceType, params } = splitCriteria(criteria);
  if (!/^[A-Z][A-Za-z]+$/.test(resourceType) || !platform.defs.resourceTypes.has(resourceType)) {
    throw new OperationOutcomeError(badRequest(`Subscription.criteria skal være en søgning på én ressourcetype (Type?parametre); "${resourceType}" er ikke en ressourcetype`, ['Subscription.criteria']));
  }
  const result = params.find(([k]) => RESULT_PARAMETERS.has(k.split(':')[0] ?? k));
  if (result !== undefined) {
    throw new OperationOutcomeError(badRequest(`Subscription.criteria må ikke bruge ${result[0]}: kriteriet afgør kun, om én ressource matcher`, ['Subscription.criteria']));
  }
  try {
    // The platform's own search parser: what it refuses in a search, it refuses in criteria.
    parseSearch(resourceType, params, platform.registry, { lenient: false, defaultCount: 1, maxCount: 1, resourceTypes: platform.defs.resourceTypes });
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      throw new OperationOutcomeError(badRequest(`Subscription.criteria er ikke en gyldig søgning: ${err.outcome.issue?.[0]?.details?.text ?? 'ukendt fejl'}`, ['Subscription.criteria']));
    }
    throw err;
  }
  const type = s.channel?.type;
  if (type !== 'rest-hook' && type !== 'websocket') {
    throw new OperationOutcomeError(
      badRequest(`Subscription.channel.type "${type ?? ''}" understøttes ikke; platformen understøtter kun rest-hook og websocket (ikke email, sms eller message)`, ['Subscription.channel.type']),
    );
  }
  const payload = s.channel?.payload === undefined || s.channel.payload === '' ? null : s.channel.payload;
  if (payload !== null && !PAYLOAD_TYPES.includes(payload)) {
    throw new OperationOutcomeError(badRequest(`Subscription.channel.payload "${payload}" understøttes ikke; udelad den (kun besked) eller brug application/fhir+json`, ['Subscription.channel.payload']));
  }
  if (type === 'websocket' && payload !== null) {
    throw new OperationOutcomeError(badRequest('En websocket-kanal sender kun "ping <id>" (R4); Subscription.channel.payload skal udelades', ['Subscription.channel.payload']));
  }
  const headers = s.channel?.header ?? [];
  for (const h of headers) {
    const m = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+):[ \t]*([\x20-\x7e]*)$/.exec(h);
    if (m === null || RESERVED_HEADERS.has(m[1]!.toLowerCase())) {
      throw new OperationOutcomeError(badRequest(`Subscription.channel.header "${h.slice(0, 100)}" skal have formen "Navn: værdi" og må ikke sætte ${m === null ? 'styretegn' : m[1]!}`, ['Subscription.channel.header']));
    }
  }
  if (type === 'websocket' && headers.length > 0) {
    throw new OperationOutcomeError(badRequest('Subscription.channel.header bruges kun med rest-hook', ['Subscription.channel.header']));
  }
  const endpoint = s.channel?.endpoint ?? null;
  if (type === 'rest-hook' && endpoint === null) {
    throw new OperationOutcomeError(badRequest('En rest-hook-kanal skal have Subscription.channel.endpoint', ['Subscription.channel.endpoint']));
  }
  return { resourceType, params, channel: type, endpoint: type === 'rest-hook' ? endpoint : null, headers, payload: payload === null ? null : 'application/fhir+json', status };
}
