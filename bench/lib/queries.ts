import type { PatientSummary } from './generate.ts';
import { CONDITION_CODES, CPR_SYSTEM, FAMILY_NAMES, FEMALE_GIVEN, FIRST_YEAR, ICD10_SYSTEM, LAST_YEAR, LOINC_SYSTEM, MALE_GIVEN, NPU_SYSTEM, OBSERVATION_KINDS } from './generate.ts';
import type { Rng } from './prng.ts';

/** An ingested patient: the server's id and what the generator put in it. */
export interface SampledPatient {
  readonly id: string;
  readonly summary: PatientSummary;
}

/** A search query class: a name and a way to build one concrete query path from sampled data. */
export interface QueryClass {
  readonly name: string;
  /** A representative shape, for the report. */
  readonly shape: string;
  build(rng: Rng, patients: readonly SampledPatient[]): string;
}

const enc = encodeURIComponent;

function patientWith(rng: Rng, patients: readonly SampledPatient[], predicate: (p: PatientSummary) => boolean): SampledPatient {
  for (let attempt = 0; attempt < 20; attempt++) {
    const p = rng.pick(patients);
    if (predicate(p.summary)) {
      return p;
    }
  }
  return rng.pick(patients.filter((p) => predicate(p.summary)).concat(patients));
}

const loinc = OBSERVATION_KINDS.filter((k) => k.system === LOINC_SYSTEM);
const npu = OBSERVATION_KINDS.filter((k) => k.system === NPU_SYSTEM);
const year = (rng: Rng): number => rng.int(FIRST_YEAR, LAST_YEAR);
const loincCode = (rng: Rng): string => enc(`${LOINC_SYSTEM}|${rng.pick(loinc).code}`);

