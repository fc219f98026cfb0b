import type {
  Appointment,
  CodeableConcept,
  Condition,
  DiagnosticReport,
  DocumentReference,
  Encounter,
  Immunization,
  MedicationRequest,
  MedicationStatement,
  Observation,
  Organization,
  Patient,
  PractitionerRole,
  ObservationReferenceRange,
  Procedure,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  Reference,
  ServiceRequest,
} from '@medplum/fhirtypes';
import type { DiagnosisKey, DrugKey, NpuKey, ProcedureKey, SpecialtyKey, VaccineKey } from '../registers/index.ts';
import { Canonical, CHILDHOOD_PROGRAMME_SERIES, CodeSystemUri, DIAGNOSES, DRUGS, IEEE_CODES, NPU, PROCEDURES, Profile, SPECIALTY, VACCINES, coding, concept, ref } from '../registers/index.ts';
import { dateTime, isoDay } from './dates.ts';
import type { Chart } from './model.ts';

/** Builders for the clinical resources of one person's chart (each pushes onto `c.out`). */

const TERM = 'http://terminology.hl7.org/CodeSystem';

const CONDITION_CLINICAL = `${TERM}/condition-clinical`;
const CONDITION_VERIFICATION = concept([coding(`${TERM}/condition-ver-status`, 'confirmed', 'Confirmed')]);
const CATEGORY = {
  problem: concept([coding(`${TERM}/condition-category`, 'problem-list-item', 'Problem List Item')]),
  encounter: concept([coding(`${TERM}/condition-category`, 'encounter-diagnosis', 'Encounter Diagnosis')]),
  laboratory: concept([coding(`${TERM}/observation-category`, 'laboratory', 'Laboratory')]),
  vitalSigns: concept([coding(`${TERM}/observation-category`, 'vital-signs', 'Vital Signs')]),
  lab: concept([coding(`${TERM}/v2-0074`, 'LAB', 'Laboratory')]),
  labProcedure: concept([coding(CodeSystemUri.snomed, '108252007', 'Laboratory procedure')]),
  referral: concept([coding(CodeSystemUri.snomed, '3457005', 'Patient referral')]),
  clinicalReport: concept([coding(CodeSystemUri.xdsClassCode, '001', 'Klinisk rapport')]),
};
const INTERPRETATION = {
  L: concept([coding(`${TERM}/v3-ObservationInterpretation`, 'L', 'Low')]),
  H: concept([coding(`${TERM}/v3-ObservationInterpretation`, 'H', 'High')]),
  N: concept([coding(`${TERM}/v3-ObservationInterpretation`, 'N', 'Normal')]),
};

/** Identifier system of lab requisition numbers (WebReq style). */
export const REQUISITION_SYSTEM = 'https://dsd.dk/id/rekvisitionsnummer';

/**
 * @param value - a number
 * @param decimals - decimals to keep
 * @returns the rounded number
 */
export function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/**
 * @param c - the chart
 * @returns a reference to the chart's patient
 */
export function patientRef(c: Chart): Reference<Patient> {
  return ref('Patient', c.p.id);
}

/**
 * @param key - diagnosis key
 * @param withIcpc - add the ICPC-2 coding (general practice)
 * @returns the Condition code (SKS-D, ICD-10 and optionally ICPC-2)
 */
export function diagnosisCode(key: DiagnosisKey, withIcpc: boolean): CodeableConcept {
  const d = DIAGNOSES[key];
  const codings = [coding(CodeSystemUri.sksDiagnosis, d.sks, d.display), coding(CodeSystemUri.icd10, d.icd10, d.display)];
  if (withIcpc && d.icpc2 !== undefined) {
    codings.push(coding(CodeSystemUri.icpc2, d.icpc2, d.display));
  }
  return concept(codings, d.display);
}

export interface ConditionInput {
  readonly key: DiagnosisKey;
  readonly chronic: boolean;
  readonly onset: number;
  readonly abatement?: number;
  readonly recorder: string;
  readonly encounter?: string;
}

/**
 * @param c - the chart
 * @param x - what to record
 * @returns the Condition id
 */
