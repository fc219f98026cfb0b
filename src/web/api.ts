import { t } from './i18n.ts';
import type { Bundle, OperationOutcome, Organization, Parameters, Practitioner, PractitionerRole, Reference, Resource, ResourceType } from '@medplum/fhirtypes';

/**
 * The typed FHIR client every page uses. It talks only to the platform's `/fhir` API with the
 * user's bearer token; what the user may see is decided by the server (access control, blocks,
 * værdispring) and every call is in the audit trail.
 */

/** A failed FHIR call, with a message that says what to do. */
export class FhirError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Search parameters: each value once, or several times. */
export type SearchParams = Record<string, string | readonly string[] | undefined>;

function query(params: SearchParams): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    for (const one of typeof v === 'string' ? [v] : (v ?? [])) {
      q.append(k, one);
    }
  }
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

function friendlyMessage(status: number, outcome: OperationOutcome | undefined): string {
  const detail = outcome?.issue?.[0]?.details?.text ?? outcome?.issue?.[0]?.diagnostics;
  switch (status) {
    case 401:
      return t('Du er ikke logget ind længere. Log ind igen for at fortsætte.', 'You are no longer logged in. Log in again to continue.');
    case 403:
      return t('Du har ikke adgang til at gøre dette. Kontakt din arbejdsplads eller support, hvis du mener, det er en fejl.', 'You are not allowed to do this. Contact your workplace or support if you think this is a mistake.');
    case 404:
      return t('Oplysningerne findes ikke, eller du har ikke adgang til dem.', 'The information does not exist, or you do not have access to it.');
    case 0:
      return t('Der er ingen forbindelse til Digital Sundhed Danmark. Tjek din internetforbindelse, og prøv igen.', 'There is no connection to Digital Sundhed Danmark. Check your internet connection and try again.');
    default:
      if (status >= 500) {
        return t('Der opstod en fejl hos Digital Sundhed Danmark. Prøv igen om lidt.', 'Something went wrong at Digital Sundhed Danmark. Try again in a moment.');
      }
      return `${t('Forespørgslen blev afvist', 'The request was refused')}${detail === undefined ? '' : `: ${detail}`}. ${t('Ret oplysningerne, og prøv igen.', 'Correct the details and try again.')}`;
  }
}

/** The client, bound to one access token. */
export class FhirClient {
  private readonly base: string;
  private readonly token: string;
  private readonly onUnauthorized: () => void;

  /**
   * @param base - the FHIR base URL (`<DSD_BASE_URL>/fhir`)
   * @param token - the access token
   * @param onUnauthorized - called when the server no longer accepts the token
   */
  constructor(base: string, token: string, onUnauthorized: () => void) {
    this.base = base.replace(/\/$/, '');
    this.token = token;
    this.onUnauthorized = onUnauthorized;
  }

