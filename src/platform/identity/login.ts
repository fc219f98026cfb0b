import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { Queryable } from '../../db/index.ts';
import type { AssuranceLevel } from '../access/principal.ts';
import type { FhirRepository } from '../fhir/repo.ts';
import { demoUsers } from '../population/demo.ts';
import type { ActingFor, LoginContext, RoleChoice } from './claims.ts';
import { findCitizen, findProfessional } from './claims.ts';
import type { QuickPick } from './pages.ts';
import { actingForPage, choicePage, citizenPage, consentPage, errorPage, professionalPage, rolePage } from './pages.ts';
import type { DsdClientMetadata } from './provider.ts';
import { ACR, RecordKind, TTL, clientScopes, describeProviderError } from './provider.ts';
import { STATIC_SCOPES, describeScopeDa, grantableScopes, splitScopes } from './scopes.ts';
import { findRecord, upsertRecord } from './store.ts';

/**
 * The development identity provider's login steps at the provider's interaction URL
 * (`/auth/interaction/<uid>`): choose citizen or professional, log in, choose whom to act for
 * or which role, consent for third-party apps, then hand login and consent back to the provider
 * in one result. The interaction cookie (SameSite=Lax, signed) must belong to the uid in the
 * URL, which makes a cross-site form post useless.
 */

/** What a step answers: a page or a redirect. */
export type StepResult = { readonly kind: 'html'; readonly status: number; readonly body: string } | { readonly kind: 'redirect'; readonly location: string };

/** The login so far, kept per interaction. */
interface LoginState {
  citizen?: { patientId: string; name: string; assurance: AssuranceLevel; actingFor: ActingFor[] };
  professional?: { practitionerId: string; name: string; authorisationId: string | undefined; roles: RoleChoice[] };
  login?: LoginContext;
}

const ASSURANCE: readonly AssuranceLevel[] = ['low', 'substantial', 'high'];

function html(body: string, status = 200): StepResult {
  return { kind: 'html', status, body };
}

/** Runs the login steps. */
export class LoginFlow {
  private readonly provider: Provider;
  private readonly db: Queryable;
  private readonly repo: FhirRepository;
  private readonly fhirBase: string;
  private readonly production: boolean;

  constructor(opts: { provider: Provider; db: Queryable; repo: FhirRepository; fhirBase: string; production: boolean }) {
    this.provider = opts.provider;
    this.db = opts.db;
    this.repo = opts.repo;
    this.fhirBase = opts.fhirBase;
    this.production = opts.production;
  }