export function addCondition(c: Chart, x: ConditionInput): string {
  const id = c.id('con');
  const status = x.abatement === undefined ? 'active' : 'resolved';
  const resource: Condition = {
    resourceType: 'Condition',
    id,
    meta: { profile: [Profile.condition] },
    clinicalStatus: concept([coding(CONDITION_CLINICAL, status, status === 'active' ? 'Active' : 'Resolved')]),
    verificationStatus: CONDITION_VERIFICATION,
    category: [x.chronic ? CATEGORY.problem : CATEGORY.encounter],
    code: diagnosisCode(x.key, x.chronic || x.encounter === undefined),
    subject: patientRef(c),
    ...(x.encounter === undefined ? {} : { encounter: ref('Encounter', x.encounter) }),
    onsetDateTime: isoDay(x.onset),
    ...(x.abatement === undefined ? {} : { abatementDateTime: isoDay(x.abatement) }),
    recordedDate: isoDay(x.onset),
    recorder: ref('PractitionerRole', x.recorder),
    asserter: ref('PractitionerRole', x.recorder),
  };
  c.out.push(resource);
  return id;
}

export interface EncounterInput {
  readonly cls: 'AMB' | 'IMP' | 'EMER' | 'HH' | 'VR';
  readonly start: number;
  readonly startMinute: number;
  readonly end: number;
  readonly endMinute: number;
  readonly provider: string;
  readonly participant: string;
  readonly acute: boolean;
  readonly reason: string;
  readonly conditions?: readonly string[];
  readonly reasonConditions?: readonly string[];
  readonly reasonCode?: CodeableConcept;
  /** Reserve the id before the diagnoses are written (they point back to it). */
  readonly id?: string;
}

const CLASS_DISPLAY: Readonly<Record<EncounterInput['cls'], string>> = {
  AMB: 'ambulatory',
  IMP: 'inpatient encounter',
  EMER: 'emergency',
  HH: 'home health',
  VR: 'virtual',
};

/**
 * @param c - the chart
 * @param x - the contact
 * @returns the Encounter id
 */
export function addEncounter(c: Chart, x: EncounterInput): string {
  const id = x.id ?? c.id('enc');
  const resource: Encounter = {
    resourceType: 'Encounter',
    id,
    meta: { profile: [Profile.encounter] },
    status: 'finished',
    class: coding(`${TERM}/v3-ActCode`, x.cls, CLASS_DISPLAY[x.cls]),
    type: [{ text: x.reason }],
    priority: concept([x.acute ? coding(`${TERM}/v3-ActPriority`, 'A', 'ASAP') : coding(`${TERM}/v3-ActPriority`, 'EL', 'elective')]),
    subject: patientRef(c),
    participant: [{ individual: ref('PractitionerRole', x.participant) }],
    period: { start: dateTime(x.start, x.startMinute), end: dateTime(x.end, x.endMinute) },
    ...(x.reasonCode === undefined ? {} : { reasonCode: [x.reasonCode] }),
    ...(x.reasonConditions === undefined || x.reasonConditions.length === 0 ? {} : { reasonReference: x.reasonConditions.map((r) => ref('Condition', r)) }),
    ...(x.conditions === undefined || x.conditions.length === 0
      ? {}
      : {
          diagnosis: x.conditions.map((cid, i) => ({
            condition: ref('Condition', cid),
            use: concept([i === 0 ? coding(`${TERM}/diagnosis-role`, 'DD', 'Discharge diagnosis') : coding(`${TERM}/diagnosis-role`, 'CM', 'Comorbidity diagnosis')]),
            rank: i + 1,
          })),
        }),
    ...(x.cls === 'IMP' ? { hospitalization: { dischargeDisposition: concept([coding(`${TERM}/discharge-disposition`, 'home', 'Home')]) } } : {}),
    serviceProvider: ref('Organization', x.provider),
  };
  c.out.push(resource);
  return id;
}

function rangesFor(c: Chart, key: NpuKey): { low?: number; high?: number; text?: string } | undefined {
  const ranges = NPU[key].ranges as readonly { low?: number; high?: number; sex?: string; text?: string }[];
  return ranges.find((r) => r.sex === undefined || r.sex === c.p.sex);
}

export interface ObservationInput {
  readonly key: NpuKey;
  readonly value: number;
  readonly day: number;
  readonly minute: number;
  readonly issuedDay?: number;
  readonly performer?: Reference<Organization | PractitionerRole | Patient>;
  readonly basedOn?: string;
  readonly encounter?: string;
  readonly home?: boolean;
}

/**
 * @param c - the chart
 * @param x - the measurement
 * @returns the Observation id
 */