  /**
   * Sends one request.
   * @param method - HTTP method
   * @param path - path below the FHIR base (or a full URL from a Bundle link)
   * @param body - JSON body
   * @returns the parsed body (undefined when empty)
   */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = path.startsWith('http') ? path : `${this.base}/${path.replace(/^\//, '')}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/fhir+json', ...(body === undefined ? {} : { 'content-type': 'application/fhir+json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      throw new FhirError(0, friendlyMessage(0, undefined));
    }
    const text = await res.text();
    const parsed = text === '' ? undefined : (JSON.parse(text) as unknown);
    if (!res.ok) {
      if (res.status === 401) {
        this.onUnauthorized();
      }
      throw new FhirError(res.status, friendlyMessage(res.status, parsed as OperationOutcome | undefined));
    }
    return parsed as T;
  }

  /**
   * Reads one resource.
   * @param type - resource type
   * @param id - id
   * @returns the resource
   */
  read<T extends Resource>(type: T['resourceType'], id: string): Promise<T> {
    return this.request<T>('GET', `${type}/${encodeURIComponent(id)}`);
  }

  /**
   * Searches and returns the Bundle (one page).
   * @param type - resource type
   * @param params - search parameters
   * @returns the Bundle
   */
  searchBundle(type: ResourceType, params: SearchParams): Promise<Bundle> {
    return this.request<Bundle>('GET', `${type}${query(params)}`);
  }

  /**
   * Searches and returns the matched resources of the given type (following `next` links up to `maxPages`).
   * @param type - resource type
   * @param params - search parameters
   * @param maxPages - at most this many pages
   * @returns the matches (included resources are left out)
   */
  async search<T extends Resource>(type: T['resourceType'], params: SearchParams, maxPages = 5): Promise<T[]> {
    const out: T[] = [];
    let bundle = await this.searchBundle(type, params);
    for (let page = 1; ; page++) {
      for (const e of bundle.entry ?? []) {
        if (e.resource?.resourceType === type && e.search?.mode !== 'include') {
          out.push(e.resource as T);
        }
      }
      const next = bundle.link?.find((l) => l.relation === 'next')?.url;
      if (next === undefined || page >= maxPages) {
        return out;
      }
      bundle = await this.request<Bundle>('GET', next);
    }
  }

  /**
   * All resources in a patient's record that the user may see (`Patient/{id}/$everything`, every page).
   * @param patientId - the patient
   * @returns the resources
   */
  async everything(patientId: string): Promise<Resource[]> {
    const out: Resource[] = [];
    let next: string | undefined = `Patient/${encodeURIComponent(patientId)}/$everything?_count=1000`;
    for (let page = 0; next !== undefined && page < 20; page++) {
      const bundle: Bundle = await this.request<Bundle>('GET', next);
      for (const e of bundle.entry ?? []) {
        if (e.resource !== undefined) {
          out.push(e.resource);
        }
      }
      next = bundle.link?.find((l) => l.relation === 'next')?.url;
    }
    return out;
  }

  /**
   * Creates a resource.
   * @param resource - the resource
   * @returns the stored resource
   */
  create<T extends Resource>(resource: T): Promise<T> {
    return this.request<T>('POST', resource.resourceType, resource);
  }

  /**
   * Deletes a resource.
   * @param type - resource type
   * @param id - id
   */
  async remove(type: ResourceType, id: string): Promise<void> {
    await this.request<unknown>('DELETE', `${type}/${encodeURIComponent(id)}`);
  }

  /**
   * Calls an operation.
   * @param path - e.g. `Patient/x/$vaerdispring`
   * @param input - Parameters for POST, or undefined for GET
   * @returns the output Parameters
   */
  operation(path: string, input?: Parameters): Promise<Parameters> {
    return this.request<Parameters>(input === undefined ? 'GET' : 'POST', path, input);
  }

  /**
   * Looks up the organisations and people that references point to (one search per type), for
   * showing "where from" on every item.
   * @param refs - references (`Organization/x`, `PractitionerRole/y`, `Practitioner/z`)
   * @returns a directory of names
   */
  async directory(refs: readonly (Reference | undefined)[]): Promise<Directory> {
    const ids = (type: string): string[] => [...new Set(refs.map((r) => r?.reference ?? '').filter((r) => r.startsWith(`${type}/`)).map((r) => r.slice(type.length + 1)))];
    const dir = new Directory();
    const roleIds = ids('PractitionerRole');
    const orgIds = ids('Organization');
    const pracIds = ids('Practitioner');
    const chunks = (list: string[]): string[][] => {
      const out: string[][] = [];
      for (let i = 0; i < list.length; i += 80) {
        out.push(list.slice(i, i + 80));
      }
      return out;
    };
    const found: Resource[] = [];
    for (const c of chunks(roleIds)) {
      const b = await this.searchBundle('PractitionerRole', { _id: c.join(','), _include: ['PractitionerRole:organization', 'PractitionerRole:practitioner'], _count: '200' });
      found.push(...(b.entry ?? []).flatMap((e) => (e.resource === undefined ? [] : [e.resource])));
    }
    for (const c of chunks(orgIds)) {
      found.push(...(await this.search<Organization>('Organization', { _id: c.join(','), _count: '200' })));
    }
    for (const c of chunks(pracIds)) {
      found.push(...(await this.search<Practitioner>('Practitioner', { _id: c.join(','), _count: '200' })));
    }
    for (const r of found) {
      dir.add(r);
    }
    return dir;
  }
}

/** Names of organisations, practitioners and their roles. */
export class Directory {
  private readonly byRef = new Map<string, Resource>();

  /**
   * @param r - an Organization, Practitioner or PractitionerRole
   */
  add(r: Resource): void {
    this.byRef.set(`${r.resourceType}/${r.id ?? ''}`, r);
  }

  /**
   * @param type - a resource type
   * @returns every known resource of that type
   */
  all<T extends Resource>(type: T['resourceType']): T[] {
    return [...this.byRef.values()].filter((r): r is T => r.resourceType === type);
  }

  /**
   * @param ref - a reference
   * @returns the resource it points to, when known
   */
  get<T extends Resource>(ref: string | undefined): T | undefined {
    return ref === undefined ? undefined : (this.byRef.get(ref) as T | undefined);
  }

  /**
   * The organisation behind a reference (an Organization, or a PractitionerRole's organisation).
   * @param ref - the reference
   * @returns the Organization
   */
  organization(ref: Reference | undefined): Organization | undefined {
    const r = ref?.reference;
    if (r?.startsWith('Organization/') === true) {
      return this.get<Organization>(r);
    }
    if (r?.startsWith('PractitionerRole/') === true) {
      return this.get<Organization>(this.get<PractitionerRole>(r)?.organization?.reference);
    }
    return undefined;
  }

  /**
   * A readable name for a reference: a person (with their unit) or a unit.
   * @param ref - the reference
   * @returns the name, or the reference's display, or undefined
   */
  name(ref: Reference | undefined): string | undefined {
    const r = ref?.reference;
    if (r === undefined) {
      return ref?.display;
    }
    if (r.startsWith('Organization/')) {
      return this.get<Organization>(r)?.name ?? ref?.display;
    }
    if (r.startsWith('Practitioner/')) {
      return personName(this.get<Practitioner>(r)) ?? ref?.display;
    }
    if (r.startsWith('PractitionerRole/')) {
      const role = this.get<PractitionerRole>(r);
      return personName(this.get<Practitioner>(role?.practitioner?.reference)) ?? role?.practitioner?.display ?? ref?.display;
    }
    return ref?.display;
  }
}

/**
 * A person's name as written in Denmark ("Fornavn Mellemnavn Efternavn").
 * @param r - a Patient, Practitioner or RelatedPerson
 * @param r.name - its names
 * @returns the name
 */
export function personName(r: { name?: { text?: string; given?: string[]; family?: string; use?: string }[] } | undefined): string | undefined {
  const n = r?.name?.find((x) => x.use === 'official') ?? r?.name?.[0];
  if (n === undefined) {
    return undefined;
  }
  return n.text ?? [...(n.given ?? []), n.family ?? ''].join(' ').trim();
}
