import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Observation, Patient, RelatedPerson, Resource } from '@medplum/fhirtypes';
import { createTestApp, sharedValidator } from '../../../test/support.ts';
import type { TestApp } from '../../../test/support.ts';
import { initFhirPlatform } from '../fhir/platform.ts';
import { FhirRepository } from '../fhir/repo.ts';
import { IdentifierSystem, checkCpr, cprCenturyDigits } from '../identifiers/index.ts';
import { CodeSystemUri, NPU, Profile, loadReferenceData, referenceData } from '../registers/index.ts';
import { DEMO_MARKER_ID, demoCitizenResources, demoCprs, demoUsers, ensureDemoData, generatePopulation, seedPopulation, writeChunk } from './index.ts';

const OPTIONS = { seed: 42, citizens: 30 } as const;

/** Resource types with a DK-core profile, and the profile each must carry. */
const DK_CORE: Readonly<Record<string, string>> = {
  Patient: Profile.patient,
  RelatedPerson: Profile.relatedPerson,
  Observation: Profile.observation,
  Condition: Profile.condition,
  Encounter: Profile.encounter,
  DiagnosticReport: Profile.diagnosticReport,
  ServiceRequest: Profile.serviceRequest,
};

function patients(resources: readonly Resource[]): Patient[] {
  return resources.filter((r): r is Patient => r.resourceType === 'Patient');
}

function cprOf(p: Patient): string {
  return p.identifier!.find((i) => i.system === IdentifierSystem.cpr)!.value!;
}

function withoutModulus11(p: Patient): boolean {
  const info = checkCpr(cprOf(p));
  return info.ok && !info.value.modulus11;
}

