import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CodeSystem, Endpoint, Organization, Practitioner } from '@medplum/fhirtypes';
import { countRows, createTestDatabase, loadTestConfig, sharedValidator } from '../../../test/support.ts';
import type { TestDatabase } from '../../../test/support.ts';
import { initFhirPlatform } from '../fhir/platform.ts';
import { FhirRepository } from '../fhir/repo.ts';
import { IdentifierSystem, checkAuthorizationId, checkCvr, checkGln, checkSor } from '../identifiers/index.ts';
import { CodeSystemUri, MUNICIPALITIES, REGIONS, loadReferenceData, referenceCounts, referenceData } from './index.ts';

const PACKAGES = loadTestConfig().fhirPackagesRoot!;

function packageJson<T>(pkg: string, file: string): T {
  return JSON.parse(readFileSync(path.join(PACKAGES, pkg, 'package', file), 'utf8')) as T;
}

describe('reference data', () => {
  const ref = referenceData();

  it('has the 98 municipalities and 5 regions with the codes and names of DK-core', () => {
    const cs = packageJson<CodeSystem>('hl7.fhir.dk.core#3.8.0', 'CodeSystem-dk-core-municipality-codes.json');
    const names = new Map((cs.concept ?? []).map((c) => [c.code, c.display]));
    assert.equal(MUNICIPALITIES.length, 98);
    assert.equal(new Set(MUNICIPALITIES.map((m) => m.code)).size, 98);
    for (const m of MUNICIPALITIES) {
      assert.equal(names.get(m.code), m.name, `municipality ${m.code}`);
    }
    // The code system also holds Christiansø (0411), which is not a municipality.
    assert.deepEqual([...names.keys()].filter((c) => !MUNICIPALITIES.some((m) => m.code === c)), ['0411']);
    const regionCodes = packageJson<{ compose: { include: { concept: { code: string }[] }[] } }>('hl7.fhir.dk.core#3.8.0', 'ValueSet-dk-core-RegionalSubDivisionCodes.json');
    assert.deepEqual(REGIONS.map((r) => r.iso).sort(), regionCodes.compose.include[0]!.concept.map((c) => c.code).sort());
    const perRegion = new Map<string, number>();
    for (const m of MUNICIPALITIES) {
      perRegion.set(m.region, (perRegion.get(m.region) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(perRegion), { 'DK-84': 29, 'DK-85': 17, 'DK-83': 22, 'DK-82': 19, 'DK-81': 11 });
  });

  it('gives every organisation valid, unique SOR and GLN numbers, and the right extra identifiers', () => {
    const sors = new Set<string>();
    const glns = new Set<string>();
    for (const o of ref.organizations) {
      const sor = o.identifier?.find((i) => i.system === IdentifierSystem.sor)?.value;
      assert.ok(sor !== undefined && checkSor(sor).ok, `${o.id} SOR`);
      assert.ok(!sors.has(sor), `duplicate SOR ${sor}`);
      sors.add(sor);
      const gln = o.identifier?.find((i) => i.system === IdentifierSystem.gln)?.value;
      if (gln !== undefined) {
        assert.ok(checkGln(gln).ok, `${o.id} GLN`);
        assert.ok(!glns.has(gln), `duplicate GLN ${gln}`);
        glns.add(gln);
      }
      const cvr = o.identifier?.find((i) => i.system === IdentifierSystem.cvr)?.value;
      if (cvr !== undefined) {
        assert.ok(checkCvr(cvr).ok, `${o.id} CVR`);
      }
    }
    for (const clinics of ref.gpClinics.values()) {
      for (const c of clinics) {
        const org = ref.organizations.find((o) => o.id === c.id)!;
        assert.equal(org.identifier?.find((i) => i.system === IdentifierSystem.ydernummer)?.value, c.ydernummer);
        assert.equal(org.partOf?.reference, `Organization/${ref.regionIds.get(MUNICIPALITIES.find((m) => m.code === c.municipality)!.region)!}`);
        assert.ok(c.doctors.length >= 1);
      }
    }
    const kommune = ref.organizations.find((o) => o.id === 'kommune-0751')!;
    assert.deepEqual(kommune.identifier?.find((i) => i.system === IdentifierSystem.municipalityCode), { system: IdentifierSystem.municipalityCode, value: '0751' });
  });

  it('builds an SOR-like hierarchy: region → hospital → department, municipality → home nursing', () => {
    const byId = new Map(ref.organizations.map((o) => [o.id!, o]));
    const chain = (id: string): string[] => {
      const out: string[] = [];
      let o: Organization | undefined = byId.get(id);
      while (o !== undefined) {
        out.push(o.id!);
        o = o.partOf === undefined ? undefined : byId.get(o.partOf.reference!.slice('Organization/'.length));
      }
      return out;
    };
    assert.deepEqual(chain('hosp-auh-cardiology'), ['hosp-auh-cardiology', 'hosp-auh', 'region-dk-82']);
    assert.deepEqual(chain('hjemmesygepleje-0751'), ['hjemmesygepleje-0751', 'kommune-0751']);
    for (const o of ref.organizations) {
      if (o.partOf !== undefined) {
        assert.ok(byId.has(o.partOf.reference!.slice('Organization/'.length)), `${o.id} partOf resolves`);
      }
    }
    assert.equal(ref.hospitals.length >= 20, true);
    for (const region of REGIONS) {
      assert.ok((ref.hospitalsByRegion.get(region.iso) ?? []).length >= 2, region.name);
    }
  });

  it('records the MedCom message types each unit accepts as Endpoint.payloadType', () => {
    const events = packageJson<CodeSystem>('medcom.fhir.dk.terminology#2.0.1', 'CodeSystem-medcom-messaging-eventCodes.json');
    const known = new Set((events.concept ?? []).map((c) => c.code));
    const endpoints = new Map(ref.endpoints.map((e) => [e.id!, e]));
    const accepts = (orgId: string): string[] => {
      const org = ref.organizations.find((o) => o.id === orgId)!;
      const ep: Endpoint | undefined = org.endpoint?.[0] === undefined ? undefined : endpoints.get(org.endpoint[0].reference!.slice('Endpoint/'.length));
      return (ep?.payloadType ?? []).map((p) => p.coding![0]!.code!);
    };
    for (const e of ref.endpoints) {
      assert.equal(e.managingOrganization?.reference?.startsWith('Organization/'), true);
      for (const p of e.payloadType ?? []) {
        const c = p.coding?.[0];
        assert.equal(c?.system, CodeSystemUri.medcomMessagingEvent);
        assert.ok(c?.code !== undefined && known.has(c.code), c?.code);
      }
    }
    assert.ok(accepts('hjemmesygepleje-0751').includes('hospital-notification-message'));
    assert.ok(accepts('gp-0751-01').includes('care-communication-message'));
    assert.ok(!accepts('hosp-auh-cardiology').includes('hospital-notification-message'));
    assert.deepEqual(accepts('apotek-0751-1'), []);
  });

  it('gives practitioners valid authorisation ids and a role at an existing organisation', () => {
    const orgs = new Set(ref.organizations.map((o) => o.id));
    const practitioners = new Map(ref.practitioners.map((p) => [p.id!, p]));
    const auth = new Set<string>();
    for (const p of ref.practitioners) {
      const id = p.identifier?.find((i) => i.system === IdentifierSystem.authorization)?.value;
      if (p.id === ref.demo.operator.practitionerId) {
        assert.equal(id, undefined);
        continue;
      }
      assert.ok(id !== undefined && checkAuthorizationId(id).ok, `${p.id} authorisation id`);
      assert.ok(!auth.has(id), `duplicate authorisation id ${id}`);
      auth.add(id);
    }
    for (const r of ref.roles) {
      assert.ok(orgs.has(r.organization!.reference!.slice('Organization/'.length)), r.id);
      const p: Practitioner | undefined = practitioners.get(r.practitioner!.reference!.slice('Practitioner/'.length));
      assert.ok(p !== undefined, r.id);
    }
  });

  it('validates against base R4 and DK-core without errors', async () => {
    const validator = await sharedValidator();
    const errors: string[] = [];
    for (const r of ref.resources) {
      for (const i of validator.validate(r)) {
        if (i.severity === 'error' || i.severity === 'fatal') {
          errors.push(`${r.resourceType}/${r.id!}: ${i.diagnostics ?? ''} at ${(i.expression ?? []).join(', ')}`);
        }
      }
    }
    assert.deepEqual(errors.slice(0, 10), []);
    for (const type of ['Organization', 'Practitioner', 'PractitionerRole']) {
      assert.ok(ref.resources.filter((r) => r.resourceType === type).every((r) => (r.meta?.profile?.length ?? 0) === 1), `${type} carries its DK-core profile`);
    }
  });

  describe('loading', () => {
    let tdb: TestDatabase;
    let repo: FhirRepository;
    before(async () => {
      tdb = await createTestDatabase();
      const platform = await initFhirPlatform({ db: tdb.db, baseUrl: 'http://localhost/fhir', defaultPageSize: 20, maxPageSize: 1000, validator: await sharedValidator() });
      repo = new FhirRepository(platform);
    });
    after(async () => {
      await tdb.close();
    });

    it('loads once, and a second load writes nothing (no duplicates)', async () => {
      const total = ref.resources.length;
      const first = await loadReferenceData(repo);
      assert.equal(first.created, total);
      const rows = await countRows(tdb.db);
      assert.equal(rows.resources, total);
      const second = await loadReferenceData(repo);
      assert.deepEqual({ created: second.created, updated: second.updated, unchanged: second.unchanged }, { created: 0, updated: 0, unchanged: total });
      assert.deepEqual(await countRows(tdb.db), rows);
      const counts = referenceCounts();
      const stored = await tdb.db.query<{ resource_type: string; n: number }>('SELECT resource_type, count(*)::int AS n FROM resource GROUP BY resource_type');
      assert.deepEqual(Object.fromEntries(stored.map((r) => [r.resource_type, Number(r.n)])), counts);
    });

    it('finds organisations by municipality code, SOR and ydernummer, and endpoints by message type', async () => {
      const byCode = await repo.search('Organization', [['identifier', `${IdentifierSystem.municipalityCode}|0751`]]);
      assert.deepEqual(byCode.matches.map((m) => m.id), ['kommune-0751']);
      const clinic = ref.gpClinics.get('0751')![0]!;
      const bySor = await repo.search('Organization', [['identifier', `${IdentifierSystem.sor}|${clinic.sor}`]]);
      assert.deepEqual(bySor.matches.map((m) => m.id), [clinic.id]);
      const byYder = await repo.search('Organization', [['identifier', `${IdentifierSystem.ydernummer}|${clinic.ydernummer}`]]);
      assert.deepEqual(byYder.matches.map((m) => m.id), [clinic.id]);
      const eps = await repo.search('Endpoint', [
        ['payload-type', `${CodeSystemUri.medcomMessagingEvent}|hospital-notification-message`],
        ['organization', 'Organization/hjemmesygepleje-0751'],
      ]);
      assert.deepEqual(eps.matches.map((m) => m.id), ['ep-hjemmesygepleje-0751']);
      const npu = await repo.search('CodeSystem', [['url', CodeSystemUri.npu]]);
      assert.equal(npu.matches.length, 1);
    });
  });
});
