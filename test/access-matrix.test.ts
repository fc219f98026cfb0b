import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Observation } from '@medplum/fhirtypes';
import { citizenToken, professionalToken, systemToken } from './auth-support.ts';
import { AUTH_ID, CPR, as, block, createDemoApp, refsOf } from './access-support.ts';
import type { TestApp, TestResponse } from './support.ts';

/**
 * The access matrix: every role × every way to reach data, on data the role may not see. Each
 * answer must be a refusal (404 for records out of reach, 403 for interactions the token cannot
 * do, 401 without a token) or a result without the hidden data — and the hidden data's ids,
 * the patient's CPR and names never appear in any response.
 */

interface Target {
  readonly patientId: string;
  readonly cpr: string;
  /** Observations, Conditions and Encounters of the patient. */
  readonly hidden: readonly string[];
  readonly obs: string;
}

interface Role {
  readonly name: string;
  token?: string;
  readonly target: 'louise' | 'poul';
  /** The role may see the target's Patient resource (a blocked GP still finds the patient). */
  readonly seesPatient: boolean;
  /** A resource the role may update, to try moving it to the target patient. */
  own?: { type: string; id: string };
}

let t: TestApp;
const targets: Partial<Record<'louise' | 'poul', Target>> = {};
let admin: string;

const roles: Role[] = [
  { name: 'citizen (Poul)', target: 'louise', seesPatient: false },
  { name: 'proxy (Louise acting for Emil)', target: 'poul', seesPatient: false },
  { name: 'GP blocked by the citizen', target: 'louise', seesPatient: true },
  { name: 'hospital doctor without relation', target: 'louise', seesPatient: false },
  { name: 'municipal nurse', target: 'louise', seesPatient: false },
  { name: 'lab technician', target: 'louise', seesPatient: false },
  { name: 'system client (organisations only)', target: 'louise', seesPatient: false },
  { name: 'anonymous', target: 'louise', seesPatient: false },
];

async function ids(patientId: string): Promise<Target> {
  const hidden: string[] = [];
  for (const type of ['Observation', 'Condition', 'Encounter']) {
    const r = await as(t, admin, 'GET', `/fhir/${type}?patient=Patient/${patientId}&_count=500&_elements=id`);
    assert.equal(r.status, 200, r.text);
    hidden.push(...refsOf(r.body as Bundle).map((x) => x.split('/')[1]!));
  }
  const obs = await as(t, admin, 'GET', `/fhir/Observation?patient=Patient/${patientId}&_count=1`);
  return { patientId, cpr: patientId === 'demo-citizen' ? CPR.louise : CPR.poul, hidden, obs: refsOf(obs.body as Bundle)[0]!.split('/')[1]! };
}