describe('synthetic population', () => {
  const population = generatePopulation(OPTIONS);
  const demo = demoCitizenResources();

  it('is deterministic: the same seed gives byte-identical resources, another seed different ones', () => {
    assert.equal(JSON.stringify(generatePopulation(OPTIONS)), JSON.stringify(population));
    assert.equal(JSON.stringify(demoCitizenResources()), JSON.stringify(demo));
    const other = generatePopulation({ ...OPTIONS, seed: 43 });
    assert.notEqual(JSON.stringify(other), JSON.stringify(population));
    assert.ok(other.every((r) => r.id!.startsWith('s43-')));
    assert.equal(patients(population).length, OPTIONS.citizens);
    assert.equal(new Set(population.map((r) => `${r.resourceType}/${r.id!}`)).size, population.length, 'ids are unique');
  });

  it('validates every resource against base R4 and the DK-core profiles it claims', async () => {
    const validator = await sharedValidator();
    const errors: string[] = [];
    const all = [...population, ...demo];
    for (const r of all) {
      for (const i of validator.validate(r)) {
        if (i.severity === 'error' || i.severity === 'fatal') {
          errors.push(`${r.resourceType}/${r.id!}: ${i.diagnostics ?? ''} at ${(i.expression ?? []).join(', ')}`);
        }
      }
      const profile = DK_CORE[r.resourceType];
      if (profile !== undefined) {
        assert.deepEqual(r.meta?.profile, [profile], `${r.resourceType}/${r.id!} carries ${profile}`);
      }
    }
    assert.deepEqual(errors.slice(0, 10), []);
    const types = new Set<string>(all.map((r) => r.resourceType));
    for (const t of ['Patient', 'RelatedPerson', 'Encounter', 'Condition', 'Observation', 'DiagnosticReport', 'ServiceRequest', 'MedicationRequest', 'MedicationStatement', 'Immunization', 'DocumentReference', 'Procedure', 'Appointment', 'QuestionnaireResponse']) {
      assert.ok(types.has(t), `the population has ${t}`);
    }
  });

  it('gives CPR numbers that agree with birth date and sex, follow the century table and are unique; some lack modulus 11', () => {
    const all = patients([...generatePopulation({ seed: 42, citizens: 120 }), ...demo]);
    const seen = new Set<string>();
    let noModulus11 = 0;
    for (const p of all) {
      const cpr = cprOf(p);
      assert.ok(!seen.has(cpr), `duplicate CPR ${cpr}`);
      seen.add(cpr);
      const info = checkCpr(cpr);
      assert.ok(info.ok, cpr);
      assert.equal(info.value.birthDate, p.birthDate, `${cpr} birth date`);
      assert.equal(info.value.sexDigit, p.gender, `${cpr} sex digit`);
      assert.ok(cprCenturyDigits(Number(p.birthDate!.slice(0, 4))).includes(Number(cpr[6])), `${cpr} century digit`);
      if (!info.value.modulus11) {
        noModulus11++;
        assert.ok(info.warnings.length > 0, 'a number without modulus 11 is accepted with a warning');
      }
    }
    assert.ok(noModulus11 >= 2, `some citizens have numbers without modulus 11 (${noModulus11})`);
    assert.ok(patients(population).some(withoutModulus11), 'even 30 citizens include one');
    for (const c of demoCprs()) {
      assert.ok(!patients(population).some((p) => cprOf(p) === c), 'generated citizens avoid the demo CPR numbers');
    }
  });

  it('lists every citizen with a GP clinic and doctor from the reference data', () => {
    const ref = referenceData();
    const orgs = new Set(ref.organizations.map((o) => `Organization/${o.id!}`));
    const roles = new Set(ref.roles.map((r) => `PractitionerRole/${r.id!}`));
    for (const p of patients(population)) {
      const [clinic, role] = p.generalPractitioner ?? [];
      assert.ok(orgs.has(clinic!.reference!), clinic!.reference);
      assert.equal(clinic!.identifier?.system, IdentifierSystem.sor);
      assert.ok(roles.has(role!.reference!), role!.reference);
    }
  });

  it('links children to the parents who hold custody (RelatedPerson, Patient.link)', () => {
    const all = generatePopulation({ seed: 42, citizens: 120 });
    const byId = new Map(patients(all).map((p) => [p.id!, p]));
    const related = all.filter((r): r is RelatedPerson => r.resourceType === 'RelatedPerson');
    assert.ok(related.length > 0);
    for (const rp of related) {
      const child = byId.get(rp.patient.reference!.slice('Patient/'.length))!;
      assert.ok(Number(child.birthDate!.slice(0, 4)) >= 2008, 'children are under 18');
      const parentCpr = rp.identifier![0]!.value!;
      const parent = patients(all).find((p) => cprOf(p) === parentCpr)!;
      assert.ok(parent !== undefined, 'the RelatedPerson carries the parent’s CPR number');
      assert.ok(parent.link?.some((l) => l.other.reference === `RelatedPerson/${rp.id!}` && l.type === 'seealso'), 'the parent’s Patient links to it');
      assert.ok(rp.relationship?.some((c) => c.coding?.[0]?.code === 'PARAUTH'));
      assert.equal(parent.address?.[0]?.line?.[0], child.address?.[0]?.line?.[0], 'same household');
    }
  });

  it('has life-like histories: prevalences and volumes in a plausible range', () => {
    const all = generatePopulation({ seed: 7, citizens: 600 });
    const people = patients(all);
    const perCitizen = all.length / people.length;
    assert.ok(perCitizen >= 10 && perCitizen <= 40, `resources per citizen ${perCitizen.toFixed(1)}`);
    const adults = people.filter((p) => Number(p.birthDate!.slice(0, 4)) <= 2007);
    const withCode = (code: string): number => new Set(all.filter((r) => r.resourceType === 'Condition' && r.code?.coding?.some((c) => c.code === code)).map((r) => (r as { subject: { reference: string } }).subject.reference)).size;
    const share = (n: number): number => n / adults.length;
    assert.ok(share(withCode('DE119')) > 0.02 && share(withCode('DE119')) < 0.15, `type 2 diabetes ${share(withCode('DE119'))}`);
    assert.ok(share(withCode('DI10')) > 0.08 && share(withCode('DI10')) < 0.35, `hypertension ${share(withCode('DI10'))}`);
    assert.ok(withCode('DJ449') > 0, 'some COPD');
    assert.ok(all.some((r) => r.resourceType === 'DocumentReference'), 'discharge letters');
    assert.ok(all.some((r) => r.resourceType === 'ServiceRequest' && r.category?.[0]?.coding?.[0]?.code === '3457005' && r.status === 'active'), 'pending referrals');
    assert.ok(all.some((r) => r.resourceType === 'Appointment' && r.status === 'booked'), 'booked appointments');
    assert.ok(all.some((r) => r.resourceType === 'Observation' && r.method?.coding?.[0]?.code === 'measured'), 'home measurements');
    assert.ok(all.some((r) => r.resourceType === 'QuestionnaireResponse'), 'PRO answers');
  });

  it('lists the demo users with fixed identifiers', () => {
    const users = demoUsers();
    assert.deepEqual(
      users.map((u) => u.resource),
      ['Patient/demo-citizen', 'Patient/demo-child', 'Patient/demo-copd', 'Practitioner/prac-demo-gp', 'Practitioner/prac-demo-hospital-doctor', 'Practitioner/prac-demo-nurse', 'Practitioner/prac-demo-lab-technician', 'Practitioner/prac-demo-operator'],
    );
    assert.deepEqual(users.slice(0, 3).map((u) => u.identifier.value), demoCprs());
    assert.equal(JSON.stringify(demoUsers()), JSON.stringify(users));
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Demo users'));
    for (const u of users) {
      assert.ok(section.includes(`\`${u.resource}\``) && section.includes(u.identifier.value) && section.includes(u.name), `README.md lists ${u.name}`);
    }
  });

  describe('stored on the platform', () => {
    let app: TestApp;
    let repo: FhirRepository;
    before(async () => {
      app = await createTestApp();
      const platform = await initFhirPlatform({ db: app.db, baseUrl: 'http://localhost/fhir', defaultPageSize: 20, maxPageSize: 1000, validator: await sharedValidator() });
      repo = new FhirRepository(platform);
      await loadReferenceData(repo);
      await writeChunk(repo, demoCitizenResources());
      const result = await seedPopulation(repo, { ...OPTIONS, reservedCprs: demoCprs() });
      assert.equal(result.written, OPTIONS.citizens);
      assert.equal(result.resources, population.length);
    });
    after(async () => {
      await app.close();
    });

    it('finds a citizen by CPR number, also one without modulus 11', async () => {
      const stored = patients(population);
      const noMod11 = stored.find(withoutModulus11)!;
      for (const p of [stored[0]!, noMod11]) {
        const res = await app.request('GET', `/fhir/Patient?identifier=${encodeURIComponent(`${IdentifierSystem.cpr}|${cprOf(p)}`)}`);
        assert.equal(res.status, 200);
        const bundle = res.body as Bundle<Patient>;
        assert.deepEqual(bundle.entry?.map((e) => e.resource?.id), [p.id]);
      }
    });

    it('returns a lab trend by subject and NPU code', async () => {
      const code = NPU.hba1c.code;
      const res = await app.request('GET', `/fhir/Observation?subject=Patient/demo-citizen&code=${encodeURIComponent(`${CodeSystemUri.npu}|${code}`)}&_sort=date&_count=100`);
      assert.equal(res.status, 200);
      const obs = ((res.body as Bundle<Observation>).entry ?? []).map((e) => e.resource!);
      assert.ok(obs.length >= 6, `HbA1c results: ${obs.length}`);
      const dates = obs.map((o) => o.effectiveDateTime!);
      assert.deepEqual([...dates].sort(), dates);
      assert.ok(Number(dates.at(-1)!.slice(0, 4)) - Number(dates[0]!.slice(0, 4)) >= 3, 'the trend spans years');
      assert.ok(obs.every((o) => o.valueQuantity?.unit === 'mmol/mol' && o.referenceRange?.[0]?.high?.value === 48));
    });

    it('finds the children a parent holds custody of', async () => {
      const mother = demoUsers()[0]!.identifier.value;
      const res = await app.request('GET', `/fhir/RelatedPerson?identifier=${encodeURIComponent(`${IdentifierSystem.cpr}|${mother}`)}&relationship=PARAUTH`);
      assert.deepEqual(((res.body as Bundle<RelatedPerson>).entry ?? []).map((e) => e.resource!.patient.reference), ['Patient/demo-child']);
    });

    it('seeding the same seed again writes nothing; the demo marker makes a restart seed nothing', async () => {
      const again = await seedPopulation(repo, OPTIONS);
      assert.equal(again.written, 0);
      assert.ok(again.skippedChunks > 0);
      // The database holds patients but no demo marker: demo seeding leaves it alone unless it is its own.
      const demoRun = await ensureDemoData(repo, { citizens: 10 });
      assert.equal(demoRun.seeded, true, 'the demo citizen exists, so this is an interrupted demo seeding and resumes');
      const marker = await app.request('GET', `/fhir/Basic/${DEMO_MARKER_ID}`);
      assert.equal(marker.status, 200);
      const restart = await ensureDemoData(repo, { citizens: 10 });
      assert.equal(restart.seeded, false);
      // A release with changed reference data: the marker's version differs, so the reference data is reloaded.
      const stale = JSON.parse(JSON.stringify(marker.body).replace(referenceData().version, 'old-version')) as Resource;
      await repo.update(stale, DEMO_MARKER_ID, { trusted: true });
      const lines: string[] = [];
      assert.equal((await ensureDemoData(repo, { log: (l) => lines.push(l) })).seeded, false);
      assert.ok(lines.some((l) => l.startsWith('Reference data updated: 0 created, 0 updated')), lines.join('\n'));
      const updated = await app.request('GET', `/fhir/Basic/${DEMO_MARKER_ID}`);
      assert.ok(JSON.stringify(updated.body).includes(referenceData().version));
    });
  });
});
