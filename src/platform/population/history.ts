import type { Department, DiagnosisKey, DrugKey, NpuKey, SpecialtyKey } from '../registers/index.ts';
import { CHILDHOOD_PROGRAMME, CodeSystemUri, DIAGNOSES, ICPC2, coding, concept } from '../registers/index.ts';
import { addYears, danishDate, isoDay, yearOf, yearsBetween } from './dates.ts';
import type { Chart, ChronicKey, HistoryOptions, HospitalEventKind } from './model.ts';
import {
  PROGRAMME_SERIES,
  addAppointment,
  addCondition,
  addDocument,
  addEncounter,
  addImmunization,
  addLabPanel,
  addMedication,
  addObservation,
  addProcedure,
  addQuestionnaireResponse,
  addReferral,
} from './resources.ts';
import type { LetterKind } from './texts.ts';
import { writeLetter } from './texts.ts';

/**
 * One citizen's clinical history up to `asOf`, with prevalences that follow Danish figures
 * roughly: chronic conditions by age and sex with their medication, yearly controls with lab
 * trends, PRO answers and booked appointments; GP contacts; hospital contacts with diagnoses,
 * procedures and discharge letters; vaccinations; referrals; home nursing; COPD telemedicine.
 */

interface ChronicSpec {
  readonly diagnosis: DiagnosisKey;
  /** Probability for a person of this age and sex. */
  readonly chance: (age: number, sex: 'male' | 'female') => number;
  readonly minAge: number;
  readonly drugs: (c: Chart, has: ReadonlySet<ChronicKey>) => DrugKey[];
  /** Analyses at the yearly control. */
  readonly labs: readonly NpuKey[];
  /** Analyses half a year after each control. */
  readonly midYear?: readonly NpuKey[];
  readonly bloodPressure?: boolean;
  readonly weight?: boolean;
  readonly pro?: boolean;
  /** Followed in a hospital outpatient clinic rather than by the GP. */
  readonly clinic?: SpecialtyKey;
}

const band = (age: number, bands: readonly (readonly [number, number])[]): number => {
  let p = 0;
  for (const [from, value] of bands) {
    if (age >= from) {
      p = value;
    }
  }
  return p;
};

const CHRONIC: Readonly<Record<ChronicKey, ChronicSpec>> = {
  diabetes2: {
    diagnosis: 'diabetes2',
    minAge: 25,
    chance: (age) => band(age, [[25, 0.004], [30, 0.03], [50, 0.08], [70, 0.12]]),
    drugs: (c) => ['metformin', ...(c.rng.chance(0.5) ? (['empagliflozin'] as const) : []), ...(c.rng.chance(0.25) ? (['semaglutide'] as const) : []), ...(c.rng.chance(0.15) ? (['insulinGlargine'] as const) : []), 'atorvastatin'],
    labs: ['hba1c', 'creatinine', 'uacr', 'ldl', 'cholesterol'],
    midYear: ['hba1c'],
    bloodPressure: true,
    weight: true,
    pro: true,
  },
  diabetes1: {
    diagnosis: 'diabetes1',
    minAge: 3,
    chance: () => 0.005,
    drugs: () => ['insulinGlargine', 'insulinAspart'],
    labs: ['hba1c', 'creatinine', 'uacr'],
    midYear: ['hba1c'],
    pro: true,
    clinic: 'endocrinology',
  },
  hypertension: {
    diagnosis: 'hypertension',
    minAge: 25,
    chance: (age) => band(age, [[25, 0.02], [40, 0.15], [60, 0.35], [80, 0.45]]),
    drugs: (c) => {
      const first = c.rng.pick<DrugKey>(['ramipril', 'losartan', 'amlodipine']);
      return c.rng.chance(0.4) ? [first, first === 'amlodipine' ? 'ramipril' : 'amlodipine'] : [first];
    },
    labs: ['creatinine', 'sodium', 'potassium'],
    bloodPressure: true,
  },
  copd: {
    diagnosis: 'copd',
    minAge: 40,
    chance: (age) => band(age, [[40, 0.03], [60, 0.08]]),
    drugs: (c) => ['salbutamol', 'tiotropium', ...(c.rng.chance(0.5) ? (['salmeterolFluticasone'] as const) : [])],
    labs: ['haemoglobin'],
    weight: true,
    pro: true,
  },
  heartFailure: {
    diagnosis: 'heartFailure',
    minAge: 55,
    chance: (age) => band(age, [[55, 0.008], [60, 0.02], [75, 0.06]]),
    drugs: (c, has) => [...(has.has('hypertension') ? [] : (['ramipril'] as const)), 'bisoprolol', 'furosemide', ...(c.rng.chance(0.5) ? (['spironolactone'] as const) : []), ...(has.has('diabetes2') ? [] : c.rng.chance(0.5) ? (['dapagliflozin'] as const) : [])],
    labs: ['ntprobnp', 'creatinine', 'sodium', 'potassium'],
    bloodPressure: true,
    weight: true,
    pro: true,
  },
  atrialFibrillation: {
    diagnosis: 'atrialFibrillation',
    minAge: 50,
    chance: (age) => band(age, [[50, 0.01], [60, 0.04], [75, 0.1]]),
    drugs: (_c, has) => ['apixaban', ...(has.has('heartFailure') ? [] : (['bisoprolol'] as const))],
    labs: ['creatinine', 'haemoglobin'],
  },
  angina: {
    diagnosis: 'angina',
    minAge: 45,
    chance: (age, sex) => band(age, [[45, 0.01], [55, 0.04], [70, 0.07]]) * (sex === 'male' ? 1.4 : 0.7),
    drugs: (_c, has) => ['aspirin', ...(has.has('diabetes2') ? [] : (['atorvastatin'] as const)), ...(has.has('heartFailure') || has.has('atrialFibrillation') ? [] : (['metoprolol'] as const))],
    labs: ['ldl', 'cholesterol'],
  },
  asthma: {
    diagnosis: 'asthma',
    minAge: 4,
    chance: () => 0.06,
    drugs: () => ['budesonide', 'salbutamol'],
    labs: [],
  },
  depression: {
    diagnosis: 'depression',
    minAge: 18,
    chance: (_age, sex) => (sex === 'female' ? 0.06 : 0.035),
    drugs: (c) => (c.rng.chance(0.6) ? ['sertraline'] : []),
    labs: [],
  },
  hypothyroidism: {
    diagnosis: 'hypothyroidism',
    minAge: 30,
    chance: (_age, sex) => (sex === 'female' ? 0.04 : 0.008),
    drugs: () => ['levothyroxine'],
    labs: ['tsh'],
  },
  kneeArthrosis: {
    diagnosis: 'kneeArthrosis',
    minAge: 50,
    chance: (age) => band(age, [[50, 0.04], [60, 0.1], [75, 0.15]]),
    drugs: (c) => (c.rng.chance(0.5) ? ['paracetamol'] : []),
    labs: [],
  },
  obesity: {
    diagnosis: 'obesity',
    minAge: 18,
    chance: () => 0.1,
    drugs: () => [],
    labs: [],
  },
};

