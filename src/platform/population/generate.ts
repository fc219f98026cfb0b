import type { Patient, RelatedPerson, Resource } from '@medplum/fhirtypes';
import { IdentifierSystem, cprSerialCount, makeCpr } from '../identifiers/index.ts';
import type { GpClinic, Municipality, ReferenceData, Rng } from '../registers/index.ts';
import {
  GIVEN_NAMES,
  IMMIGRANT_GIVEN_NAMES,
  MIDDLE_NAMES,
  MUNICIPALITIES,
  Profile,
  STREETS,
  SURNAMES,
  coding,
  concept,
  createRng,
  danishAddress,
  mixSeed,
  officialName,
  referenceData,
  ref,
} from '../registers/index.ts';
import { addYears, dayOf, isoDay, yearOf, yearsBetween } from './dates.ts';
import { generateHistory } from './history.ts';
import type { Chart, HistoryOptions, Person } from './model.ts';

/**
 * The deterministic synthetic population: households of citizens with Danish names, addresses in
 * real municipalities, CPR numbers that agree with birth date and sex (some issued without
 * modulus 11), a listed GP, families linked for proxy access, and a clinical history each.
 * Everything comes from a seeded PRNG: the same seed and options give byte-identical resources.
 */

/** The day histories run up to when no other is given. */
export const DEFAULT_AS_OF = '2026-03-01';

/** Options of the generator. */
export interface PopulationOptions {
  /** Any integer 0 … 2³²−1; it is also part of every resource id. */
  readonly seed: number;
  /** How many citizens to generate. */
  readonly citizens: number;
  /** The day histories run up to (`YYYY-MM-DD`), default {@link DEFAULT_AS_OF}. */
  readonly asOf?: string;
  /** Citizens per chunk (a chunk is written in one transaction), default 50. */
  readonly chunkSize?: number;
  /** CPR numbers already taken (e.g. by the demo users). */
  readonly reservedCprs?: Iterable<string>;
}

/** A group of whole households, written together. */
export interface PopulationChunk {
  readonly index: number;
  readonly citizens: number;
  /** Id of the first Patient in the chunk (a chunk is either fully stored or not at all). */
  readonly firstPatientId: string;
  readonly resources: Resource[];
}

/** Identifier system for family relations (dk-core RelatedPerson relationship codes). */
const DK_RELATIONSHIP = 'http://hl7.dk/fhir/core/CodeSystem/dk-relatedperson-relationshipcodes';
const ROLE_CODE = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';
const BIG_CITIES = new Set(['0101', '0147', '0751', '0461', '0851']);

/** Allocates unique CPR numbers for a run. */
export class CprAllocator {
  private readonly used = new Set<string>();

  constructor(reserved: Iterable<string> = []) {
    for (const c of reserved) {
      this.used.add(c);
    }
  }

  /**
   * @param birthDate - `YYYY-MM-DD`
   * @param sex - sex digit parity
   * @param modulus11 - whether the number passes modulus 11
   * @param rng - where to start looking
   * @returns an unused CPR number and whether it passes modulus 11
   */
  allocate(birthDate: string, sex: 'male' | 'female', modulus11: boolean, rng: Rng): { cpr: string; modulus11: boolean } {
    for (const m11 of modulus11 ? [true] : [false, true]) {
      const count = cprSerialCount(birthDate, sex, { modulus11: m11 });
      if (count === 0) {
        continue;
      }
      const start = rng.int(0, count - 1);
      for (let i = 0; i < count; i++) {
        const cpr = makeCpr(birthDate, sex, (start + i) % count, { modulus11: m11 });
        if (!this.used.has(cpr)) {
          this.used.add(cpr);
          return { cpr, modulus11: m11 };
        }
      }
    }
    throw new Error(`No free CPR number for ${birthDate} ${sex}`);
  }
}

interface Household {
  readonly municipality: Municipality;
  readonly postal: Municipality['postal'][number];
  readonly line: string;
  readonly gp: GpClinic;
  readonly family: string;
  readonly immigrant: boolean;
}

/** Municipality weights by population. */
const MUNICIPALITY_WEIGHTS: readonly (readonly [Municipality, number])[] = MUNICIPALITIES.map((m) => [m, m.population] as const);