  /**
   * Handles one request to the interaction pages.
   * @param req - the Node request (carries the interaction cookie)
   * @param res - the Node response (the provider may set cookies)
   * @param uid - the interaction uid from the URL
   * @param step - '' (start), 'borger', 'hvem', 'sundhedsperson', 'rolle', 'samtykke', 'afbryd'
   * @param form - the posted form (undefined for GET)
   * @returns the page or redirect
   */
  async handle(req: IncomingMessage, res: ServerResponse, uid: string, step: string, form: URLSearchParams | undefined): Promise<StepResult> {
    let details: Awaited<ReturnType<Provider['interactionDetails']>>;
    try {
      details = await this.provider.interactionDetails(req, res);
    } catch (err) {
      return html(errorPage('Login-sessionen findes ikke', describeProviderError(err)), 400);
    }
    if (details.uid !== uid) {
      return html(errorPage('Login-sessionen passer ikke', 'Siden hører til en anden login-session i denne browser. Gå tilbage til appen og start login forfra.'), 400);
    }
    const base = `${new URL(this.provider.issuer).pathname}/interaction/${uid}`;
    const clientId = String(details.params.client_id);
    const client = await this.provider.Client.find(clientId);
    if (client === undefined) {
      return html(errorPage('Ukendt app', 'Appen, der bad om login, findes ikke længere. Gå tilbage til appen og prøv igen.'), 400);
    }
    const meta = client.metadata() as DsdClientMetadata;
    const clientName = meta.client_name ?? clientId;
    const state = (await findRecord<LoginState>(this.db, RecordKind.loginState, uid)) ?? {};
    const save = (): Promise<void> => upsertRecord(this.db, RecordKind.loginState, uid, state, TTL.interaction);

    switch (step) {
      case '':
        if (state.login !== undefined && meta.dsd_first_party !== true) {
          return this.consent(base, clientName, state, details.params);
        }
        return html(choicePage(base, clientName, this.quickPicks(base)));
      case 'afbryd':
        return this.finish(req, res, { error: 'access_denied', error_description: 'Brugeren afbrød login' });
      case 'borger': {
        if (form === undefined) {
          return html(citizenPage(base, {}));
        }
        const cpr = (form.get('cpr') ?? '').replace(/[\s-]/g, '');
        const name = (form.get('name') ?? '').trim();
        const assuranceRaw = form.get('assurance') ?? 'substantial';
        const assurance = ASSURANCE.find((a) => a === assuranceRaw);
        const values = { cpr, name, assurance: assuranceRaw };
        if (!/^\d{10}$/.test(cpr)) {
          return html(citizenPage(base, values, 'CPR-nummeret skal være 10 cifre (fx 1403810068). Ret nummeret, og prøv igen.'), 400);
        }
        if (assurance === undefined) {
          return html(citizenPage(base, values, 'Vælg et sikringsniveau: lav, betydelig eller høj.'), 400);
        }
        const citizen = await findCitizen(this.repo, cpr);
        if (citizen === undefined) {
          return html(citizenPage(base, values, 'Der findes ingen borger med dette CPR-nummer i demo-data. Brug et af demo-brugernes CPR-numre (se forsiden), eller tjek nummeret.'), 400);
        }
        state.citizen = { patientId: citizen.patientId, name: name === '' ? citizen.name : name, assurance, actingFor: [...citizen.actingFor] };
        if (citizen.actingFor.length > 1) {
          await save();
          return { kind: 'redirect', location: `${base}/hvem` };
        }
        return this.loggedIn(req, res, base, meta, save, state, details.params, citizen.patientId);
      }
      case 'hvem': {
        const c = state.citizen;
        if (c === undefined) {
          return { kind: 'redirect', location: `${base}/borger` };
        }
        if (form === undefined) {
          return html(actingForPage(base, c.actingFor));
        }
        const chosen = form.get('patient') ?? '';
        if (!c.actingFor.some((a) => a.patientId === chosen)) {
          return html(actingForPage(base, c.actingFor, 'Vælg en af personerne på listen.'), 400);
        }
        return this.loggedIn(req, res, base, meta, save, state, details.params, chosen);
      }
      case 'sundhedsperson': {
        if (form === undefined) {
          return html(professionalPage(base, undefined));
        }
        const identifier = (form.get('identifier') ?? '').trim();
        if (!/^[A-Za-z0-9-]{1,40}$/.test(identifier)) {
          return html(professionalPage(base, identifier, 'Skriv dit autorisations-ID (fx 5DTXC) eller dit medarbejdernummer (fx OPS-0001).'), 400);
        }
        const professional = await findProfessional(this.repo, identifier);
        if (professional === undefined) {
          return html(professionalPage(base, identifier, 'Der findes ingen sundhedsperson med dette autorisations-ID eller medarbejdernummer i demo-data. Tjek ID’et, eller brug en af demo-brugerne på forsiden.'), 400);
        }
        if (professional.roles.length === 0) {
          return html(professionalPage(base, identifier, `${professional.name} har ingen aktiv rolle på et arbejdssted (PractitionerRole) i demo-data og kan derfor ikke logge ind.`), 400);
        }
        state.professional = { ...professional, roles: [...professional.roles] };
        if (professional.roles.length > 1) {
          await save();
          return { kind: 'redirect', location: `${base}/rolle` };
        }
        return this.loggedIn(req, res, base, meta, save, state, details.params, professional.roles[0]!.roleId);
      }
      case 'rolle': {
        const p = state.professional;
        if (p === undefined) {
          return { kind: 'redirect', location: `${base}/sundhedsperson` };
        }
        if (form === undefined) {
          return html(rolePage(base, p.name, p.roles));
        }
        const roleId = form.get('role') ?? '';
        if (!p.roles.some((r) => r.roleId === roleId)) {
          return html(rolePage(base, p.name, p.roles, 'Vælg en af rollerne på listen.'), 400);
        }
        return this.loggedIn(req, res, base, meta, save, state, details.params, roleId);
      }
      case 'samtykke': {
        if (state.login === undefined) {
          return { kind: 'redirect', location: base };
        }
        if (form === undefined) {
          return this.consent(base, clientName, state, details.params);
        }
        if (form.get('decision') !== 'accept') {
          return this.finish(req, res, { error: 'access_denied', error_description: 'Brugeren gav ikke appen adgang' });
        }
        return this.complete(req, res, meta, state.login, details.params);
      }
      default:
        return html(errorPage('Siden findes ikke', 'Gå tilbage til appen og start login forfra.'), 404);
    }
  }