/** Draw order: diseases that make others more likely come first. */
const CHRONIC_ORDER: readonly ChronicKey[] = ['obesity', 'diabetes2', 'hypertension', 'diabetes1', 'copd', 'heartFailure', 'atrialFibrillation', 'angina', 'asthma', 'depression', 'hypothyroidism', 'kneeArthrosis'];

interface ChronicState {
  readonly key: ChronicKey;
  readonly onset: number;
  readonly conditionId: string;
}

/** Per-person lab model: a baseline and a yearly slope for each analysis, plus noise. */
interface LabModel {
  value(key: NpuKey, day: number): number;
}

function labModel(c: Chart, has: ReadonlySet<ChronicKey>, onsetOf: (k: ChronicKey) => number | undefined): LabModel {
  const r = c.rng;
  const male = c.p.sex === 'male';
  const age = yearsBetween(c.p.birthDay, c.asOf);
  const statin = has.has('diabetes2') || has.has('angina');
  const base: Record<NpuKey, readonly [number, number, number]> = {
    // [baseline, slope per year, noise sd]
    hba1c: has.has('diabetes2') || has.has('diabetes1') ? [r.normal(has.has('diabetes1') ? 62 : 58, 7), r.normal(-1.2, 1.5), 3.5] : [r.normal(36, 3), 0.2, 1.5],
    cholesterol: statin ? [r.normal(4.2, 0.5), -0.05, 0.3] : [r.normal(5.3, 0.8), 0.03, 0.3],
    hdl: [r.normal(male ? 1.3 : 1.6, 0.25), 0, 0.1],
    ldl: statin ? [r.normal(2.3, 0.4), -0.08, 0.25] : [r.normal(3.2, 0.6), 0.02, 0.25],
    triglyceride: [r.normal(has.has('diabetes2') ? 2.0 : 1.3, 0.4), 0, 0.3],
    creatinine: [r.normal(male ? 85 : 68, 9) + Math.max(0, age - 60) * 0.6 + (has.has('heartFailure') ? 20 : 0), has.has('diabetes2') || has.has('heartFailure') ? 2.5 : 0.6, 5],
    uacr: [Math.abs(r.normal(has.has('diabetes2') || has.has('diabetes1') ? 18 : 6, 14)), 1.5, 4],
    sodium: [r.normal(has.has('heartFailure') ? 138 : 140, 1.5), 0, 1.5],
    potassium: [r.normal(4.1, 0.25), 0, 0.2],
    haemoglobin: [r.normal(male ? 9.0 : 8.2, 0.4), has.has('copd') ? 0.05 : -0.03, 0.25],
    crp: [Math.abs(r.normal(2, 1.5)) + 1, 0, 1.5],
    leukocytes: [r.normal(6.5, 1.2), 0, 0.8],
    ntprobnp: has.has('heartFailure') ? [Math.abs(r.normal(260, 120)) + 60, r.normal(-20, 30), 60] : [Math.abs(r.normal(12, 6)) + 3, 0.5, 3],
    tsh: has.has('hypothyroidism') ? [r.normal(2.4, 0.9), -0.1, 0.8] : [r.normal(1.8, 0.6), 0, 0.4],
    alat: [r.normal(male ? 30 : 22, 7), 0, 5],
    inr: [1.0, 0, 0.06],
    spo2: [r.normal(has.has('copd') ? 93 : 97, 1.2), has.has('copd') ? -0.3 : 0, 1.3],
    pulse: [r.normal(has.has('copd') ? 80 : 70, 6), 0, 5],
    weight: [r.normal(male ? 86 : 72, 12) + (has.has('obesity') ? 22 : 0) + (has.has('diabetes2') ? 8 : 0), r.normal(0, 0.8), 0.7],
    bmi: [r.normal(26, 3), 0, 0.3],
    systolic: [r.normal(has.has('hypertension') ? 142 : 124, 8), has.has('hypertension') ? -1.5 : 0.4, 7],
    diastolic: [r.normal(has.has('hypertension') ? 86 : 78, 5), has.has('hypertension') ? -0.8 : 0.2, 5],
  };
  const start = onsetOf('diabetes2') ?? onsetOf('diabetes1') ?? onsetOf('heartFailure') ?? c.asOf - 5 * 365;
  return {
    value(key: NpuKey, day: number): number {
      const [b, slope, sd] = base[key];
      const years = Math.max(0, (day - start) / 365);
      // Treatment effects level off: the slope applies for the first five years.
      const v = b + slope * Math.min(years, 5) + r.normal(0, sd);
      switch (key) {
        case 'hba1c':
          return Math.max(28, v);
        case 'crp':
          return Math.max(1, v);
        case 'uacr':
          return Math.max(1, v);
        case 'ntprobnp':
          return Math.max(3, v);
        case 'tsh':
          return Math.max(0.05, v);
        case 'spo2':
          return Math.min(99, Math.max(84, v));
        case 'sodium':
        case 'potassium':
        case 'haemoglobin':
        case 'creatinine':
        case 'cholesterol':
        case 'hdl':
        case 'ldl':
        case 'triglyceride':
        case 'leukocytes':
        case 'alat':
        case 'inr':
        case 'pulse':
        case 'weight':
        case 'bmi':
        case 'systolic':
        case 'diastolic':
          return Math.max(0.1, v);
      }
    },
  };
}

