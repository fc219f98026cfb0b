import type { Basic, Resource } from '@medplum/fhirtypes';
import type { Database } from '../../db/index.ts';
import type { ResourceValidator } from '../fhir/platform.ts';
import { initFhirPlatform } from '../fhir/platform.ts';
import { FhirRepository } from '../fhir/repo.ts';
import { OperationOutcomeError } from '../fhir/outcome.ts';
import { IdentifierSystem, makeCpr } from '../identifiers/index.ts';
import type { Municipality } from '../registers/index.ts';
import { DEMO_UNITS, DSD_STAFF_SYSTEM, createRng, loadReferenceData, municipality, referenceData } from '../registers/index.ts';
import { dayOf } from './dates.ts';
import type { PersonInput } from './generate.ts';
import { CprAllocator, DEFAULT_AS_OF, familyResources, historyResources, makePerson, patientResource } from './generate.ts';
import type { HistoryOptions, Person } from './model.ts';
import { seedPopulation, writeChunk } from './seed.ts';

/**
 * The demo data a fresh `npm start` seeds: the reference data, a population of 1,000 citizens
 * (seed 1) and the named demo users (listed in README.md under "Demo users"), once. A marker
 * resource (`Basic/dsd-demo-seed`) records that seeding finished; a restart finds it and seeds
 * nothing.
 */

export const DEMO_SEED = 1;
export const DEMO_CITIZENS = 1000;
/** Id of the marker resource written when demo seeding has finished. */
export const DEMO_MARKER_ID = 'dsd-demo-seed';
const MARKER_SYSTEM = 'https://dsd.dk/fhir/CodeSystem/platform-state';

/** A named demo user. */
export interface DemoUser {
  readonly role: string;
  readonly name: string;
  readonly resource: string;
  /** How the user is identified (CPR, authorisation id or staff number). */
  readonly identifier: { readonly system: string; readonly value: string };
  /** Where the user works (PractitionerRole and Organization), for staff. */
  readonly at?: { readonly role: string; readonly organization: string; readonly sor?: string };
  readonly notes: string;
}

interface DemoCitizenSpec {
  readonly id: string;
  readonly given: readonly string[];
  readonly family: string;
  readonly sex: 'male' | 'female';
  readonly birthDate: string;
  readonly municipality: string;
  readonly line: string;
  readonly history: HistoryOptions;
}

const AARHUS_C = { postalCode: '8000', city: 'Aarhus C' };

/** The demo citizens: a mother with a rich history, her son (proxy access), and an older man with COPD. */
const DEMO_CITIZENS_SPEC: readonly DemoCitizenSpec[] = [
  {
    id: 'demo-citizen',
    given: ['Louise', 'Holm'],
    family: 'Sørensen',
    sex: 'female',
    birthDate: '1981-03-14',
    municipality: '0751',
    line: 'Søndergade 12, 2. th',
    history: {
      onlyForced: true,
      chronic: [
        ['obesity', 9],
        ['diabetes2', 6],
        ['hypertension', 4],
        ['depression', 11],
      ],
      hospital: [
        ['gallstones', 3],
        ['wristFracture', 1],
      ],
      pendingReferral: true,
    },
  },
  {
    id: 'demo-child',
    given: ['Emil', 'Holm'],
    family: 'Sørensen',
    sex: 'male',
    birthDate: '2017-06-02',
    municipality: '0751',
    line: 'Søndergade 12, 2. th',
    history: { onlyForced: true, chronic: [['asthma', 3]], hospital: [['ankleSprain', 1]] },
  },
  {
    id: 'demo-copd',
    given: ['Poul', 'Erik'],
    family: 'Jensen',
    sex: 'male',
    birthDate: '1946-09-21',
    municipality: '0751',
    line: 'Skovvej 7',
    history: {
      onlyForced: true,
      chronic: [
        ['hypertension', 12],
        ['copd', 9],
        ['heartFailure', 3],
        ['atrialFibrillation', 3],
      ],
      telemedicine: true,
      hospital: [['pneumonia', 1]],
    },
  },
];

function demoPeople(): Person[] {
  const ref = referenceData();
  const clinic = ref.gpClinics.get('0751')!.find((c) => c.id === DEMO_UNITS.gpClinic)!;
  const cprs = new CprAllocator();
  return DEMO_CITIZENS_SPEC.map((s, k) => {
    const m: Municipality = municipality(s.municipality);
    const input: PersonInput = {
      id: s.id,
      index: 1_000_000 + k,
      sex: s.sex,
      birthDate: s.birthDate,
      given: s.given,
      family: s.family,
      modulus11: true,
      municipality: m,
      postal: AARHUS_C,
      line: s.line,
      gp: clinic,
      doctor: 0,
      phoneSerial: 61_234_500 + k,
    };
    // Serial 0 of each birth date and sex: the demo CPR numbers are fixed and documented.
    return makePerson(input, cprs, { ...createRng(0), int: (min: number) => min });
  });
}