function pickGiven(rng: Rng, sex: 'male' | 'female', birthYear: number, h: Household): string[] {
  const immigrant = IMMIGRANT_GIVEN_NAMES[h.family];
  if (h.immigrant && immigrant !== undefined) {
    return [rng.pick(immigrant[sex])];
  }
  const cohort = birthYear < 1960 ? 'old' : birthYear < 1990 ? 'mid' : 'young';
  const names: readonly string[] = GIVEN_NAMES[sex][cohort];
  const given = [rng.pick(names)];
  if (rng.chance(0.25)) {
    given.push(rng.pick(MIDDLE_NAMES));
  }
  return given;
}

/** Inputs for one person. */
export interface PersonInput {
  readonly id: string;
  readonly index: number;
  readonly sex: 'male' | 'female';
  readonly birthDate: string;
  readonly given: readonly string[];
  readonly family: string;
  readonly modulus11: boolean;
  readonly municipality: Municipality;
  readonly postal: Municipality['postal'][number];
  readonly line: string;
  readonly gp: GpClinic;
  /** Index into the clinic's doctors. */
  readonly doctor: number;
  readonly phoneSerial: number;
}

/**
 * Creates a person (allocating its CPR number).
 * @param x - the facts
 * @param cprs - the run's CPR allocator
 * @param rng - random source for the CPR serial
 * @returns the person
 */
export function makePerson(x: PersonInput, cprs: CprAllocator, rng: Rng): Person {
  const { cpr, modulus11 } = cprs.allocate(x.birthDate, x.sex, x.modulus11, rng);
  const digits = String(20_000_000 + (x.phoneSerial % 80_000_000));
  return {
    id: x.id,
    index: x.index,
    sex: x.sex,
    birthDay: dayOf(x.birthDate),
    birthDate: x.birthDate,
    given: x.given,
    family: x.family,
    cpr,
    modulus11,
    municipality: x.municipality,
    postal: x.postal,
    line: x.line,
    phone: `+45 ${digits.slice(0, 2)} ${digits.slice(2, 4)} ${digits.slice(4, 6)} ${digits.slice(6, 8)}`,
    gp: x.gp,
    gpDoctor: x.gp.doctors[x.doctor % x.gp.doctors.length]!,
    parents: [],
    children: [],
  };
}

/**
 * The Patient resource of a person (links to the RelatedPerson records that represent the person
 * as a parent are added by {@link familyResources}).
 * @param p - the person
 * @param asOf - the reference day
 * @returns the Patient
 */
export function patientResource(p: Person, asOf: number): Patient {
  const adult = yearsBetween(p.birthDay, asOf) >= 15;
  return {
    resourceType: 'Patient',
    id: p.id,
    meta: { profile: [Profile.patient] },
    identifier: [{ use: 'official', system: IdentifierSystem.cpr, value: p.cpr }],
    active: true,
    name: [officialName(p.given, p.family)],
    ...(adult ? { telecom: [{ system: 'phone', value: p.phone, use: 'mobile' }] } : {}),
    gender: p.sex,
    birthDate: p.birthDate,
    address: [danishAddress(p.line, p.postal.postalCode, p.postal.city, p.municipality)],
    generalPractitioner: [
      { reference: `Organization/${p.gp.id}`, identifier: { system: IdentifierSystem.sor, value: p.gp.sor }, display: p.gp.name },
      ref('PractitionerRole', p.gpDoctor.roleId, p.gpDoctor.name),
    ],
  };
}

/**
 * RelatedPerson resources for a child's parents (custody holders), and the links from each parent's
 * Patient to them. See README.md ("Families and proxy access").
 * @param child - the child
 * @param patients - the household's Patient resources by id (parents get `link` entries)
 * @returns the RelatedPerson resources
 */
export function familyResources(child: Person, patients: ReadonlyMap<string, Patient>): RelatedPerson[] {
  return child.parents.map((parent, k) => {
    const id = `${child.id}-rp${k + 1}`;
    const parentPatient = patients.get(parent.id);
    if (parentPatient !== undefined) {
      parentPatient.link = [...(parentPatient.link ?? []), { other: ref('RelatedPerson', id), type: 'seealso' }];
    }
    return {
      resourceType: 'RelatedPerson',
      id,
      meta: { profile: [Profile.relatedPerson] },
      identifier: [{ use: 'official', system: IdentifierSystem.cpr, value: parent.cpr }],
      active: true,
      patient: ref('Patient', child.id),
      relationship: [
        concept([parent.sex === 'female' ? coding(ROLE_CODE, 'MTH', 'mother') : coding(ROLE_CODE, 'FTH', 'father')]),
        concept([coding(DK_RELATIONSHIP, 'PARAUTH', 'Parental authority')]),
      ],
      name: [officialName(parent.given, parent.family)],
      telecom: [{ system: 'phone', value: parent.phone, use: 'mobile' }],
      gender: parent.sex,
      birthDate: parent.birthDate,
      address: [danishAddress(parent.line, parent.postal.postalCode, parent.postal.city, parent.municipality)],
    };
  });
}