export function addObservation(c: Chart, x: ObservationInput): string {
  const id = c.id('obs');
  const a = NPU[x.key];
  const value = round(x.value, a.decimals);
  const quantity = (v: number): { value: number; unit: string; system: string; code: string } => ({ value: v, unit: a.unit, system: CodeSystemUri.ucum, code: a.ucum });
  const range = x.home === true ? undefined : rangesFor(c, x.key);
  const codings = [coding(CodeSystemUri.npu, a.code, a.display)];
  const ieee = x.home === true ? IEEE_CODES[x.key] : undefined;
  if (ieee !== undefined) {
    codings.push(coding(CodeSystemUri.ieee11073, ieee.code, ieee.display));
  }
  let interpretation: CodeableConcept | undefined;
  let referenceRange: ObservationReferenceRange[] | undefined;
  if (range !== undefined) {
    interpretation = range.low !== undefined && value < range.low ? INTERPRETATION.L : range.high !== undefined && value > range.high ? INTERPRETATION.H : INTERPRETATION.N;
    referenceRange = [
      {
        ...(range.low === undefined ? {} : { low: quantity(range.low) }),
        ...(range.high === undefined ? {} : { high: quantity(range.high) }),
        ...(range.text === undefined ? {} : { text: range.text }),
      },
    ];
  }
  const resource: Observation = {
    resourceType: 'Observation',
    id,
    meta: { profile: [Profile.observation] },
    ...(x.basedOn === undefined ? {} : { basedOn: [ref('ServiceRequest', x.basedOn)] }),
    status: 'final',
    category: [x.home === true || a.specimen === 'Pt' ? CATEGORY.vitalSigns : CATEGORY.laboratory],
    code: concept(codings, a.short),
    subject: patientRef(c),
    ...(x.encounter === undefined ? {} : { encounter: ref('Encounter', x.encounter) }),
    effectiveDateTime: dateTime(x.day, x.minute),
    issued: dateTime(x.issuedDay ?? x.day, x.issuedDay === undefined ? x.minute + 5 : 14 * 60 + (x.minute % 120)),
    performer: [x.performer ?? patientRef(c)],
    valueQuantity: quantity(value),
    ...(interpretation === undefined ? {} : { interpretation: [interpretation] }),
    ...(x.home === true ? { method: concept([coding('http://ehealth.sundhed.dk/cs/observation-method', 'measured', 'Measured')]) } : {}),
    ...(referenceRange === undefined ? {} : { referenceRange }),
  };
  c.out.push(resource);
  return id;
}

export interface LabInput {
  readonly day: number;
  readonly keys: readonly NpuKey[];
  readonly value: (key: NpuKey) => number;
  readonly requester: string;
  readonly reasons: readonly string[];
  readonly encounter?: string;
}

/**
 * A lab requisition (ServiceRequest), the results (Observations) and the report (DiagnosticReport).
 * @param c - the chart
 * @param x - requisition facts
 * @returns the ids written
 */
export function addLabPanel(c: Chart, x: LabInput): { serviceRequest: string; report: string; observations: string[] } {
  const srId = c.id('sr');
  const lab = c.hospital.laboratory;
  const sampleMinute = 8 * 60 + c.rng.int(0, 150);
  const resultDay = x.day + (c.rng.chance(0.7) ? 0 : 1);
  const names = x.keys.map((k) => NPU[k].short).join(', ');
  const sr: ServiceRequest = {
    resourceType: 'ServiceRequest',
    id: srId,
    meta: { profile: [Profile.serviceRequest] },
    identifier: [{ system: REQUISITION_SYSTEM, value: srId.toUpperCase() }],
    status: 'completed',
    intent: 'order',
    category: [CATEGORY.labProcedure],
    priority: 'routine',
    code: { coding: [coding(CodeSystemUri.snomed, '15220000', 'Laboratory test')], text: `Blodprøver: ${names}` },
    orderDetail: x.keys.map((k) => concept([coding(CodeSystemUri.npu, NPU[k].code, NPU[k].display)], NPU[k].short)),
    subject: patientRef(c),
    ...(x.encounter === undefined ? {} : { encounter: ref('Encounter', x.encounter) }),
    occurrenceDateTime: isoDay(x.day),
    authoredOn: dateTime(x.day - 7, 10 * 60),
    requester: ref('PractitionerRole', x.requester),
    performer: [ref('Organization', lab.id)],
    ...(x.reasons.length === 0 ? {} : { reasonReference: x.reasons.map((r) => ref('Condition', r)) }),
  };
  c.out.push(sr);
  const performer = ref('Organization', lab.id);
  const observations = x.keys.map((k) => addObservation(c, { key: k, value: x.value(k), day: x.day, minute: sampleMinute, issuedDay: resultDay, performer, basedOn: srId }));
  const drId = c.id('dr');
  const report: DiagnosticReport = {
    resourceType: 'DiagnosticReport',
    id: drId,
    meta: { profile: [Profile.diagnosticReport] },
    basedOn: [ref('ServiceRequest', srId)],
    status: 'final',
    category: [CATEGORY.lab],
    code: { coding: [coding(CodeSystemUri.loinc, '11502-2', 'Laboratory report')], text: 'Laboratoriesvar' },
    subject: patientRef(c),
    effectiveDateTime: dateTime(x.day, sampleMinute),
    issued: dateTime(resultDay, 14 * 60 + (sampleMinute % 120)),
    performer: [performer, ref('PractitionerRole', c.rng.pick(lab.nurses).roleId)],
    result: observations.map((o) => ref('Observation', o)),
  };
  c.out.push(report);
  return { serviceRequest: srId, report: drId, observations };
}