before(async () => {
  t = await createDemoApp();
  admin = await systemToken(t, 'system/*.cruds');
  // Relations for the roles that should have some (to Poul only): an admission at cardiology,
  // a home-nursing care team and an open lab requisition.
  const now = new Date().toISOString();
  const write = async (body: unknown): Promise<void> => {
    const r = await as(t, admin, 'POST', `/fhir/${(body as { resourceType: string }).resourceType}`, body);
    assert.equal(r.status, 201, r.text);
  };
  await write({ resourceType: 'Encounter', status: 'in-progress', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' }, subject: { reference: 'Patient/demo-copd' }, serviceProvider: { reference: 'Organization/hosp-auh-cardiology' }, period: { start: now } });
  await write({ resourceType: 'CareTeam', status: 'active', subject: { reference: 'Patient/demo-copd' }, participant: [{ member: { reference: 'Organization/hjemmesygepleje-0751' } }] });
  await write({ resourceType: 'ServiceRequest', status: 'active', intent: 'order', code: { text: 'Blodprøver' }, subject: { reference: 'Patient/demo-copd' }, performer: [{ reference: 'Organization/hosp-auh-clinicalbiochemistry' }] });
  targets.louise = await ids('demo-citizen');
  targets.poul = await ids('demo-copd');

  const louise = await citizenToken(t, CPR.louise, { scope: 'openid fhirUser launch/patient patient/*.cruds' });
  const blocked = await as(t, louise, 'POST', '/fhir/Consent', block('demo-citizen', 'person', 'Practitioner/prac-demo-gp'));
  assert.equal(blocked.status, 201, blocked.text);

  const user = 'openid fhirUser user/*.cruds';
  roles[0]!.token = await citizenToken(t, CPR.poul, { scope: 'openid fhirUser launch/patient patient/*.cruds' });
  roles[1]!.token = await citizenToken(t, CPR.louise, { actingFor: 'demo-child', scope: 'openid fhirUser launch/patient patient/*.cruds' });
  roles[2]!.token = await professionalToken(t, AUTH_ID.gp, { scope: user });
  roles[3]!.token = await professionalToken(t, AUTH_ID.hospitalDoctor, { scope: user });
  roles[4]!.token = await professionalToken(t, AUTH_ID.nurse, { scope: user });
  roles[5]!.token = await professionalToken(t, AUTH_ID.lab, { scope: user });
  roles[6]!.token = await systemToken(t, 'system/Organization.rs system/Practitioner.rs system/PractitionerRole.rs');

  // What each role may write, to try moving it to the target: professionals with a relation to
  // Poul an Observation of Poul's; the citizen Poul an Observation of his own; the proxy one of Emil's.
  for (const role of roles) {
    if (role.token === undefined || role.name.startsWith('system')) {
      continue;
    }
    const subject = role.name.startsWith('proxy') ? 'demo-child' : role.name.startsWith('GP') ? 'demo-copd' : 'demo-copd';
    const obs: Observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '29463-7', display: 'Body weight' }] },
      subject: { reference: `Patient/${subject}` },
      effectiveDateTime: now,
      valueQuantity: { value: 80, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
    };
    const r = await send(role.token, 'POST', '/fhir/Observation', obs);
    if (r.status === 201) {
      role.own = { type: 'Observation', id: (r.body as Observation).id! };
    }
  }
});

after(async () => {
  await t.close();
});

/** Whether `token` occurs in `text` as a whole id (not as part of a longer one). */
function mentions(text: string, token: string): boolean {
  return new RegExp(`(?<![A-Za-z0-9.-])${token.replace(/[.]/g, '\\.')}(?![A-Za-z0-9.-])`).test(text);
}

/** Hidden ids and the CPR number in a response, apart from those the request itself named (echoed in links and not-found messages). */
function leaks(role: Role, res: TestResponse, asked: string): string[] {
  const tg = targets[role.target]!;
  const found = tg.hidden.filter((id) => mentions(res.text, id) && !mentions(asked, id));
  if (!role.seesPatient && res.text.includes(tg.cpr) && !asked.includes(tg.cpr)) {
    found.push(tg.cpr);
  }
  return found;
}

/** The request as the leak check sees it: what the caller already knew. */
let lastAsked = '';

function send(token: string | undefined, method: string, url: string, body?: unknown): Promise<TestResponse> {
  lastAsked = url + (body === undefined ? '' : JSON.stringify(body));
  return as(t, token, method, url, body);
}

function check(role: Role, res: TestResponse, allowed: readonly number[], what: string): void {
  const expected = role.token === undefined ? [401] : allowed;
  assert.ok(expected.includes(res.status), `${role.name}: ${what} answered ${res.status}, expected ${expected.join('/')}: ${res.text.slice(0, 300)}`);
  assert.deepEqual(leaks(role, res, lastAsked), [], `${role.name}: ${what} leaked hidden data: ${res.text.slice(0, 600)}`);
}

