import type {
  Bundle,
  BundleEntry,
  Condition,
  Encounter,
  Immunization,
  MedicationRequest,
  Observation,
  Patient,
  Resource,
} from '@medplum/fhirtypes';
import type { Rng } from './prng.ts';
import { createRng, mixSeed } from './prng.ts';

/** Danish CPR number identifier system. */
export const CPR_SYSTEM = 'urn:oid:1.2.208.176.1.2';
export const LOINC_SYSTEM = 'http://loinc.org';
/** NPU (Nomenclature for Properties and Units), the Danish laboratory code system. */
export const NPU_SYSTEM = 'urn:oid:1.2.208.176.2.1';
export const ICD10_SYSTEM = 'http://hl7.org/fhir/sid/icd-10';
export const ATC_SYSTEM = 'http://www.whocc.no/atc';
export const CVX_SYSTEM = 'http://hl7.org/fhir/sid/cvx';
const UCUM = 'http://unitsofmeasure.org';

/** An observation kind: code, display, unit and a plausible value range. */
export interface ObservationKind {
  readonly system: string;
  readonly code: string;
  readonly display: string;
  readonly unit: string;
  readonly min: number;
  readonly max: number;
  readonly decimals: number;
  readonly category: 'vital-signs' | 'laboratory';
}

export const OBSERVATION_KINDS: readonly ObservationKind[] = [
  { system: LOINC_SYSTEM, code: '8867-4', display: 'Heart rate', unit: '/min', min: 48, max: 120, decimals: 0, category: 'vital-signs' },
  { system: LOINC_SYSTEM, code: '8480-6', display: 'Systolic blood pressure', unit: 'mm[Hg]', min: 95, max: 180, decimals: 0, category: 'vital-signs' },
  { system: LOINC_SYSTEM, code: '8462-4', display: 'Diastolic blood pressure', unit: 'mm[Hg]', min: 55, max: 110, decimals: 0, category: 'vital-signs' },
  { system: LOINC_SYSTEM, code: '29463-7', display: 'Body weight', unit: 'kg', min: 45, max: 130, decimals: 1, category: 'vital-signs' },
  { system: LOINC_SYSTEM, code: '8302-2', display: 'Body height', unit: 'cm', min: 150, max: 200, decimals: 0, category: 'vital-signs' },
  { system: LOINC_SYSTEM, code: '39156-5', display: 'Body mass index', unit: 'kg/m2', min: 17, max: 40, decimals: 1, category: 'vital-signs' },
  { system: LOINC_SYSTEM, code: '8310-5', display: 'Body temperature', unit: 'Cel', min: 35.8, max: 39.9, decimals: 1, category: 'vital-signs' },
  { system: LOINC_SYSTEM, code: '4548-4', display: 'Hemoglobin A1c/Hemoglobin.total in Blood', unit: '%', min: 4.5, max: 11, decimals: 1, category: 'laboratory' },
  { system: NPU_SYSTEM, code: 'NPU02319', display: 'B—Hæmoglobin; stofk.', unit: 'mmol/L', min: 6, max: 11, decimals: 1, category: 'laboratory' },
  { system: NPU_SYSTEM, code: 'NPU18016', display: 'P—Kreatininium; stofk.', unit: 'umol/L', min: 45, max: 180, decimals: 0, category: 'laboratory' },
  { system: NPU_SYSTEM, code: 'NPU19748', display: 'P—C-reaktivt protein; massek.', unit: 'mg/L', min: 0.5, max: 120, decimals: 1, category: 'laboratory' },
  { system: NPU_SYSTEM, code: 'NPU03230', display: 'P—Natrium-ion; stofk.', unit: 'mmol/L', min: 130, max: 148, decimals: 0, category: 'laboratory' },
  { system: NPU_SYSTEM, code: 'NPU03429', display: 'P—Kalium-ion; stofk.', unit: 'mmol/L', min: 3.2, max: 5.4, decimals: 1, category: 'laboratory' },
];

export const CONDITION_CODES: readonly (readonly [string, string])[] = [
  ['E11', 'Type 2 diabetes mellitus'],
  ['I10', 'Essential (primary) hypertension'],
  ['J44', 'Other chronic obstructive pulmonary disease'],
  ['J45', 'Asthma'],
  ['I48', 'Atrial fibrillation and flutter'],
  ['F32', 'Depressive episode'],
  ['M54', 'Dorsalgia'],
  ['E78', 'Disorders of lipoprotein metabolism'],
  ['N18', 'Chronic kidney disease'],
  ['C50', 'Malignant neoplasm of breast'],
  ['K21', 'Gastro-oesophageal reflux disease'],
  ['I25', 'Chronic ischaemic heart disease'],
];