function gpRole(c: Chart): string {
  return c.p.gpDoctor.roleId;
}

/** A department for the specialty: in the person's hospital, else elsewhere in the region, else at Rigshospitalet. */
function department(c: Chart, specialty: SpecialtyKey): Department {
  const own = c.hospital.departments.get(specialty);
  if (own !== undefined) {
    return own;
  }
  for (const h of c.ref.hospitalsByRegion.get(c.hospital.region) ?? []) {
    const d = h.departments.get(specialty);
    if (d !== undefined) {
      return d;
    }
  }
  return c.ref.hospitals[0]!.departments.get(specialty) ?? c.hospital.departments.get('internalMedicine')!;
}

function hospitalName(c: Chart, d: Department): string {
  return c.ref.hospitals.find((h) => d.id.startsWith(`${h.id}-`))?.name ?? c.hospital.name;
}

/** Dates: a random working-day-ish minute between 8:00 and 15:30. */
function clinicMinute(c: Chart): number {
  return 8 * 60 + c.rng.int(0, 15) * 30;
}

// ------------------------------------------------------------------------------ vaccinations

function vaccinations(c: Chart): void {
  const birthYear = yearOf(c.p.birthDay);
  if (birthYear >= 1996) {
    for (const d of CHILDHOOD_PROGRAMME) {
      if ((d.sex !== undefined && d.sex !== c.p.sex) || (d.fromBirthYear !== undefined && birthYear < d.fromBirthYear) || (d.toBirthYear !== undefined && birthYear > d.toBirthYear)) {
        continue;
      }
      const day = c.p.birthDay + Math.round(d.ageMonths * 30.44) + c.rng.int(0, 35);
      if (day >= c.asOf || c.rng.chance(d.vaccine === 'mmr' || d.vaccine === 'hpv' ? 0.08 : 0.04)) {
        continue;
      }
      addImmunization(c, d.vaccine, day, gpRole(c), { series: PROGRAMME_SERIES, number: d.dose });
    }
  }
  const age = yearsBetween(c.p.birthDay, c.asOf);
  if (age >= 66) {
    for (const season of [2024, 2025]) {
      const day = dayOfYear(season, 10, 1) + c.rng.int(0, 60);
      if (day < c.asOf && c.rng.chance(0.7)) {
        addImmunization(c, 'influenza', day, gpRole(c));
      }
    }
    const covid = dayOfYear(2025, 10, 1) + c.rng.int(0, 45);
    if (covid < c.asOf && c.rng.chance(0.6)) {
      addImmunization(c, 'covid19', covid, gpRole(c));
    }
  }
}

function dayOfYear(year: number, month: number, day: number): number {
  return Math.round(Date.UTC(year, month - 1, day) / 86_400_000);
}

// ------------------------------------------------------------------------ chronic conditions

function drawChronic(c: Chart, options: HistoryOptions): Map<ChronicKey, number> {
  const age = yearsBetween(c.p.birthDay, c.asOf);
  const onsets = new Map<ChronicKey, number>();
  for (const [key, yearsAgo] of options.chronic ?? []) {
    onsets.set(key, Math.max(c.p.birthDay + 365, addYears(c.asOf, -yearsAgo) - c.rng.int(0, 120)));
  }
  if (options.onlyForced === true) {
    return onsets;
  }
  for (const key of CHRONIC_ORDER) {
    const spec = CHRONIC[key];
    if (age < spec.minAge || onsets.has(key)) {
      continue;
    }
    let p = spec.chance(age, c.p.sex);
    if (key === 'diabetes2' && onsets.has('obesity')) {
      p *= 3;
    }
    if (key === 'hypertension' && (onsets.has('diabetes2') || onsets.has('obesity'))) {
      p = Math.min(0.8, p * 1.6);
    }
    if (key === 'diabetes1' && onsets.has('diabetes2')) {
      p = 0;
    }
    if (key === 'atrialFibrillation' && onsets.has('heartFailure')) {
      p *= 3;
    }
    if (!c.rng.chance(p)) {
      continue;
    }
    const maxYears = Math.max(1, Math.min(age - spec.minAge + 1, key === 'diabetes1' || key === 'asthma' ? age - 2 : 20));
    const yearsAgo = c.rng.int(0, maxYears);
    onsets.set(key, Math.max(c.p.birthDay + 365 * spec.minAge, addYears(c.asOf, -yearsAgo) - c.rng.int(10, 360)));
  }
  return onsets;
}