export interface MedicationInput {
  readonly drug: DrugKey;
  readonly start: number;
  readonly prescriber: string;
  readonly reason?: string;
  /** Continuing treatment: the prescription is active and the drug is on the medicine card. */
  readonly current: boolean;
  /** Latest renewal of a continuing prescription. */
  readonly renewed?: number;
}

/**
 * A prescription (MedicationRequest) and, for current treatment, the medicine-card entry
 * (MedicationStatement).
 * @param c - the chart
 * @param x - what is prescribed
 * @returns the MedicationRequest id
 */
export function addMedication(c: Chart, x: MedicationInput): string {
  const d = DRUGS[x.drug];
  const med = concept([coding(CodeSystemUri.atc, d.atc, d.display)], d.display);
  const id = c.id('mr');
  const authored = x.renewed ?? x.start;
  const days = 'days' in d ? d.days : undefined;
  const mr: MedicationRequest = {
    resourceType: 'MedicationRequest',
    id,
    status: x.current ? 'active' : 'completed',
    intent: 'order',
    medicationCodeableConcept: med,
    subject: patientRef(c),
    authoredOn: isoDay(authored),
    requester: ref('PractitionerRole', x.prescriber),
    ...(x.reason === undefined ? {} : { reasonReference: [ref('Condition', x.reason)] }),
    dosageInstruction: [{ text: d.dosage }],
    dispenseRequest: x.current
      ? { validityPeriod: { start: isoDay(authored), end: isoDay(authored + 730) }, numberOfRepeatsAllowed: 3 }
      : { validityPeriod: { start: isoDay(authored), end: isoDay(authored + (days ?? 30)) }, numberOfRepeatsAllowed: 0 },
  };
  c.out.push(mr);
  if (x.current) {
    const ms: MedicationStatement = {
      resourceType: 'MedicationStatement',
      id: c.id('ms'),
      basedOn: [ref('MedicationRequest', id)],
      status: 'active',
      medicationCodeableConcept: med,
      subject: patientRef(c),
      effectivePeriod: { start: isoDay(x.start) },
      dateAsserted: isoDay(authored),
      informationSource: ref('PractitionerRole', x.prescriber),
      derivedFrom: [ref('MedicationRequest', id)],
      ...(x.reason === undefined ? {} : { reasonReference: [ref('Condition', x.reason)] }),
      dosage: [{ text: d.dosage }],
    };
    c.out.push(ms);
  }
  return id;
}

/**
 * @param c - the chart
 * @param vaccine - which vaccine
 * @param day - when it was given
 * @param performer - PractitionerRole id of the vaccinator
 * @param dose - dose number in the programme, when part of it
 * @returns the Immunization id
 */