export const MEDICATION_CODES: readonly (readonly [string, string])[] = [
  ['A10BA02', 'Metformin'],
  ['C09AA02', 'Enalapril'],
  ['C10AA01', 'Simvastatin'],
  ['N06AB04', 'Citalopram'],
  ['R03AC02', 'Salbutamol'],
  ['B01AC06', 'Acetylsalicylsyre'],
  ['C07AB02', 'Metoprolol'],
  ['A02BC01', 'Omeprazol'],
];

export const VACCINE_CODES: readonly (readonly [string, string])[] = [
  ['140', 'Influenza, seasonal, injectable, preservative free'],
  ['208', 'COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose'],
  ['115', 'Tdap'],
  ['03', 'MMR'],
  ['33', 'Pneumococcal polysaccharide PPV23'],
];

export const FEMALE_GIVEN = ['Anne', 'Kirsten', 'Mette', 'Hanne', 'Helle', 'Anna', 'Susanne', 'Lene', 'Maria', 'Marianne', 'Jette', 'Jennifer', 'Camilla', 'Louise', 'Ida', 'Sofie', 'Birgitte', 'Søs'] as const;
export const MALE_GIVEN = ['Peter', 'Jens', 'Lars', 'Michael', 'Henrik', 'Thomas', 'Søren', 'Jan', 'Niels', 'Christian', 'Martin', 'Anders', 'Morten', 'Jesper', 'Mads', 'Rasmus', 'Jørgen', 'Åge'] as const;
export const FAMILY_NAMES = ['Nielsen', 'Jensen', 'Hansen', 'Pedersen', 'Andersen', 'Christensen', 'Larsen', 'Sørensen', 'Rasmussen', 'Jørgensen', 'Petersen', 'Madsen', 'Kristensen', 'Olsen', 'Thomsen', 'Christiansen', 'Poulsen', 'Johansen', 'Møller', 'Mortensen', 'Østergaard', 'Holm', 'Lund', 'Bach'] as const;
const STREETS = ['Nørregade', 'Vestergade', 'Østergade', 'Søndergade', 'Algade', 'Skovvej', 'Kirkevej', 'Strandvejen', 'Møllevej', 'Åboulevarden'] as const;
const CITIES: readonly (readonly [string, string])[] = [
  ['1050', 'København K'],
  ['8000', 'Aarhus C'],
  ['5000', 'Odense C'],
  ['9000', 'Aalborg'],
  ['6700', 'Esbjerg'],
  ['7100', 'Vejle'],
  ['2100', 'København Ø'],
  ['4000', 'Roskilde'],
];

/** First and last year clinical events are spread over. */
export const FIRST_YEAR = 2015;
export const LAST_YEAR = 2024;

/** What a generated patient contains, so queries can ask for values that exist. */
export interface PatientSummary {
  readonly index: number;
  readonly cpr: string;
  readonly given: string;
  readonly family: string;
  readonly gender: 'female' | 'male';
  readonly birthDate: string;
  /** `system|code` of each distinct observation code the patient has. */
  readonly observationCodes: readonly string[];
  readonly conditionCodes: readonly string[];
  readonly activeConditions: number;
  readonly activeMedicationRequests: number;
  readonly immunizations: number;
  readonly encounterDates: readonly string[];
}

/** A generated transaction Bundle and what it holds. */
export interface GeneratedBundle {
  readonly bundle: Bundle;
  readonly resources: number;
}