describe('access matrix: no role reaches data it may not see', () => {
  it('the setup gives the professionals the intended relations (control)', async () => {
    const doctor = roles[3]!;
    const r = await as(t, doctor.token, 'GET', `/fhir/Observation?patient=Patient/demo-copd&_count=1`);
    assert.equal(r.status, 200);
    assert.equal((r.body as Bundle).entry?.length, 1, 'the doctor sees the admitted patient');
    const gp = roles[2]!;
    const p = await as(t, gp.token, 'GET', '/fhir/Observation?patient=Patient/demo-copd&_count=1');
    assert.equal((p.body as Bundle).entry?.length, 1, 'the GP sees a listed patient who did not block them');
    const self = await as(t, roles[0]!.token, 'GET', '/fhir/Observation?_count=1');
    assert.equal((self.body as Bundle).entry?.length, 1, 'the citizen sees own data');
  });

  for (const role of roles) {
    describe(role.name, () => {
      const tg = (): Target => targets[role.target]!;
      it('read, vread and history of a hidden resource', async () => {
        check(role, await send(role.token, 'GET', `/fhir/Observation/${tg().obs}`), [404, 403], 'read');
        check(role, await send(role.token, 'GET', `/fhir/Observation/${tg().obs}/_history/1`), [404, 403], 'vread');
        check(role, await send(role.token, 'GET', `/fhir/Observation/${tg().obs}/_history`), [404, 403], 'instance history');
        check(role, await send(role.token, 'GET', '/fhir/Observation/_history?_count=1000'), [200, 403], 'type history');
        check(role, await send(role.token, 'GET', '/fhir/_history?_count=1000'), [200, 403], 'system history');
        const p = await send(role.token, 'GET', `/fhir/Patient/${tg().patientId}`);
        check(role, p, role.seesPatient ? [200] : [404, 403], 'read Patient');
      });

      it('search, totals and paging links', async () => {
        const s = await send(role.token, 'GET', `/fhir/Observation?patient=Patient/${tg().patientId}&_total=accurate`);
        check(role, s, [200, 403], 'search by patient');
        if (s.status === 200) {
          assert.equal((s.body as Bundle).total, 0, `${role.name}: total reveals hidden rows`);
        }
        let url: string | undefined = '/fhir/Observation?_count=50&_total=accurate';
        for (let page = 0; url !== undefined && page < 40; page++) {
          const r = await send(role.token, 'GET', url);
          check(role, r, [200, 403], `page ${page}`);
          const next = (r.body as Bundle | undefined)?.link?.find((l) => l.relation === 'next')?.url;
          url = next === undefined ? undefined : next.replace('http://localhost', '');
        }
        check(role, await send(role.token, 'GET', '/fhir/Condition?_summary=count'), [200, 403], '_summary=count');
      });

      it('includes and revincludes', async () => {
        check(role, await send(role.token, 'GET', `/fhir/Patient?_id=${tg().patientId}&_revinclude=Observation:patient&_revinclude=Encounter:subject`), [200, 403], 'revinclude');
        check(role, await send(role.token, 'GET', '/fhir/Organization?_id=hosp-auh-clinicalbiochemistry,gp-0751-01,hosp-auh-emergency&_revinclude=ServiceRequest:performer&_revinclude=Encounter:service-provider&_revinclude=Patient:general-practitioner'), [200, 403], 'revinclude from shared data');
        check(role, await send(role.token, 'GET', '/fhir/Observation?_include=Observation:patient&_include=Observation:encounter&_count=200'), [200, 403], 'include');
        check(role, await send(role.token, 'GET', '/fhir/Encounter?_include=Encounter:*&_revinclude=Observation:*&_count=200'), [200, 403], 'include *');
      });

      it('chains and _has cannot probe hidden data', async () => {
        const cprQuery = encodeURIComponent(`urn:oid:1.2.208.176.1.2|${tg().cpr}`);
        const c = await send(role.token, 'GET', `/fhir/Observation?patient.identifier=${cprQuery}`);
        check(role, c, [200, 403], 'chain by CPR');
        if (c.status === 200) {
          assert.equal((c.body as Bundle).entry?.length ?? 0, 0);
        }
        check(role, await send(role.token, 'GET', '/fhir/Observation?subject:Patient.family=S%C3%B8rensen,Jensen&_count=200'), [200, 403], 'chain by name');
        const h = await send(role.token, 'GET', `/fhir/Patient?_id=${tg().patientId}&_has:Observation:patient:_id=${tg().obs}`);
        check(role, h, [200, 403], '_has oracle');
        if (h.status === 200) {
          assert.equal((h.body as Bundle).entry?.length ?? 0, 0, `${role.name}: _has revealed that a hidden Observation exists`);
        }
        check(role, await send(role.token, 'GET', `/fhir/Practitioner?_has:Encounter:participant:subject=Patient/${tg().patientId}`), [200, 403], '_has from shared data');
      });

      it('$everything', async () => {
        check(role, await send(role.token, 'GET', `/fhir/Patient/${tg().patientId}/$everything`), role.seesPatient ? [200] : [404, 403], '$everything');
      });

      it('reads embedded in batch and transaction Bundles', async () => {
        const entry = [{ request: { method: 'GET', url: `Observation/${tg().obs}` } }, { request: { method: 'GET', url: `Observation?patient=Patient/${tg().patientId}` } }];
        const b = await send(role.token, 'POST', '/fhir', { resourceType: 'Bundle', type: 'batch', entry });
        check(role, b, [200, 403], 'batch');
        if (b.status === 200) {
          const first = (b.body as Bundle).entry?.[0]?.response?.status ?? '';
          assert.match(first, /^40[34]/, `${role.name}: batch read answered ${first}`);
        }
        check(role, await send(role.token, 'POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry }), [404, 403, 400], 'transaction');
      });

      it('writes cannot move data to, or change data of, the patient', async () => {
        const hiddenObs = tg().obs;
        const body: Observation = {
          resourceType: 'Observation',
          id: hiddenObs,
          status: 'entered-in-error',
          code: { text: 'x' },
          subject: { reference: `Patient/${tg().patientId}` },
        };
        check(role, await send(role.token, 'PUT', `/fhir/Observation/${hiddenObs}`, body), [404, 403], 'update a hidden resource');
        check(role, await send(role.token, 'DELETE', `/fhir/Observation/${hiddenObs}`), [404, 403], 'delete a hidden resource');
        lastAsked = hiddenObs;
        check(role, await t.request('PATCH', `/fhir/Observation/${hiddenObs}`, JSON.stringify([{ op: 'replace', path: '/status', value: 'entered-in-error' }]), { 'content-type': 'application/json-patch+json', ...(role.token === undefined ? {} : { authorization: `Bearer ${role.token}` }) }), [404, 403], 'patch a hidden resource');
        check(role, await send(role.token, 'POST', '/fhir/Observation', { ...body, id: undefined, status: 'final' }), [403], 'create data about the patient');
        if (role.own !== undefined) {
          const mine = await send(role.token, 'GET', `/fhir/${role.own.type}/${role.own.id}`);
          assert.equal(mine.status, 200);
          const moved = { ...(mine.body as Observation), subject: { reference: `Patient/${tg().patientId}` } };
          check(role, await send(role.token, 'PUT', `/fhir/${role.own.type}/${role.own.id}`, moved), [403, 404], 'update moving a resource to the patient');
          const still = await as(t, admin, 'GET', `/fhir/${role.own.type}/${role.own.id}`);
          assert.notEqual((still.body as Observation).subject?.reference, `Patient/${tg().patientId}`, `${role.name}: the resource was moved`);
        }
        const stored = await as(t, admin, 'GET', `/fhir/Observation/${hiddenObs}`);
        assert.equal(stored.status, 200);
        assert.notEqual((stored.body as Observation).status, 'entered-in-error', `${role.name}: the hidden resource was changed`);
      });
    });
  }
});