export function addImmunization(c: Chart, vaccine: VaccineKey, day: number, performer: string, dose?: { readonly series: string; readonly number: number }): string {
  const v = VACCINES[vaccine];
  const id = c.id('imm');
  const resource: Immunization = {
    resourceType: 'Immunization',
    id,
    status: 'completed',
    vaccineCode: concept([coding(CodeSystemUri.atc, v.atc, v.display)], v.short),
    patient: patientRef(c),
    occurrenceDateTime: dateTime(day, 9 * 60 + c.rng.int(0, 420)),
    recorded: isoDay(day),
    primarySource: true,
    lotNumber: `${v.atc.slice(-3)}${String.fromCharCode(65 + c.rng.int(0, 25), 65 + c.rng.int(0, 25))}${c.rng.int(1000, 9999)}`,
    performer: [{ actor: ref('PractitionerRole', performer) }],
    ...(dose === undefined ? {} : { protocolApplied: [{ series: dose.series, doseNumberPositiveInt: dose.number }] }),
  };
  c.out.push(resource);
  return id;
}

/** The childhood programme's series name. */
export const PROGRAMME_SERIES = CHILDHOOD_PROGRAMME_SERIES;

/**
 * A letter or note as a DocumentReference with the Danish text as a plain-text attachment.
 * @param c - the chart
 * @param x - letter facts
 * @returns the DocumentReference id
 */
export function addDocument(c: Chart, x: { title: string; text: string; day: number; minute: number; author: string; custodian: string; encounter: string; discharge: boolean; periodStart: number }): string {
  const id = c.id('doc');
  const resource: DocumentReference = {
    resourceType: 'DocumentReference',
    id,
    status: 'current',
    docStatus: 'final',
    type: x.discharge
      ? concept([coding(CodeSystemUri.loinc, '18842-5', 'Discharge summary')], 'Epikrise')
      : concept([coding(CodeSystemUri.loinc, '11506-3', 'Progress note')], 'Notat'),
    category: [CATEGORY.clinicalReport],
    subject: patientRef(c),
    date: dateTime(x.day, x.minute),
    author: [ref('PractitionerRole', x.author)],
    custodian: ref('Organization', x.custodian),
    description: x.title,
    content: [
      {
        attachment: {
          contentType: 'text/plain; charset=utf-8',
          language: 'da',
          data: Buffer.from(x.text, 'utf8').toString('base64'),
          title: x.title,
          creation: dateTime(x.day, x.minute),
        },
      },
    ],
    context: { encounter: [ref('Encounter', x.encounter)], period: { start: isoDay(x.periodStart), end: isoDay(x.day) } },
  };
  c.out.push(resource);
  return id;
}

/**
 * @param c - the chart
 * @param key - SKS procedure
 * @param day - when it was done
 * @param x - encounter, performer and reason
 * @returns the Procedure id
 */
export function addProcedure(c: Chart, key: ProcedureKey, day: number, x: { encounter?: string; performer: string; reason?: string }): string {
  const p = PROCEDURES[key];
  const id = c.id('proc');
  const resource: Procedure = {
    resourceType: 'Procedure',
    id,
    status: 'completed',
    code: concept([coding(CodeSystemUri.sks, p.code, p.display)], p.display),
    subject: patientRef(c),
    ...(x.encounter === undefined ? {} : { encounter: ref('Encounter', x.encounter) }),
    performedDateTime: dateTime(day, 10 * 60 + c.rng.int(0, 300)),
    performer: [{ actor: ref('PractitionerRole', x.performer) }],
    ...(x.reason === undefined ? {} : { reasonReference: [ref('Condition', x.reason)] }),
  };
  c.out.push(resource);
  return id;
}

export interface ReferralInput {
  readonly day: number;
  readonly status: 'active' | 'completed' | 'revoked';
  readonly text: string;
  readonly specialty: SpecialtyKey;
  readonly performer: string;
  readonly requester: string;
  readonly priority: 'routine' | 'asap';
  readonly reason?: string;
  readonly reasonDiagnosis?: DiagnosisKey;
}

/**
 * A referral (ServiceRequest with category referral).
 * @param c - the chart
 * @param x - referral facts
 * @returns the ServiceRequest id
 */