export interface GeneratedPatientBundle extends GeneratedBundle {
  readonly summary: PatientSummary;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** A date-time spread over [FIRST_YEAR, LAST_YEAR], written with the Danish winter offset. */
function randomDateTime(rng: Rng, fromYear = FIRST_YEAR, toYear = LAST_YEAR): string {
  const from = Date.UTC(fromYear, 0, 1);
  const to = Date.UTC(toYear + 1, 0, 1) - 1;
  const ms = from + Math.floor(rng.next() * (to - from));
  return dateTimeOf(ms);
}

function dateTimeOf(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}+01:00`;
}

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

function entry(resource: Resource, fullUrl: string): BundleEntry {
  return { fullUrl, resource, request: { method: 'POST', url: resource.resourceType } };
}

/**
 * Generates the Patient resource for patient number `index` (deterministic for a seed).
 * @param seed - the run seed
 * @param index - the patient number
 * @returns the Patient and its summary fields
 */
export function generatePatient(seed: number, index: number): { patient: Patient; rng: Rng } {
  const rng = createRng(mixSeed(seed, index));
  const gender = rng.chance(0.5) ? 'female' : 'male';
  const given = rng.pick(gender === 'female' ? FEMALE_GIVEN : MALE_GIVEN);
  const middle = rng.chance(0.3) ? [rng.pick(gender === 'female' ? FEMALE_GIVEN : MALE_GIVEN)] : [];
  const family = rng.pick(FAMILY_NAMES);
  const year = rng.int(1930, 2020);
  const month = rng.int(1, 12);
  const day = rng.int(1, 28);
  const birthDate = `${year}-${pad(month)}-${pad(day)}`;
  // CPR: ddmmyy + four digits; the index keeps numbers distinct within a run.
  const cpr = `${pad(day)}${pad(month)}${pad(year % 100)}${pad(index % 10000, 4)}`;
  const [postalCode, city] = rng.pick(CITIES);
  const patient: Patient = {
    resourceType: 'Patient',
    identifier: [{ system: CPR_SYSTEM, value: cpr }],
    active: true,
    name: [{ use: 'official', family, given: [given, ...middle] }],
    telecom: [{ system: 'phone', value: `+45 ${rng.int(20000000, 99999999)}`, use: 'mobile' }],
    gender,
    birthDate,
    address: [{ use: 'home', line: [`${rng.pick(STREETS)} ${rng.int(1, 150)}`], postalCode, city, country: 'DK' }],
  };
  return { patient, rng };
}

/**
 * Generates one patient with clinical history as a transaction Bundle (deterministic for a
 * seed and index): Patient, Encounters, Conditions, Observations, MedicationRequests and
 * Immunizations, linked by `urn:uuid:` fullUrls.
 * @param seed - the run seed
 * @param index - the patient number
 * @returns the Bundle, its resource count and a summary of what it holds
 */
export function generatePatientBundle(seed: number, index: number): GeneratedPatientBundle {
  const { patient, rng } = generatePatient(seed, index);
  const entries: BundleEntry[] = [];
  const patientUrl = `urn:uuid:${rng.uuid()}`;
  entries.push(entry(patient, patientUrl));
  const subject = { reference: patientUrl };

  const encounterUrls: string[] = [];
  const encounterDates: string[] = [];
  const encounterCount = rng.int(1, 5);
  for (let i = 0; i < encounterCount; i++) {
    const url = `urn:uuid:${rng.uuid()}`;
    const inpatient = rng.chance(0.2);
    const start = randomDateTime(rng);
    const startMs = Date.parse(start);
    const endMs = startMs + (inpatient ? rng.int(1, 10) * 86400000 : rng.int(15, 90) * 60000);
    const encounter: Encounter = {
      resourceType: 'Encounter',
      status: 'finished',
      class: {
        system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
        code: inpatient ? 'IMP' : 'AMB',
        display: inpatient ? 'inpatient encounter' : 'ambulatory',
      },
      subject,
      period: { start, end: dateTimeOf(endMs) },
    };
    encounterUrls.push(url);
    encounterDates.push(start.slice(0, 10));
    entries.push(entry(encounter, url));
  }

  const conditionCodes: string[] = [];
  let activeConditions = 0;
  const conditionCount = rng.int(0, 4);
  for (let i = 0; i < conditionCount; i++) {
    const [code, display] = rng.pick(CONDITION_CODES);
    const active = rng.chance(0.6);
    activeConditions += active ? 1 : 0;
    const onset = randomDateTime(rng, 2005);
    const condition: Condition = {
      resourceType: 'Condition',
      clinicalStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: active ? 'active' : 'resolved' }],
      },
      verificationStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }],
      },
      category: [
        {
          coding: [
            { system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: rng.chance(0.5) ? 'encounter-diagnosis' : 'problem-list-item' },
          ],
        },
      ],
      code: { coding: [{ system: ICD10_SYSTEM, code, display }], text: display },
      subject,
      encounter: { reference: rng.pick(encounterUrls) },
      onsetDateTime: onset,
      recordedDate: onset.slice(0, 10),
    };
    conditionCodes.push(`${ICD10_SYSTEM}|${code}`);
    entries.push(entry(condition, `urn:uuid:${rng.uuid()}`));
  }

  const observationCodes = new Set<string>();
  const observationCount = rng.int(4, 20);
  for (let i = 0; i < observationCount; i++) {
    const kind = rng.pick(OBSERVATION_KINDS);
    const effective = randomDateTime(rng);
    const observation: Observation = {
      resourceType: 'Observation',
      status: 'final',
      category: [
        {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: kind.category }],
        },
      ],
      code: { coding: [{ system: kind.system, code: kind.code, display: kind.display }], text: kind.display },
      subject,
      ...(rng.chance(0.7) ? { encounter: { reference: rng.pick(encounterUrls) } } : {}),
      effectiveDateTime: effective,
      issued: `${new Date(Date.parse(effective) + 3600000).toISOString().slice(0, 19)}Z`,
      valueQuantity: {
        value: round(kind.min + rng.next() * (kind.max - kind.min), kind.decimals),
        unit: kind.unit,
        system: UCUM,
        code: kind.unit,
      },
    };
    observationCodes.add(`${kind.system}|${kind.code}`);
    entries.push(entry(observation, `urn:uuid:${rng.uuid()}`));
  }

  let activeMedicationRequests = 0;
  const medicationCount = rng.int(0, 3);
  for (let i = 0; i < medicationCount; i++) {
    const [code, display] = rng.pick(MEDICATION_CODES);
    const status = rng.pick(['active', 'active', 'completed', 'stopped'] as const);
    activeMedicationRequests += status === 'active' ? 1 : 0;
    const request: MedicationRequest = {
      resourceType: 'MedicationRequest',
      status,
      intent: 'order',
      medicationCodeableConcept: { coding: [{ system: ATC_SYSTEM, code, display }], text: display },
      subject,
      authoredOn: randomDateTime(rng),
      dosageInstruction: [{ text: `${rng.int(1, 3)} tablet(ter) ${rng.int(1, 3)} gange dagligt` }],
    };
    entries.push(entry(request, `urn:uuid:${rng.uuid()}`));
  }

  const immunizationCount = rng.int(0, 3);
  for (let i = 0; i < immunizationCount; i++) {
    const [code, display] = rng.pick(VACCINE_CODES);
    const immunization: Immunization = {
      resourceType: 'Immunization',
      status: 'completed',
      vaccineCode: { coding: [{ system: CVX_SYSTEM, code, display }], text: display },
      patient: subject,
      occurrenceDateTime: randomDateTime(rng),
      primarySource: true,
    };
    entries.push(entry(immunization, `urn:uuid:${rng.uuid()}`));
  }

  const name = patient.name?.[0];
  return {
    bundle: { resourceType: 'Bundle', type: 'transaction', entry: entries },
    resources: entries.length,
    summary: {
      index,
      cpr: patient.identifier?.[0]?.value ?? '',
      given: name?.given?.[0] ?? '',
      family: name?.family ?? '',
      gender: patient.gender === 'male' ? 'male' : 'female',
      birthDate: patient.birthDate ?? '',
      observationCodes: [...observationCodes],
      conditionCodes,
      activeConditions,
      activeMedicationRequests,
      immunizations: immunizationCount,
      encounterDates,
    },
  };
}

/**
 * A transaction Bundle of bare Patients (for the read benchmark), numbered from `firstIndex`.
 * @param seed - the run seed
 * @param firstIndex - number of the first patient
 * @param count - how many patients
 * @returns the Bundle
 */
export function generatePatientsBundle(seed: number, firstIndex: number, count: number): GeneratedBundle {
  const entries: BundleEntry[] = [];
  for (let i = 0; i < count; i++) {
    const { patient, rng } = generatePatient(seed, firstIndex + i);
    entries.push(entry(patient, `urn:uuid:${rng.uuid()}`));
  }
  return { bundle: { resourceType: 'Bundle', type: 'transaction', entry: entries }, resources: entries.length };
}

/**
 * The logical ids the server assigned, in entry order, from a transaction-response Bundle
 * (`entry[i].response.location`, relative or absolute, with or without `_history`).
 * @param response - the parsed response body
 * @returns one id (or undefined) per entry, and how many entries reported a 2xx status
 */
export function createdIds(response: unknown): { ids: (string | undefined)[]; created: number } {
  const ids: (string | undefined)[] = [];
  let created = 0;
  if (typeof response !== 'object' || response === null || !('entry' in response) || !Array.isArray(response.entry)) {
    return { ids, created };
  }
  for (const e of response.entry as unknown[]) {
    const r = typeof e === 'object' && e !== null && 'response' in e ? (e.response as { status?: unknown; location?: unknown }) : undefined;
    const status = typeof r?.status === 'string' ? r.status : '';
    if (/^2\d\d/.test(status)) {
      created++;
    }
    const location = typeof r?.location === 'string' ? r.location : '';
    const m = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(location);
    ids.push(m?.[2]);
  }
  return { ids, created };
}