  private quickPicks(base: string): QuickPick[] {
    if (this.production) {
      return [];
    }
    return demoUsers().map((u) => {
      const citizen = u.resource.startsWith('Patient/');
      return {
        label: `${u.name} – ${citizen ? 'borger' : 'sundhedsperson'} (${u.identifier.value})`,
        action: `${base}/${citizen ? 'borger' : 'sundhedsperson'}`,
        field: citizen ? 'cpr' : 'identifier',
        value: u.identifier.value,
      };
    });
  }

  /** The person is known: build the login context, then consent (third party) or finish. */
  private async loggedIn(
    req: IncomingMessage,
    res: ServerResponse,
    base: string,
    meta: DsdClientMetadata,
    save: () => Promise<void>,
    state: LoginState,
    params: Record<string, unknown>,
    choice: string,
  ): Promise<StepResult> {
    if (state.citizen !== undefined && state.professional === undefined) {
      const c = state.citizen;
      state.login = { kind: 'citizen', patientId: c.patientId, actingFor: choice, patients: c.actingFor.map((a) => a.patientId), name: c.name, assurance: c.assurance };
    } else if (state.professional !== undefined) {
      const p = state.professional;
      const role = p.roles.find((r) => r.roleId === choice)!;
      state.login = {
        kind: 'professional',
        practitionerId: p.practitionerId,
        roleId: role.roleId,
        organizationId: role.organizationId,
        role: role.roleCode,
        authorisationId: p.authorisationId,
        name: p.name,
        assurance: 'substantial',
      };
    } else {
      return { kind: 'redirect', location: base };
    }
    if (meta.dsd_first_party === true) {
      return this.complete(req, res, meta, state.login, params);
    }
    await save();
    return { kind: 'redirect', location: `${base}/samtykke` };
  }

  private consent(base: string, clientName: string, state: LoginState, params: Record<string, unknown>): StepResult {
    const requested = splitScopes(typeof params.scope === 'string' ? params.scope : undefined);
    const login = state.login;
    const who = login?.kind === 'citizen' ? (state.citizen?.actingFor.find((a) => a.patientId === login.actingFor)?.name ?? '') : '';
    return html(consentPage(base, clientName, who, requested.map(describeScopeDa)));
  }

  /** Creates the grant for what was asked (and is grantable), stores the login with it and returns to the provider. */
  private async complete(req: IncomingMessage, res: ServerResponse, meta: DsdClientMetadata, login: LoginContext, params: Record<string, unknown>): Promise<StepResult> {
    const requested = splitScopes(typeof params.scope === 'string' ? params.scope : undefined);
    const { kind, registered } = clientScopes(meta);
    let resourceScopes: string[];
    try {
      resourceScopes = grantableScopes(requested, kind, registered);
    } catch {
      resourceScopes = [];
    }
    const statics = new Set<string>(STATIC_SCOPES);
    const accountId = login.kind === 'citizen' ? `Patient/${login.patientId}` : `Practitioner/${login.practitionerId}`;
    const grant = new this.provider.Grant({ accountId, clientId: meta.client_id });
    const oidcScopes = requested.filter((s) => statics.has(s));
    if (oidcScopes.length > 0) {
      grant.addOIDCScope(oidcScopes.join(' '));
    }
    if (resourceScopes.length > 0) {
      grant.addResourceScope(this.fhirBase, resourceScopes.join(' '));
    }
    const grantId = await grant.save();
    await upsertRecord(this.db, RecordKind.loginContext, grantId, login, TTL.grant, grantId);
    return this.finish(req, res, {
      login: { accountId, acr: ACR[login.assurance], amr: [login.kind === 'citizen' ? 'mitid' : 'mitid-erhverv'], remember: false },
      consent: { grantId },
    });
  }

  private async finish(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>): Promise<StepResult> {
    const location = await this.provider.interactionResult(req, res, result, { mergeWithLastSubmission: false });
    return { kind: 'redirect', location };
  }
}