function chronicConditions(c: Chart, onsets: ReadonlyMap<ChronicKey, number>): ChronicState[] {
  const has = new Set(onsets.keys());
  const states: ChronicState[] = [];
  const prescribed = new Set<DrugKey>();
  for (const key of CHRONIC_ORDER) {
    const onset = onsets.get(key);
    if (onset === undefined) {
      continue;
    }
    const spec = CHRONIC[key];
    const conditionId = addCondition(c, { key: spec.diagnosis, chronic: true, onset, recorder: gpRole(c) });
    states.push({ key, onset, conditionId });
    for (const drug of spec.drugs(c, has)) {
      if (prescribed.has(drug)) {
        continue;
      }
      prescribed.add(drug);
      const start = onset + c.rng.int(0, 60);
      const renewed = Math.max(start, c.asOf - c.rng.int(20, 600));
      if (start >= c.asOf) {
        continue;
      }
      addMedication(c, { drug, start, prescriber: spec.clinic === undefined ? gpRole(c) : department(c, spec.clinic).doctors[0]!.roleId, reason: conditionId, current: true, renewed });
    }
  }
  return states;
}

function controls(c: Chart, states: readonly ChronicState[], lab: LabModel): void {
  const followed = states.filter((s) => CHRONIC[s.key].labs.length > 0 || CHRONIC[s.key].bloodPressure === true || CHRONIC[s.key].weight === true);
  if (followed.length === 0) {
    return;
  }
  const firstOnset = Math.min(...followed.map((s) => s.onset));
  const latest = c.asOf - c.rng.int(5, 330);
  const clinic = followed.map((s) => CHRONIC[s.key].clinic).find((k) => k !== undefined);
  const dept = clinic === undefined ? undefined : department(c, clinic);
  const requester = dept === undefined ? gpRole(c) : dept.doctors[0]!.roleId;
  const conditionIds = followed.map((s) => s.conditionId);
  const diseases = followed.map((s) => DIAGNOSES[CHRONIC[s.key].diagnosis].display.split(' UNS')[0]!.split(' uden')[0]!).join(', ');
  for (let k = 0; k < 4; k++) {
    const day = latest - k * 365;
    const active = followed.filter((s) => s.onset + 60 < day);
    if (active.length === 0 || day < firstOnset) {
      break;
    }
    const keys = [...new Set(active.flatMap((s) => CHRONIC[s.key].labs))];
    if (keys.length > 0) {
      addLabPanel(c, { day, keys, value: (key) => lab.value(key, day), requester, reasons: active.map((s) => s.conditionId) });
    }
    if (active.some((s) => CHRONIC[s.key].pro === true) && day + 5 >= c.asOf - 730) {
      const bad = active.some((s) => s.key === 'copd' || s.key === 'heartFailure');
      addQuestionnaireResponse(c, day + 3, {
        health: Math.max(0, Math.min(10, Math.round(c.rng.normal(bad ? 5.5 : 7, 1.5)))),
        breathlessness: Math.max(0, Math.min(4, Math.round(c.rng.normal(bad ? 2 : 0.5, 0.9)))),
        fatigue: Math.max(0, Math.min(4, Math.round(c.rng.normal(1.3, 0.9)))),
        activeDays: c.rng.int(bad ? 0 : 1, bad ? 4 : 7),
        medicine: c.rng.chance(0.9),
        ...(c.rng.chance(0.15) ? { concerns: c.rng.pick(['Jeg sover dårligt om natten.', 'Kan vi tale om min medicin?', 'Jeg er mere forpustet end sidste år.', 'Jeg har fået ondt i fødderne.']) } : {}),
      });
    }
    const visit = day + 7;
    const visitMinute = clinicMinute(c);
    const enc = addEncounter(c, {
      cls: 'AMB',
      start: visit,
      startMinute: visitMinute,
      end: visit,
      endMinute: visitMinute + 20,
      provider: dept === undefined ? c.p.gp.id : dept.id,
      participant: requester,
      acute: false,
      reason: `Årskontrol: ${diseases}`,
      reasonConditions: conditionIds,
    });
    if (active.some((s) => CHRONIC[s.key].bloodPressure === true)) {
      addObservation(c, { key: 'systolic', value: lab.value('systolic', visit), day: visit, minute: 9 * 60, performer: { reference: `PractitionerRole/${requester}` }, encounter: enc });
      addObservation(c, { key: 'diastolic', value: lab.value('diastolic', visit), day: visit, minute: 9 * 60, performer: { reference: `PractitionerRole/${requester}` }, encounter: enc });
    }
    if (active.some((s) => CHRONIC[s.key].weight === true)) {
      addObservation(c, { key: 'weight', value: lab.value('weight', visit), day: visit, minute: 9 * 60, performer: { reference: `PractitionerRole/${requester}` }, encounter: enc });
    }
    if (dept !== undefined && k === 0 && active.some((s) => s.key === 'diabetes1')) {
      const doctor = dept.doctors[0]!;
      const letter = writeLetter('diabetesOutpatient', {
        patientName: name(c),
        birthDate: danishDate(c.p.birthDay),
        department: dept.name.split(', ')[0]!,
        hospital: hospitalName(c, dept),
        admitted: danishDate(visit),
        discharged: danishDate(visit),
        doctor: doctor.name,
        diagnosis: DIAGNOSES.diabetes1.display,
        diagnosisCode: DIAGNOSES.diabetes1.sks,
        values: { hba1c: String(Math.round(lab.value('hba1c', day))) },
      });
      addDocument(c, { ...letter, day: visit, minute: 15 * 60, author: doctor.roleId, custodian: dept.id, encounter: enc, discharge: false, periodStart: visit });
    }
    const midKeys = [...new Set(active.flatMap((s) => CHRONIC[s.key].midYear ?? []))];
    const mid = day - 182;
    if (midKeys.length > 0 && mid > firstOnset + 60) {
      addLabPanel(c, { day: mid, keys: midKeys, value: (key) => lab.value(key, mid), requester, reasons: active.map((s) => s.conditionId) });
    }
  }
  const next = latest + 365;
  if (next <= c.asOf + 90) {
    addAppointment(c, {
      status: 'booked',
      day: next + 7,
      minute: clinicMinute(c),
      minutes: 20,
      practitionerRole: requester,
      description: `Årskontrol: ${diseases}`,
      type: 'CHECKUP',
      reason: conditionIds[0]!,
    });
  }
}