/**
 * The demo citizens' resources: Patients, the family link for proxy access and their histories.
 * @returns the resources, in write order
 */
export function demoCitizenResources(): Resource[] {
  const people = demoPeople();
  const [mother, child] = people;
  child!.parents.push(mother!);
  mother!.children.push(child!);
  const asOf = dayOf(DEFAULT_AS_OF);
  const patients = new Map(people.map((p) => [p.id, patientResource(p, asOf)]));
  const related = familyResources(child!, patients);
  const ref = referenceData();
  const histories = people.flatMap((p, k) => historyResources(p, DEMO_SEED, asOf, ref, DEMO_CITIZENS_SPEC[k]!.history));
  return [...patients.values(), ...related, ...histories];
}

/**
 * The named demo users, with their identifiers (as listed in README.md).
 * @returns the users
 */
export function demoUsers(): DemoUser[] {
  const ref = referenceData();
  const people = demoPeople();
  const sorOf = (orgId: string): string | undefined => ref.organizations.find((o) => o.id === orgId)?.identifier?.find((i) => i.system === IdentifierSystem.sor)?.value;
  const staff = (role: string, s: { practitionerId: string; roleId: string; organizationId: string; authorizationId: string; name: string }, notes: string): DemoUser => ({
    role,
    name: s.name,
    resource: `Practitioner/${s.practitionerId}`,
    identifier: { system: IdentifierSystem.authorization, value: s.authorizationId },
    at: { role: `PractitionerRole/${s.roleId}`, organization: `Organization/${s.organizationId}`, ...(sorOf(s.organizationId) === undefined ? {} : { sor: sorOf(s.organizationId)! }) },
    notes,
  });
  const citizen = (role: string, p: Person, notes: string): DemoUser => ({
    role,
    name: `${p.given.join(' ')} ${p.family}`,
    resource: `Patient/${p.id}`,
    identifier: { system: IdentifierSystem.cpr, value: p.cpr },
    notes,
  });
  const d = ref.demo;
  return [
    citizen('Citizen with a rich history', people[0]!, 'Type 2 diabetes, hypertension, obesity, depression; gallstone operation and a wrist fracture; lab trends, medicine card, PRO answers, a pending referral with a booked appointment. Mother of the child below (proxy access).'),
    citizen('Child (proxy access by the citizen above)', people[1]!, 'Asthma; childhood vaccinations; an emergency visit. RelatedPerson/demo-child-rp1 links the mother (custody).'),
    citizen('Older citizen in COPD telemedicine', people[2]!, 'COPD, heart failure, atrial fibrillation, hypertension; 12 weeks of home measurements (SpO2, pulse, weight), PRO answers, a pneumonia admission.'),
    staff('GP (praktiserende læge)', d.gp, 'GP of the demo citizens, at the demo clinic in Aarhus; also GP of generated citizens listed there.'),
    staff('Hospital doctor', d.hospitalDoctor, 'Cardiology, Aarhus Universitetshospital.'),
    staff('Municipal nurse', d.municipalNurse, 'Home nursing, Aarhus Kommune (receives hospital notifications).'),
    staff('Lab technician (bioanalytiker)', d.labTechnician, 'Clinical biochemistry, Aarhus Universitetshospital: the laboratory of the Aarhus citizens.'),
    {
      role: 'Operator',
      name: d.operator.name,
      resource: `Practitioner/${d.operator.practitionerId}`,
      identifier: { system: DSD_STAFF_SYSTEM, value: d.operator.staffNumber },
      at: { role: `PractitionerRole/${d.operator.roleId}`, organization: `Organization/${d.operator.organizationId}` },
      notes: 'Platform operator at Digital Sundhed Danmark (no health authorisation).',
    },
  ];
}

/**
 * The CPR numbers of the demo citizens (the generated population avoids them).
 * @returns CPR numbers
 */
export function demoCprs(): string[] {
  return DEMO_CITIZENS_SPEC.map((s) => makeCpr(s.birthDate, s.sex, 0));
}

const MARKER_EXTENSION = 'https://dsd.dk/fhir/StructureDefinition/demo-seed';

/** The stored marker, or undefined when demo seeding has not finished. */
async function readMarker(repo: FhirRepository): Promise<Basic | undefined> {
  try {
    return JSON.parse((await repo.read('Basic', DEMO_MARKER_ID)).content) as Basic;
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return undefined;
    }
    throw err;
  }
}

function markerResource(citizens: number, created: string): Basic {
  return {
    resourceType: 'Basic',
    id: DEMO_MARKER_ID,
    code: { coding: [{ system: MARKER_SYSTEM, code: 'demo-seeded', display: 'Demo data seeded' }] },
    created,
    extension: [
      {
        url: MARKER_EXTENSION,
        extension: [
          { url: 'seed', valueInteger: DEMO_SEED },
          { url: 'citizens', valueInteger: citizens },
          { url: 'asOf', valueDate: DEFAULT_AS_OF },
          { url: 'referenceDataVersion', valueString: referenceData().version },
        ],
      },
    ],
  };
}

