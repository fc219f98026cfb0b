import type { Queryable } from '../../db/index.ts';
import { OperationOutcomeError, badRequest } from '../fhir/outcome.ts';
import { deleteDeliveryHost, deleteDeliveryUrl, findDeliveryHost, findResourceContent, insertDeliveryHost, upsertDeliveryUrl } from './messaging.store.ts';

/**
 * Delivery by HTTP to a receiving organisation's own system: the operator functions that set the
 * allow-list of hosts and the organisations' delivery URLs, and the POST itself. The dispatcher
 * (dispatcher.ts) decides what an answer means for the outbox row.
 */

/** What a POST of a message came to. */
export type HttpResult =
  | { readonly kind: 'delivered' }
  /** Worth trying again later: no connection, timeout, 5xx, 408, 429. */
  | { readonly kind: 'retry'; readonly reason: string }
  /** The receiver refused the message (other 4xx) or redirected: a dead letter at once. */
  | { readonly kind: 'refused'; readonly reason: string };

/**
 * Checks a delivery URL's form: http or https, a host, no user name or password, no fragment.
 * @param url - the URL
 * @returns the parsed URL and its host name (lower case, without port)
 */
export function parseDeliveryUrl(url: string): { url: URL; host: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OperationOutcomeError(badRequest(`Ugyldig leverings-URL: ${url}`));
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new OperationOutcomeError(badRequest(`Leverings-URL skal bruge http eller https: ${url}`));
  }
  if (parsed.username !== '' || parsed.password !== '' || parsed.hash !== '') {
    throw new OperationOutcomeError(badRequest(`Leverings-URL må ikke have brugernavn, adgangskode eller fragment: ${url}`));
  }
  return { url: parsed, host: normaliseHost(parsed.hostname) };
}

function normaliseHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

/**
 * Allows deliveries to a host (operator set-up). Only the host name counts, not the port.
 * @param db - connection
 * @param host - e.g. `messages.example-region.dk` or `127.0.0.1`
 */
export async function allowDeliveryHost(db: Queryable, host: string): Promise<void> {
  const h = normaliseHost(host.trim());
  if (h === '' || /[/:@\s]/.test(h.replace(/^\[.*\]$/, 'ipv6'))) {
    throw new OperationOutcomeError(badRequest(`Ugyldigt værtsnavn: ${host}`));
  }
  await insertDeliveryHost(db, h);
}

/**
 * Takes a host off the allow-list. Deliveries to it then become dead letters with the reason.
 * @param db - connection
 * @param host - the host name
 * @returns true when it was allowed
 */
export async function disallowDeliveryHost(db: Queryable, host: string): Promise<boolean> {
  return deleteDeliveryHost(db, normaliseHost(host.trim()));
}

/**
 * Registers where an organisation's system takes its messages (operator set-up). From then on
 * the dispatcher POSTs the organisation's messages there instead of putting them in its inbox.
 * @param db - connection
 * @param organizationId - the receiving Organization id
 * @param url - http(s) URL on an allowed host
 */
export async function registerDeliveryUrl(db: Queryable, organizationId: string, url: string): Promise<void> {
  const { host } = parseDeliveryUrl(url);
  if (!(await findDeliveryHost(db, host))) {
    throw new OperationOutcomeError(badRequest(`Værten ${host} er ikke på listen over tilladte modtagere`));
  }
  if ((await findResourceContent(db, 'Organization', organizationId)) === undefined) {
    throw new OperationOutcomeError(badRequest(`Organization/${organizationId} findes ikke`));
  }
  await upsertDeliveryUrl(db, organizationId, url);
}

/**
 * Removes an organisation's delivery URL: its messages go to its platform inbox again.
 * @param db - connection
 * @param organizationId - the receiving Organization id
 * @returns true when it had one
 */
export async function unregisterDeliveryUrl(db: Queryable, organizationId: string): Promise<boolean> {
  return deleteDeliveryUrl(db, organizationId);
}

/**
 * Whether deliveries may go to a host now (the allow-list is read at every delivery, so taking a
 * host off the list stops them at once). FHIR Subscriptions share this list.
 * @param q - connection or transaction
 * @param url - the delivery URL
 * @returns the host name, and whether it is on the list
 */
export async function checkDeliveryHost(q: Queryable, url: string): Promise<{ host: string; allowed: boolean }> {
  const { host } = parseDeliveryUrl(url);
  return { host, allowed: await findDeliveryHost(q, host) };
}

/**
 * POSTs a message Bundle. Redirects are not followed (they could lead off the allow-list).
 * @param url - the delivery URL
 * @param content - the message's exact JSON text
 * @param timeoutMs - the whole request's time limit
 * @returns what it came to
 */
export async function postMessage(url: string, content: string, timeoutMs: number): Promise<HttpResult> {
  return postDelivery(url, content, timeoutMs);
}

/**
 * POSTs a delivery (a message, a Subscription notification). Redirects are not followed (they
 * could lead off the allow-list).
 * @param url - the delivery URL
 * @param content - the JSON text sent as application/fhir+json; undefined sends no body
 * @param timeoutMs - the whole request's time limit
 * @param headers - further request headers (a Subscription's channel.header)
 * @returns what it came to
 */
export async function postDelivery(url: string, content: string | undefined, timeoutMs: number, headers: Readonly<Record<string, string>> = {}): Promise<HttpResult> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { ...headers, ...(content === undefined ? {} : { 'content-type': 'application/fhir+json' }), accept: 'application/fhir+json' },
      ...(content === undefined ? {} : { body: content }),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : 'ukendt';
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    return { kind: 'retry', reason: timedOut ? `intet svar fra ${url} inden for ${timeoutMs} ms` : `ingen forbindelse til ${url}: ${cause}` };
  }
  let body = '';
  try {
    body = (await res.text()).slice(0, 500);
  } catch {
    // The status decides; the body only explains.
  }
  if (res.status >= 200 && res.status < 300) {
    return { kind: 'delivered' };
  }
  const reason = `HTTP ${res.status} fra ${url}${body === '' ? '' : `: ${body}`}`;
  if (res.status >= 500 || res.status === 408 || res.status === 429) {
    return { kind: 'retry', reason };
  }
  return { kind: 'refused', reason: res.status >= 300 && res.status < 400 ? `${reason} (omdirigering følges ikke)` : reason };
}