function name(c: Chart): string {
  return `${c.p.given.join(' ')} ${c.p.family}`;
}

// ---------------------------------------------------------------------------- telemedicine

function telemedicine(c: Chart, lab: LabModel): void {
  for (let w = 12; w >= 1; w--) {
    const day = c.asOf - w * 7 + c.rng.int(0, 2);
    const minute = 8 * 60 + c.rng.int(0, 90);
    for (const key of ['spo2', 'pulse', 'weight'] as const) {
      addObservation(c, { key, value: lab.value(key, day), day, minute, home: true });
    }
  }
}

// -------------------------------------------------------------------------- hospital events

interface EventSpec {
  readonly diagnosis: (c: Chart) => DiagnosisKey;
  readonly specialty: (c: Chart, age: number) => SpecialtyKey;
  readonly cls: 'IMP' | 'AMB' | 'EMER';
  readonly stay: readonly [number, number];
  readonly letter: LetterKind;
  readonly procedure?: 'hipProsthesis' | 'cholecystectomy' | 'pci' | 'chestXray';
  readonly drug?: DrugKey;
  readonly elective?: boolean;
  readonly followUp?: number;
  /** Relative weight for a person of this age and sex (0 = never). */
  readonly weight: (age: number, sex: 'male' | 'female') => number;
  readonly chronicAfter?: boolean;
}

const EVENTS: Readonly<Record<HospitalEventKind, EventSpec>> = {
  pneumonia: { diagnosis: () => 'pneumonia', specialty: (_c, age) => (age < 15 ? 'paediatrics' : 'internalMedicine'), cls: 'IMP', stay: [2, 6], letter: 'pneumonia', procedure: 'chestXray', drug: 'penicillin', weight: (age) => band(age, [[0, 0.6], [15, 0.4], [40, 0.8], [65, 3]]) },
  urinaryInfection: { diagnosis: () => 'urinaryInfection', specialty: () => 'internalMedicine', cls: 'IMP', stay: [2, 4], letter: 'urinaryInfection', drug: 'pivmecillinam', weight: (age, sex) => band(age, [[18, 0.3], [70, 2]]) * (sex === 'female' ? 2 : 1) },
  hipFracture: { diagnosis: () => 'hipFracture', specialty: () => 'orthopaedics', cls: 'IMP', stay: [5, 9], letter: 'hipFracture', procedure: 'hipProsthesis', drug: 'tramadol', weight: (age, sex) => band(age, [[65, 0.8], [75, 3]]) * (sex === 'female' ? 1.5 : 1) },
  hipArthrosis: { diagnosis: () => 'hipArthrosis', specialty: () => 'orthopaedics', cls: 'IMP', stay: [1, 3], letter: 'hipArthrosis', procedure: 'hipProsthesis', elective: true, followUp: 90, weight: (age) => band(age, [[55, 0.6], [65, 1.2]]) },
  gallstones: { diagnosis: () => 'gallstones', specialty: () => 'surgery', cls: 'IMP', stay: [0, 1], letter: 'gallstones', procedure: 'cholecystectomy', elective: true, weight: (age, sex) => band(age, [[25, 0.6], [40, 1], [75, 0.3]]) * (sex === 'female' ? 2 : 1) },
  wristFracture: { diagnosis: () => 'wristFracture', specialty: () => 'emergency', cls: 'EMER', stay: [0, 0], letter: 'wristFracture', followUp: 7, drug: 'paracetamol', weight: (age, sex) => band(age, [[4, 1.2], [18, 0.6], [55, 1.2]]) * (sex === 'female' && age >= 55 ? 2 : 1) },
  ankleSprain: { diagnosis: () => 'ankleSprain', specialty: () => 'emergency', cls: 'EMER', stay: [0, 0], letter: 'ankleSprain', weight: (age) => band(age, [[8, 2], [50, 0.5]]) },
  chestPain: { diagnosis: () => 'chestPain', specialty: () => 'emergency', cls: 'EMER', stay: [0, 0], letter: 'chestPain', procedure: 'chestXray', weight: (age) => band(age, [[30, 0.8], [50, 1.2]]) },
  stroke: { diagnosis: () => 'stroke', specialty: () => 'neurology', cls: 'IMP', stay: [5, 12], letter: 'stroke', drug: 'aspirin', weight: (age) => band(age, [[55, 0.3], [70, 1]]), chronicAfter: true },
  cancer: { diagnosis: (c) => (c.p.sex === 'female' ? 'breastCancer' : 'prostateCancer'), specialty: () => 'oncology', cls: 'AMB', stay: [0, 0], letter: 'cancer', elective: true, followUp: 21, weight: (age) => band(age, [[45, 0.3], [60, 0.7]]) },
};