/** What {@link ensureDemoData} did. */
export interface DemoResult {
  readonly seeded: boolean;
  readonly citizens: number;
  readonly resources: number;
  readonly milliseconds: number;
}

/**
 * Seeds the demo data once: reference data, the demo users and a population of
 * {@link DEMO_CITIZENS} citizens, then the marker. Does nothing when the marker exists. An
 * interrupted run resumes where it stopped (chunks already stored are skipped).
 * @param repo - the repository
 * @param options - population size and a progress logger
 * @returns what was done
 */
export async function ensureDemoData(repo: FhirRepository, options: { citizens?: number; log?: (line: string) => void } = {}): Promise<DemoResult> {
  const log = options.log ?? ((): void => undefined);
  const started = performance.now();
  const existing = await readMarker(repo);
  if (existing !== undefined) {
    const details = existing.extension?.find((e) => e.url === MARKER_EXTENSION)?.extension ?? [];
    const version = details.find((e) => e.url === 'referenceDataVersion')?.valueString;
    if (version !== referenceData().version) {
      // A newer release ships changed reference data: bring it up to date (idempotent), keep the population.
      const loaded = await loadReferenceData(repo);
      const seeded = details.find((e) => e.url === 'citizens')?.valueInteger ?? DEMO_CITIZENS;
      await repo.update(markerResource(seeded, existing.created ?? new Date().toISOString().slice(0, 10)), DEMO_MARKER_ID, { trusted: true });
      log(`Reference data updated: ${loaded.created} created, ${loaded.updated} updated, ${loaded.unchanged} unchanged.`);
    }
    log(`Demo data present (Basic/${DEMO_MARKER_ID}); not seeding again.`);
    return { seeded: false, citizens: 0, resources: 0, milliseconds: Math.round(performance.now() - started) };
  }
  const citizens = options.citizens ?? DEMO_CITIZENS;
  const anyPatient = await repo.search('Patient', [['_count', '1']]);
  if (anyPatient.matches.length > 0 && !(await patientExists(repo, 'demo-citizen'))) {
    log('The database holds patients but no demo data: not seeding it (use `dsd seed` to add a synthetic population).');
    return { seeded: false, citizens: 0, resources: 0, milliseconds: Math.round(performance.now() - started) };
  }
  log('Empty database: loading reference data and seeding the demo population (once).');
  const loaded = await loadReferenceData(repo);
  log(`Reference data: ${loaded.created} created, ${loaded.updated} updated, ${loaded.unchanged} unchanged (${(loaded.milliseconds / 1000).toFixed(1)} s).`);
  let resources = 0;
  if (!(await patientExists(repo, 'demo-citizen'))) {
    const demo = demoCitizenResources();
    await writeChunk(repo, demo);
    resources += demo.length;
    log(`Demo users: ${demoUsers().length} (see README.md, "Demo users").`);
  }
  let lastLogged = 0;
  const result = await seedPopulation(repo, {
    seed: DEMO_SEED,
    citizens,
    reservedCprs: demoCprs(),
    onProgress: (p) => {
      if (p.citizens - lastLogged >= citizens / 10 || p.citizens === p.total) {
        lastLogged = p.citizens;
        log(`Seeding citizens: ${p.citizens}/${p.total} (${p.resources} resources, ${(p.milliseconds / 1000).toFixed(0)} s)`);
      }
    },
  });
  resources += result.resources;
  const marker = markerResource(citizens, new Date().toISOString().slice(0, 10));
  await writeChunk(repo, [marker]);
  const milliseconds = Math.round(performance.now() - started);
  log(`Demo data ready: ${citizens} citizens, ${resources} resources in ${(milliseconds / 1000).toFixed(0)} s (${result.citizensPerMinute} citizens/minute).`);
  return { seeded: true, citizens, resources, milliseconds };
}

/**
 * {@link ensureDemoData} for the server start: builds its own platform state on the database
 * (the app builds its own afterwards and sees the seeded data).
 * @param db - the open, migrated database
 * @param validator - the validator (its packages' SearchParameters are indexed as on the server)
 * @param baseUrl - the FHIR base URL
 * @param log - progress lines
 * @returns what was done
 */
export async function ensureDemoDataOnStart(db: Database, validator: ResourceValidator | undefined, baseUrl: string, log: (line: string) => void): Promise<DemoResult> {
  const platform = await initFhirPlatform({ db, baseUrl, defaultPageSize: 20, maxPageSize: 1000, validator });
  return ensureDemoData(new FhirRepository(platform), { log });
}

async function patientExists(repo: FhirRepository, id: string): Promise<boolean> {
  try {
    await repo.read('Patient', id);
    return true;
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return false;
    }
    throw err;
  }
}