/**
 * Builds one person's chart (history) resources.
 * @param p - the person
 * @param seed - run seed
 * @param asOf - reference day
 * @param ref - reference data
 * @param options - forced history facts
 * @returns the resources of the history (not the Patient)
 */
export function historyResources(p: Person, seed: number, asOf: number, refData: ReferenceData, options: HistoryOptions = {}): Resource[] {
  const rng = createRng(mixSeed(seed, 0x5eed, p.index));
  const regional = refData.hospitalsByRegion.get(p.municipality.region)!;
  const hospital = regional.find((h) => h.municipality === p.municipality.code) ?? rng.pick(regional);
  const counters = new Map<string, number>();
  const chart: Chart = {
    p,
    rng,
    asOf,
    ref: refData,
    hospital,
    municipal: refData.municipal.get(p.municipality.code)!,
    out: [],
    id(kind: string): string {
      const n = (counters.get(kind) ?? 0) + 1;
      counters.set(kind, n);
      return `${p.id}-${kind}${n}`;
    },
  };
  generateHistory(chart, options);
  return chart.out;
}

function householdMembers(rng: Rng): { adults: { age: number; sex: 'male' | 'female' }[]; children: { age: number; sex: 'male' | 'female' }[] } {
  const sex = (): 'male' | 'female' => (rng.chance(0.5) ? 'male' : 'female');
  const kind = rng.weighted<'single' | 'couple' | 'family' | 'singleParent'>([
    ['single', 38],
    ['couple', 32],
    ['family', 23],
    ['singleParent', 7],
  ]);
  switch (kind) {
    case 'single': {
      const age = rng.weighted<readonly [number, number]>([
        [[18, 29], 30],
        [[30, 49], 20],
        [[50, 64], 18],
        [[65, 79], 20],
        [[80, 98], 12],
      ]);
      return { adults: [{ age: rng.int(age[0], age[1]), sex: sex() }], children: [] };
    }
    case 'couple': {
      const range = rng.weighted<readonly [number, number]>([
        [[22, 39], 25],
        [[40, 64], 40],
        [[65, 92], 35],
      ]);
      const a = rng.int(range[0], range[1]);
      const b = Math.max(18, a + rng.int(-6, 6));
      const first = sex();
      return { adults: [{ age: a, sex: first }, { age: b, sex: rng.chance(0.95) ? (first === 'male' ? 'female' : 'male') : first }], children: [] };
    }
    case 'family':
    case 'singleParent': {
      const n = rng.weighted<number>([
        [1, 40],
        [2, 42],
        [3, 18],
      ]);
      const children = Array.from({ length: n }, () => ({ age: rng.int(0, 17), sex: sex() }));
      const oldest = Math.max(...children.map((c) => c.age));
      const a = oldest + rng.int(24, 40);
      const first: 'male' | 'female' = kind === 'singleParent' ? (rng.chance(0.8) ? 'female' : 'male') : sex();
      const adults = [{ age: a, sex: first }];
      if (kind === 'family') {
        adults.push({ age: Math.max(oldest + 19, a + rng.int(-5, 5)), sex: first === 'male' ? 'female' : 'male' });
      }
      return { adults, children };
    }
  }
}

function birthDateFor(rng: Rng, age: number, asOf: number, unknownDay: boolean): string {
  const latest = addYears(asOf, -age);
  const day = latest - rng.int(0, 364);
  if (unknownDay) {
    return `${yearOf(day)}-01-01`;
  }
  return isoDay(day);
}

/**
 * Generates the population in chunks of whole households.
 * @param options - seed, size and reference day
 * @yields chunks of about `chunkSize` citizens
 */