export function addReferral(c: Chart, x: ReferralInput): string {
  const id = c.id('ref');
  const s = SPECIALTY[x.specialty];
  const resource: ServiceRequest = {
    resourceType: 'ServiceRequest',
    id,
    meta: { profile: [Profile.serviceRequest] },
    status: x.status,
    intent: 'order',
    category: [CATEGORY.referral],
    priority: x.priority,
    code: { coding: [coding(CodeSystemUri.snomed, '3457005', 'Patient referral')], text: x.text },
    subject: patientRef(c),
    authoredOn: dateTime(x.day, 10 * 60 + c.rng.int(0, 360)),
    requester: ref('PractitionerRole', x.requester),
    performerType: concept([coding(CodeSystemUri.snomed, s.code, s.display)]),
    performer: [ref('Organization', x.performer)],
    ...(x.reasonDiagnosis === undefined ? {} : { reasonCode: [diagnosisCode(x.reasonDiagnosis, true)] }),
    ...(x.reason === undefined ? {} : { reasonReference: [ref('Condition', x.reason)] }),
    note: [{ text: x.text }],
  };
  c.out.push(resource);
  return id;
}

export interface AppointmentInput {
  readonly status: 'booked' | 'fulfilled' | 'noshow' | 'cancelled';
  readonly day: number;
  readonly minute: number;
  readonly minutes: number;
  readonly practitionerRole: string;
  readonly description: string;
  readonly type: 'ROUTINE' | 'FOLLOWUP' | 'CHECKUP';
  readonly basedOn?: string;
  readonly reason?: string;
}

const APPOINTMENT_TYPE: Readonly<Record<AppointmentInput['type'], string>> = { ROUTINE: 'Routine appointment - default if not valued', FOLLOWUP: 'A follow up visit from a previous appointment', CHECKUP: 'A routine check-up, such as an annual physical' };

/**
 * @param c - the chart
 * @param x - appointment facts
 * @returns the Appointment id
 */
export function addAppointment(c: Chart, x: AppointmentInput): string {
  const id = c.id('apt');
  const start = dateTime(x.day, x.minute);
  const end = dateTime(x.day, x.minute + x.minutes);
  const resource: Appointment = {
    resourceType: 'Appointment',
    id,
    status: x.status,
    appointmentType: concept([coding(`${TERM}/v2-0276`, x.type, APPOINTMENT_TYPE[x.type])]),
    ...(x.reason === undefined ? {} : { reasonReference: [ref('Condition', x.reason)] }),
    description: x.description,
    start,
    end,
    minutesDuration: x.minutes,
    created: isoDay(x.day - 14),
    ...(x.basedOn === undefined ? {} : { basedOn: [ref('ServiceRequest', x.basedOn)] }),
    participant: [
      { actor: patientRef(c), required: 'required', status: 'accepted' },
      { actor: ref('PractitionerRole', x.practitionerRole), required: 'required', status: 'accepted' },
    ],
  };
  c.out.push(resource);
  return id;
}

/** Answers to the PRO questionnaire. */
export interface ProAnswers {
  readonly health: number;
  readonly breathlessness: number;
  readonly fatigue: number;
  readonly activeDays: number;
  readonly medicine: boolean;
  readonly concerns?: string;
}

const SCALE = ['Slet ikke', 'Lidt', 'Noget', 'Meget', 'Rigtig meget'];

/**
 * @param c - the chart
 * @param day - when it was answered
 * @param a - the answers
 * @param basedOn - the referral or plan it belongs to (none)
 * @returns the QuestionnaireResponse id
 */
export function addQuestionnaireResponse(c: Chart, day: number, a: ProAnswers): string {
  const id = c.id('qr');
  const choice = (n: number): QuestionnaireResponseItem['answer'] => [{ valueCoding: { system: Canonical.proAnswers, code: String(n), display: SCALE[n]! } }];
  const items: QuestionnaireResponseItem[] = [
    { linkId: 'helbred', answer: [{ valueInteger: a.health }] },
    { linkId: 'aandenoed', answer: choice(a.breathlessness) },
    { linkId: 'traethed', answer: choice(a.fatigue) },
    { linkId: 'aktive-dage', answer: [{ valueInteger: a.activeDays }] },
    { linkId: 'medicin', answer: [{ valueBoolean: a.medicine }] },
  ];
  if (a.concerns !== undefined) {
    items.push({ linkId: 'bekymringer', answer: [{ valueString: a.concerns }] });
  }
  const resource: QuestionnaireResponse = {
    resourceType: 'QuestionnaireResponse',
    id,
    questionnaire: `${Canonical.proQuestionnaire}|1.0`,
    status: 'completed',
    subject: patientRef(c),
    authored: dateTime(day, 18 * 60 + c.rng.int(0, 200)),
    author: patientRef(c),
    source: patientRef(c),
    item: items,
  };
  c.out.push(resource);
  return id;
}