/** The fixed query mix (order is the order they run and are reported in). */
export const QUERY_CLASSES: readonly QueryClass[] = [
  {
    name: 'patient-identifier',
    shape: `Patient?identifier=${CPR_SYSTEM}|{cpr}`,
    build: (rng, ps) => `/fhir/Patient?identifier=${enc(`${CPR_SYSTEM}|${rng.pick(ps).summary.cpr}`)}`,
  },
  {
    name: 'patient-name-prefix',
    shape: 'Patient?name={3 letters}',
    build: (rng) => `/fhir/Patient?name=${enc(rng.pick([...FEMALE_GIVEN, ...MALE_GIVEN]).slice(0, 3).toLowerCase())}`,
  },
  {
    name: 'patient-family',
    shape: 'Patient?family={family}',
    build: (rng) => `/fhir/Patient?family=${enc(rng.pick(FAMILY_NAMES))}`,
  },
  {
    name: 'patient-family-given',
    shape: 'Patient?family={family}&given={given}',
    build: (rng, ps) => {
      const p = rng.pick(ps).summary;
      return `/fhir/Patient?family=${enc(p.family)}&given=${enc(p.given)}`;
    },
  },
  {
    name: 'patient-birthdate',
    shape: 'Patient?birthdate={yyyy-mm-dd}',
    build: (rng, ps) => `/fhir/Patient?birthdate=${rng.pick(ps).summary.birthDate}`,
  },
  {
    name: 'patient-birthdate-range',
    shape: 'Patient?birthdate=ge{Y}-01-01&birthdate=lt{Y+1}-01-01',
    build: (rng) => {
      const y = rng.int(1930, 2019);
      return `/fhir/Patient?birthdate=ge${y}-01-01&birthdate=lt${y + 1}-01-01`;
    },
  },
  {
    name: 'patient-gender-count50',
    shape: 'Patient?gender={g}&_count=50',
    build: (rng) => `/fhir/Patient?gender=${rng.pick(['female', 'male'])}&_count=50`,
  },
  {
    name: 'patient-family-total',
    shape: 'Patient?family={family}&_total=accurate',
    build: (rng) => `/fhir/Patient?family=${enc(rng.pick(FAMILY_NAMES))}&_total=accurate`,
  },
  {
    name: 'obs-code-loinc',
    shape: 'Observation?code=http://loinc.org|{code}',
    build: (rng) => `/fhir/Observation?code=${loincCode(rng)}`,
  },
  {
    name: 'obs-code-npu',
    shape: `Observation?code=${NPU_SYSTEM}|{NPU code}`,
    build: (rng) => `/fhir/Observation?code=${enc(`${NPU_SYSTEM}|${rng.pick(npu).code}`)}`,
  },
  {
    name: 'obs-code-total',
    shape: 'Observation?code={loinc}&_total=accurate',
    build: (rng) => `/fhir/Observation?code=${loincCode(rng)}&_total=accurate`,
  },
  {
    name: 'obs-date-year',
    shape: 'Observation?date=ge{Y}-01-01&date=lt{Y+1}-01-01',
    build: (rng) => {
      const y = year(rng);
      return `/fhir/Observation?date=ge${y}-01-01&date=lt${y + 1}-01-01`;
    },
  },
  {
    name: 'obs-code-date-sort',
    shape: 'Observation?code={loinc}&date=ge{Y}-01-01&_sort=-date&_count=10',
    build: (rng) => `/fhir/Observation?code=${loincCode(rng)}&date=ge${year(rng)}-01-01&_sort=-date&_count=10`,
  },
  {
    name: 'obs-subject',
    shape: 'Observation?subject=Patient/{id}',
    build: (rng, ps) => `/fhir/Observation?subject=${enc(`Patient/${rng.pick(ps).id}`)}`,
  },
  {
    name: 'obs-subject-code-sort',
    shape: 'Observation?subject=Patient/{id}&code={code}&_sort=-date',
    build: (rng, ps) => {
      const p = rng.pick(ps);
      const code = p.summary.observationCodes.length > 0 ? rng.pick(p.summary.observationCodes) : `${LOINC_SYSTEM}|8867-4`;
      return `/fhir/Observation?subject=${enc(`Patient/${p.id}`)}&code=${enc(code)}&_sort=-date`;
    },
  },
  {
    name: 'obs-value-quantity',
    shape: 'Observation?code=http://loinc.org|8867-4&value-quantity=gt{n}',
    build: (rng) => `/fhir/Observation?code=${enc(`${LOINC_SYSTEM}|8867-4`)}&value-quantity=gt${rng.int(80, 115)}`,
  },
  {
    name: 'obs-chained-name',
    shape: 'Observation?subject:Patient.name={family}',
    build: (rng, ps) => `/fhir/Observation?subject:Patient.name=${enc(rng.pick(ps).summary.family)}`,
  },
  {
    name: 'obs-chained-identifier',
    shape: 'Observation?subject:Patient.identifier={cpr}',
    build: (rng, ps) => `/fhir/Observation?subject:Patient.identifier=${enc(`${CPR_SYSTEM}|${rng.pick(ps).summary.cpr}`)}`,
  },
  {
    name: 'obs-include-subject',
    shape: 'Observation?code={loinc}&date=ge{Y}&_include=Observation:subject',
    build: (rng) => `/fhir/Observation?code=${loincCode(rng)}&date=ge${year(rng)}-01-01&_include=Observation:subject`,
  },
  {
    name: 'patient-revinclude-obs',
    shape: 'Patient?_id={id}&_revinclude=Observation:subject',
    build: (rng, ps) => `/fhir/Patient?_id=${enc(rng.pick(ps).id)}&_revinclude=Observation:subject`,
  },
  {
    name: 'patient-has-obs',
    shape: 'Patient?_has:Observation:subject:code={code}',
    build: (rng) => `/fhir/Patient?_has:Observation:subject:code=${loincCode(rng)}`,
  },
  {
    name: 'condition-code',
    shape: `Condition?code=${ICD10_SYSTEM}|{icd10}`,
    build: (rng) => `/fhir/Condition?code=${enc(`${ICD10_SYSTEM}|${rng.pick(CONDITION_CODES)[0]}`)}`,
  },
  {
    name: 'condition-patient-active',
    shape: 'Condition?patient=Patient/{id}&clinical-status=active',
    build: (rng, ps) => `/fhir/Condition?patient=${enc(`Patient/${patientWith(rng, ps, (p) => p.activeConditions > 0).id}`)}&clinical-status=active`,
  },
  {
    name: 'encounter-date-month',
    shape: 'Encounter?date=ge{Y-M}-01&date=lt{Y-M+1}-01',
    build: (rng) => {
      const start = new Date(Date.UTC(year(rng), rng.int(0, 11), 1));
      const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
      return `/fhir/Encounter?date=ge${start.toISOString().slice(0, 10)}&date=lt${end.toISOString().slice(0, 10)}`;
    },
  },
  {
    name: 'encounter-subject-sort',
    shape: 'Encounter?subject=Patient/{id}&_sort=-date',
    build: (rng, ps) => `/fhir/Encounter?subject=${enc(`Patient/${rng.pick(ps).id}`)}&_sort=-date`,
  },
  {
    name: 'medreq-active-subject',
    shape: 'MedicationRequest?status=active&subject=Patient/{id}',
    build: (rng, ps) => `/fhir/MedicationRequest?status=active&subject=${enc(`Patient/${patientWith(rng, ps, (p) => p.activeMedicationRequests > 0).id}`)}`,
  },
  {
    name: 'immunization-patient',
    shape: 'Immunization?patient=Patient/{id}',
    build: (rng, ps) => `/fhir/Immunization?patient=${enc(`Patient/${patientWith(rng, ps, (p) => p.immunizations > 0).id}`)}`,
  },
];