export function* populationChunks(options: PopulationOptions): Generator<PopulationChunk> {
  const seed = options.seed >>> 0;
  if (!Number.isInteger(options.seed) || options.seed < 0 || options.seed > 0xffffffff) {
    throw new RangeError(`seed must be an integer from 0 to 4294967295, got ${options.seed}`);
  }
  const asOf = dayOf(options.asOf ?? DEFAULT_AS_OF);
  const chunkSize = options.chunkSize ?? 50;
  const refData = referenceData();
  const cprs = new CprAllocator(options.reservedCprs);
  let index = 0;
  let chunk: Resource[] = [];
  let chunkCitizens = 0;
  let firstPatientId = '';
  let chunkIndex = 0;
  for (let h = 0; index < options.citizens; h++) {
    const rng = createRng(mixSeed(seed, h));
    const m = rng.weighted(MUNICIPALITY_WEIGHTS);
    const postal = rng.pick(m.postal);
    const floor = BIG_CITIES.has(m.code) && rng.chance(0.7) ? `, ${rng.int(0, 5) === 0 ? 'st.' : `${rng.int(1, 5)}.`} ${rng.pick(['th', 'tv', 'mf'])}` : '';
    const line = `${rng.pick(STREETS)} ${rng.int(1, 140)}${floor}`;
    const immigrant = rng.chance(0.09);
    const family = immigrant ? rng.pick(Object.keys(IMMIGRANT_GIVEN_NAMES)) : rng.weighted(SURNAMES);
    const gp = rng.pick(refData.gpClinics.get(m.code)!);
    const household: Household = { municipality: m, postal, line, gp, family, immigrant };
    const members = householdMembers(rng);
    const doctor = rng.int(0, 3);
    const people: Person[] = [];
    const make = (age: number, sex: 'male' | 'female', familyName: string): Person | undefined => {
      if (index >= options.citizens) {
        return undefined;
      }
      const unknownBirthday = immigrant && age >= 18 && rng.chance(0.35);
      const birthDate = birthDateFor(rng, age, asOf, unknownBirthday);
      // Numbers without modulus 11: many 1 January birthdays (often people born abroad), and a
      // fixed share of the rest so that even small populations have some.
      const modulus11 = !((unknownBirthday && rng.chance(0.6)) || index % 40 === 7);
      const p = makePerson(
        {
          id: `s${seed}-${String(index).padStart(6, '0')}`,
          index,
          sex,
          birthDate,
          given: pickGiven(rng, sex, Number(birthDate.slice(0, 4)), household),
          family: familyName,
          modulus11,
          municipality: m,
          postal,
          line,
          gp,
          doctor,
          phoneSerial: mixSeed(seed, index, 0x7e1),
        },
        cprs,
        rng,
      );
      index++;
      people.push(p);
      return p;
    };
    const adults = members.adults.map((a, i) => make(a.age, a.sex, i === 1 && !immigrant && rng.chance(0.4) ? rng.weighted(SURNAMES) : family)).filter((p): p is Person => p !== undefined);
    for (const c of members.children) {
      const child = make(c.age, c.sex, family);
      if (child !== undefined) {
        for (const a of adults) {
          child.parents.push(a);
          a.children.push(child);
        }
      }
    }
    if (people.length === 0) {
      break;
    }
    const patients = new Map(people.map((p) => [p.id, patientResource(p, asOf)]));
    const related = people.filter((p) => p.parents.length > 0).flatMap((p) => familyResources(p, patients));
    if (chunkCitizens === 0) {
      firstPatientId = people[0]!.id;
    }
    chunk.push(...patients.values(), ...related);
    for (const p of people) {
      chunk.push(...historyResources(p, seed, asOf, refData));
    }
    chunkCitizens += people.length;
    if (chunkCitizens >= chunkSize) {
      yield { index: chunkIndex++, citizens: chunkCitizens, firstPatientId, resources: chunk };
      chunk = [];
      chunkCitizens = 0;
    }
  }
  if (chunkCitizens > 0) {
    yield { index: chunkIndex, citizens: chunkCitizens, firstPatientId, resources: chunk };
  }
}

/**
 * Generates the whole population at once (tests and small runs).
 * @param options - seed, size and reference day
 * @returns every resource, in write order
 */
export function generatePopulation(options: PopulationOptions): Resource[] {
  const out: Resource[] = [];
  for (const chunk of populationChunks(options)) {
    out.push(...chunk.resources);
  }
  return out;
}