function hospitalEvent(c: Chart, kind: HospitalEventKind, admitted: number): void {
  const spec = EVENTS[kind];
  const age = yearsBetween(c.p.birthDay, admitted);
  const dx = spec.diagnosis(c);
  const dept = department(c, spec.specialty(c, age));
  const doctor = c.rng.pick(dept.doctors);
  const stay = c.rng.int(spec.stay[0], spec.stay[1]);
  const discharged = Math.min(admitted + stay, c.asOf - 1);
  let referral: string | undefined;
  if (spec.elective === true) {
    referral = addReferral(c, {
      day: admitted - c.rng.int(30, 120),
      status: 'completed',
      text: `Henvises til ${dept.name.split(', ')[0]!.toLowerCase()} pga. ${DIAGNOSES[dx].display.toLowerCase()}.`,
      specialty: dept.specialty,
      performer: dept.id,
      requester: gpRole(c),
      priority: kind === 'cancer' ? 'asap' : 'routine',
      reasonDiagnosis: dx,
    });
  }
  const encId = c.id('enc');
  const conditionId = addCondition(c, {
    key: dx,
    chronic: false,
    onset: admitted,
    ...(kind === 'cancer' || spec.chronicAfter === true ? {} : { abatement: Math.min(discharged + c.rng.int(10, 60), c.asOf) }),
    recorder: doctor.roleId,
    encounter: encId,
  });
  const startMinute = spec.cls === 'EMER' ? c.rng.int(0, 1439) : clinicMinute(c);
  addEncounter(c, {
    id: encId,
    cls: spec.cls,
    start: admitted,
    startMinute,
    end: discharged,
    endMinute: discharged === admitted ? Math.min(1439, startMinute + c.rng.int(60, 300)) : 11 * 60 + c.rng.int(0, 240),
    provider: dept.id,
    participant: doctor.roleId,
    acute: spec.elective !== true,
    reason: DIAGNOSES[dx].display,
    conditions: [conditionId],
  });
  if (spec.procedure !== undefined) {
    addProcedure(c, spec.procedure, spec.procedure === 'chestXray' ? admitted : Math.min(admitted + 1, discharged), { encounter: encId, performer: doctor.roleId, reason: conditionId });
  }
  if (spec.drug !== undefined) {
    addMedication(c, { drug: spec.drug, start: discharged, prescriber: doctor.roleId, reason: conditionId, current: spec.chronicAfter === true });
  }
  const letter = writeLetter(spec.letter, {
    patientName: name(c),
    birthDate: danishDate(c.p.birthDay),
    department: dept.name.split(', ')[0]!,
    hospital: hospitalName(c, dept),
    admitted: danishDate(admitted),
    discharged: danishDate(discharged),
    doctor: doctor.name,
    diagnosis: DIAGNOSES[dx].display,
    diagnosisCode: DIAGNOSES[dx].sks,
    values: {
      days: String(c.rng.int(2, 5)),
      temp: (38.4 + c.rng.int(0, 16) / 10).toFixed(1).replace('.', ','),
      crp: String(c.rng.int(60, 260)),
      spo2: String(c.rng.int(84, 91)),
      kg: String(c.rng.int(2, 6)),
      ntprobnp: String(c.rng.int(200, 1400)),
      ef: String(c.rng.int(25, 40)),
    },
  });
  addDocument(c, { ...letter, day: discharged, minute: 15 * 60 + c.rng.int(0, 120), author: doctor.roleId, custodian: dept.id, encounter: encId, discharge: spec.cls === 'IMP', periodStart: admitted });
  if (spec.followUp !== undefined) {
    const day = discharged + spec.followUp;
    addAppointment(c, {
      status: day < c.asOf ? 'fulfilled' : 'booked',
      day,
      minute: clinicMinute(c),
      minutes: 30,
      practitionerRole: doctor.roleId,
      description: `Kontrol efter ${DIAGNOSES[dx].display.toLowerCase()}`,
      type: 'FOLLOWUP',
      ...(referral === undefined ? {} : { basedOn: referral }),
      reason: conditionId,
    });
  }
}

function chronicEvents(c: Chart, states: readonly ChronicState[]): void {
  for (const s of states) {
    if (s.key === 'heartFailure' && s.onset > c.asOf - 6 * 365) {
      admission(c, 'cardiology', 'heartFailure', 'heartFailure', s.onset, [4, 8]);
    }
    if (s.key === 'copd' && c.rng.chance(0.3)) {
      const day = Math.max(s.onset + 30, c.asOf - c.rng.int(20, 3 * 365));
      if (day < c.asOf - 2) {
        admission(c, 'pulmonology', 'copdExacerbation', 'copdExacerbation', day, [3, 7], 'prednisolone');
      }
    }
    if (s.key === 'angina' && c.rng.chance(0.25)) {
      const day = Math.max(s.onset + 30, c.asOf - c.rng.int(30, 6 * 365));
      if (day < c.asOf - 5) {
        admission(c, 'cardiology', 'myocardialInfarction', 'myocardialInfarction', day, [2, 5], undefined, 'pci');
      }
    }
  }
}

function admission(c: Chart, specialty: SpecialtyKey, dx: DiagnosisKey, letterKind: LetterKind, admitted: number, stayRange: readonly [number, number], drug?: DrugKey, procedure?: 'pci'): void {
  const dept = department(c, specialty);
  const doctor = c.rng.pick(dept.doctors);
  const discharged = Math.min(admitted + c.rng.int(stayRange[0], stayRange[1]), c.asOf - 1);
  const encId = c.id('enc');
  const conditionId = addCondition(c, { key: dx, chronic: false, onset: admitted, abatement: Math.min(discharged + c.rng.int(14, 60), c.asOf), recorder: doctor.roleId, encounter: encId });
  addEncounter(c, {
    id: encId,
    cls: 'IMP',
    start: admitted,
    startMinute: c.rng.int(0, 1439),
    end: discharged,
    endMinute: 11 * 60 + c.rng.int(0, 240),
    provider: dept.id,
    participant: doctor.roleId,
    acute: true,
    reason: DIAGNOSES[dx].display,
    conditions: [conditionId],
  });
  if (procedure !== undefined) {
    addProcedure(c, procedure, admitted, { encounter: encId, performer: doctor.roleId, reason: conditionId });
  }
  if (drug !== undefined) {
    addMedication(c, { drug, start: discharged, prescriber: doctor.roleId, reason: conditionId, current: false });
  }
  const letter = writeLetter(letterKind, {
    patientName: name(c),
    birthDate: danishDate(c.p.birthDay),
    department: dept.name.split(', ')[0]!,
    hospital: hospitalName(c, dept),
    admitted: danishDate(admitted),
    discharged: danishDate(discharged),
    doctor: doctor.name,
    diagnosis: DIAGNOSES[dx].display,
    diagnosisCode: DIAGNOSES[dx].sks,
    values: { spo2: String(c.rng.int(84, 91)), kg: String(c.rng.int(2, 6)), ntprobnp: String(c.rng.int(200, 1400)), ef: String(c.rng.int(25, 40)) },
  });
  addDocument(c, { ...letter, day: discharged, minute: 15 * 60 + c.rng.int(0, 120), author: doctor.roleId, custodian: dept.id, encounter: encId, discharge: true, periodStart: admitted });
}

function randomHospitalEvents(c: Chart): void {
  const kinds = Object.keys(EVENTS) as HospitalEventKind[];
  for (let y = 0; y < 6; y++) {
    const day = c.asOf - y * 365 - c.rng.int(3, 360);
    if (day <= c.p.birthDay + 30) {
      break;
    }
    const age = yearsBetween(c.p.birthDay, day);
    const p = band(age, [[0, 0.03], [15, 0.035], [40, 0.05], [65, 0.09], [80, 0.14]]);
    if (!c.rng.chance(p)) {
      continue;
    }
    const weighted = kinds.map((k) => [k, EVENTS[k].weight(age, c.p.sex)] as const).filter(([, w]) => w > 0);
    if (weighted.length > 0) {
      hospitalEvent(c, c.rng.weighted(weighted), day);
    }
  }
}

// ------------------------------------------------------------------------------ GP contacts

interface GpReason {
  readonly icpc: string;
  readonly diagnosis?: DiagnosisKey;
  readonly drug?: DrugKey;
  readonly drugChance?: number;
  readonly labs?: readonly NpuKey[];
  readonly weight: (age: number, sex: 'male' | 'female') => number;
}

const GP_REASONS: readonly GpReason[] = [
  { icpc: 'R74', diagnosis: 'upperRespiratory', drug: 'penicillin', drugChance: 0.25, weight: (age) => (age < 15 ? 4 : 2) },
  { icpc: 'U71', diagnosis: 'urinaryInfection', drug: 'pivmecillinam', drugChance: 0.9, weight: (age, sex) => (sex === 'female' && age >= 15 ? 2 : 0.2) },
  { icpc: 'L03', diagnosis: 'lowBackPain', drug: 'paracetamol', drugChance: 0.3, weight: (age) => (age >= 20 ? 1.5 : 0) },
  { icpc: 'A04', labs: ['haemoglobin', 'crp', 'tsh', 'creatinine', 'alat'], weight: (age) => (age >= 18 ? 1 : 0) },
  { icpc: 'R05', weight: () => 1.5 },
  { icpc: 'S88', drug: 'cetirizine', drugChance: 0.2, weight: () => 1 },
  { icpc: 'A98', weight: (age) => (age >= 30 ? 0.8 : 0.3) },
];

function gpVisits(c: Chart, lab: LabModel): void {
  const age = yearsBetween(c.p.birthDay, c.asOf);
  const n = age < 6 ? c.rng.int(0, 3) : age < 65 ? c.rng.int(0, 2) : c.rng.int(1, 3);
  for (let i = 0; i < n; i++) {
    const day = c.asOf - c.rng.int(3, 3 * 365);
    if (day <= c.p.birthDay) {
      continue;
    }
    const ageThen = yearsBetween(c.p.birthDay, day);
    const options = GP_REASONS.map((r) => [r, r.weight(ageThen, c.p.sex)] as const).filter(([, w]) => w > 0);
    const reason = c.rng.weighted(options);
    const video = c.rng.chance(0.15);
    let conditionId: string | undefined;
    const encId = c.id('enc');
    if (reason.diagnosis !== undefined && c.rng.chance(0.6)) {
      conditionId = addCondition(c, { key: reason.diagnosis, chronic: false, onset: day, abatement: Math.min(day + c.rng.int(5, 30), c.asOf), recorder: gpRole(c), encounter: encId });
    }
    const minute = clinicMinute(c);
    addEncounter(c, {
      id: encId,
      cls: video ? 'VR' : 'AMB',
      start: day,
      startMinute: minute,
      end: day,
      endMinute: minute + 15,
      provider: c.p.gp.id,
      participant: gpRole(c),
      acute: true,
      reason: `${video ? 'Videokonsultation' : 'Konsultation'}: ${ICPC2[reason.icpc] ?? reason.icpc}`,
      ...(conditionId === undefined ? {} : { conditions: [conditionId] }),
      reasonCode: concept([coding(CodeSystemUri.icpc2, reason.icpc, ICPC2[reason.icpc])]),
    });
    if (reason.drug !== undefined && c.rng.chance(reason.drugChance ?? 0)) {
      addMedication(c, { drug: reason.drug, start: day, prescriber: gpRole(c), ...(conditionId === undefined ? {} : { reason: conditionId }), current: false });
    }
    if (reason.labs !== undefined) {
      const labDay = day + 1;
      addLabPanel(c, { day: labDay, keys: reason.labs, value: (key) => lab.value(key, labDay), requester: gpRole(c), reasons: [], encounter: encId });
    }
  }
}

// ----------------------------------------------------------------- referrals, home nursing

const SPECIALIST_TEXT: Partial<Record<SpecialtyKey, string>> = {
  ophthalmology: 'Tiltagende sløret syn, ønskes vurderet.',
  dermatology: 'Forandret modermærke på ryggen, ønskes vurderet.',
  ent: 'Vedvarende nedsat hørelse på venstre øre.',
  rheumatology: 'Ledsmerter og morgenstivhed i hænderne gennem 3 måneder.',
  psychiatry: 'Vedvarende angst trods samtaleforløb, ønskes vurderet.',
  gynaecology: 'Blødningsforstyrrelser, ønskes udredt.',
  cardiology: 'Anfald af hjertebanken, ønskes udredt.',
};

function pendingReferral(c: Chart, states: readonly ChronicState[]): void {
  const knee = states.find((s) => s.key === 'kneeArthrosis');
  const day = c.asOf - c.rng.int(5, 60);
  let referral: string;
  let role: string;
  let description: string;
  if (knee !== undefined) {
    const dept = department(c, 'orthopaedics');
    referral = addReferral(c, { day, status: 'active', text: 'Knæsmerter trods behandling; ønskes vurderet med henblik på operation.', specialty: 'orthopaedics', performer: dept.id, requester: gpRole(c), priority: 'routine', reason: knee.conditionId });
    role = dept.doctors[0]!.roleId;
    description = 'Forundersøgelse, ortopædkirurgisk ambulatorium';
  } else {
    const specialists = (c.ref.specialists.get(c.p.municipality.region) ?? []).filter((s) => SPECIALIST_TEXT[s.specialty] !== undefined && (s.specialty !== 'gynaecology' || c.p.sex === 'female'));
    if (specialists.length === 0) {
      return;
    }
    const s = c.rng.pick(specialists);
    referral = addReferral(c, { day, status: 'active', text: SPECIALIST_TEXT[s.specialty]!, specialty: s.specialty, performer: s.id, requester: gpRole(c), priority: 'routine' });
    role = s.doctor.roleId;
    description = `Første konsultation hos ${s.name}`;
  }
  if (c.rng.chance(0.6)) {
    addAppointment(c, { status: 'booked', day: c.asOf + c.rng.int(7, 60), minute: clinicMinute(c), minutes: 30, practitionerRole: role, description, type: 'ROUTINE', basedOn: referral });
  }
}

function homeNursing(c: Chart): void {
  const nurses = c.municipal.nurses;
  const reason = c.rng.pick(['Hjemmesygepleje: medicindosering', 'Hjemmesygepleje: sårpleje', 'Hjemmesygepleje: observation af almentilstand']);
  for (let i = 0; i < 2; i++) {
    const day = c.asOf - c.rng.int(1, 60);
    const minute = 8 * 60 + c.rng.int(0, 600);
    addEncounter(c, { cls: 'HH', start: day, startMinute: minute, end: day, endMinute: minute + 20, provider: c.municipal.homeNursing, participant: c.rng.pick(nurses).roleId, acute: false, reason });
  }
}

// ----------------------------------------------------------------------------------- entry

/**
 * Writes the person's clinical history into `c.out`.
 * @param c - the chart (person, rng, reference data)
 * @param options - forced conditions and events (demo users)
 */
export function generateHistory(c: Chart, options: HistoryOptions = {}): void {
  const age = yearsBetween(c.p.birthDay, c.asOf);
  vaccinations(c);
  const onsets = drawChronic(c, options);
  const states = chronicConditions(c, onsets);
  const has = new Set(onsets.keys());
  const lab = labModel(c, has, (k) => onsets.get(k));
  controls(c, states, lab);
  chronicEvents(c, states);
  if (has.has('copd') && (options.telemedicine === true || (options.onlyForced !== true && age >= 60 && c.rng.chance(0.4)))) {
    telemedicine(c, lab);
  }
  gpVisits(c, lab);
  if (options.onlyForced !== true) {
    randomHospitalEvents(c);
  }
  for (const [kind, yearsAgo] of options.hospital ?? []) {
    hospitalEvent(c, kind, addYears(c.asOf, -yearsAgo) - c.rng.int(0, 30));
  }
  const hasLabs = c.out.some((r) => r.resourceType === 'DiagnosticReport');
  if (!hasLabs && age >= 25 && c.rng.chance(0.3)) {
    const day = c.asOf - c.rng.int(10, 3 * 365);
    addLabPanel(c, { day, keys: ['haemoglobin', 'crp', 'creatinine', 'cholesterol'], value: (key) => lab.value(key, day), requester: gpRole(c), reasons: [] });
  }
  if (options.pendingReferral === true || (age >= 18 && options.onlyForced !== true && c.rng.chance(0.05))) {
    pendingReferral(c, states);
  }
  if (age >= 80 && options.onlyForced !== true && c.rng.chance(0.3)) {
    homeNursing(c);
  }
}

/** For tests and documentation: the chronic conditions and their follow-up. */
export const CHRONIC_CONDITIONS: readonly ChronicKey[] = CHRONIC_ORDER;

/**
 * @param day - a day number
 * @returns the ISO date (re-exported for the demo module)
 */
export function dateOf(day: number): string {
  return isoDay(day);
}
