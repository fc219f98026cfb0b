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
  Procedure,
  Reference,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import type { TrendPoint } from './components.tsx';
import { formatNumber } from './format.ts';
import { t } from './i18n.ts';

/** Turns FHIR resources into what the pages show. Nothing here invents data: missing is shown as missing. */

/**
 * @param cc - a CodeableConcept
 * @returns its text, the first display, or the first code
 */
export function codeText(cc: CodeableConcept | undefined): string {
  return cc?.text ?? cc?.coding?.find((c) => c.display !== undefined)?.display ?? cc?.coding?.[0]?.code ?? t('Ukendt', 'Unknown');
}

/**
 * @param r - resources
 * @param type - the type to keep
 * @returns the resources of that type
 */
export function ofType<T extends Resource>(r: readonly Resource[], type: T['resourceType']): T[] {
  return r.filter((x): x is T => x.resourceType === type);
}

/**
 * The clinical date of a resource (when it happened), for sorting newest first.
 * @param r - a resource
 * @returns an ISO date-time or date, or ''
 */
export function clinicalDate(r: Resource): string {
  switch (r.resourceType) {
    case 'Observation':
      return r.effectiveDateTime ?? r.effectivePeriod?.start ?? r.issued ?? '';
    case 'DiagnosticReport':
      return r.effectiveDateTime ?? r.issued ?? '';
    case 'Encounter':
      return r.period?.start ?? '';
    case 'Condition':
      return r.onsetDateTime ?? r.recordedDate ?? '';
    case 'Procedure':
      return r.performedDateTime ?? r.performedPeriod?.start ?? '';
    case 'MedicationStatement':
      return r.effectivePeriod?.start ?? r.effectiveDateTime ?? r.dateAsserted ?? '';
    case 'MedicationRequest':
      return r.authoredOn ?? '';
    case 'Immunization':
      return r.occurrenceDateTime ?? '';
    case 'DocumentReference':
      return r.date ?? '';
    case 'ServiceRequest':
      return r.authoredOn ?? '';
    case 'Appointment':
      return r.start ?? r.created ?? '';
    case 'QuestionnaireResponse':
      return r.authored ?? '';
    default:
      return r.meta?.lastUpdated ?? '';
  }
}

/**
 * The organisation or person an item comes from (for "kilde" on every item).
 * @param r - a resource
 * @returns the reference
 */
export function sourceOf(r: Resource): Reference | undefined {
  switch (r.resourceType) {
    case 'Observation':
      return r.performer?.find((p) => p.reference?.startsWith('Organization/') === true) ?? r.performer?.[0];
    case 'DiagnosticReport':
      return r.performer?.find((p) => p.reference?.startsWith('Organization/') === true) ?? r.performer?.[0];
    case 'Encounter':
      return r.serviceProvider ?? r.participant?.[0]?.individual;
    case 'Condition':
      return r.recorder ?? r.asserter;
    case 'Procedure':
      return r.performer?.[0]?.onBehalfOf ?? r.performer?.[0]?.actor;
    case 'MedicationStatement':
      return r.informationSource;
    case 'MedicationRequest':
      return r.requester;
    case 'Immunization':
      return r.performer?.[0]?.actor;
    case 'DocumentReference':
      return r.custodian ?? r.author?.[0];
    case 'ServiceRequest':
      return r.requester ?? r.performer?.[0];
    case 'Appointment':
      return r.participant.find((p) => p.actor?.reference?.startsWith('Patient/') !== true)?.actor;
    default:
      return undefined;
  }
}

/** Every reference the pages may want a name for. */
export function referencesIn(resources: readonly Resource[]): Reference[] {
  const out: Reference[] = [];
  for (const r of resources) {
    const s = sourceOf(r);
    if (s !== undefined) {
      out.push(s);
    }
    if (r.resourceType === 'ServiceRequest') {
      out.push(...(r.performer ?? []));
    }
    if (r.resourceType === 'Encounter') {
      out.push(...(r.participant ?? []).flatMap((p) => (p.individual === undefined ? [] : [p.individual])));
    }
    if (r.resourceType === 'Patient') {
      out.push(...(r.generalPractitioner ?? []));
    }
  }
  return out;
}

/** One lab result as the lab results page shows it. */
export interface LabResult {
  readonly id: string;
  /** `system|code` of the analysis. */
  readonly key: string;
  readonly name: string;
  readonly code: string;
  readonly time: string;
  readonly value?: number;
  readonly valueText: string;
  readonly unit: string;
  readonly flag?: string;
  readonly rangeText?: string;
  readonly low?: number;
  readonly high?: number;
  readonly source?: Reference;
  readonly requisition?: string;
}

function isLab(o: Observation): boolean {
  return (o.category ?? []).some((c) => (c.coding ?? []).some((x) => x.code === 'laboratory'));
}

/**
 * Whether an observation is a home measurement (the citizen measured it).
 * @param o - the observation
 * @returns true for home measurements
 */
export function isHomeMeasurement(o: Observation): boolean {
  return (o.performer ?? []).some((p) => p.reference?.startsWith('Patient/') === true) || (o.method?.coding ?? []).some((c) => c.code === 'measured');
}

/**
 * @param o - an observation
 * @returns the lab result view
 */
export function toLabResult(o: Observation): LabResult {
  const coding = o.code.coding?.[0];
  const range = o.referenceRange?.[0];
  const flag = o.interpretation?.[0]?.coding?.[0]?.code;
  const q = o.valueQuantity;
  return {
    id: o.id ?? '',
    key: `${coding?.system ?? ''}|${coding?.code ?? codeText(o.code)}`,
    name: codeText(o.code),
    code: coding?.code ?? '',
    time: o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.issued ?? '',
    value: q?.value,
    valueText: q?.value !== undefined ? '' : (o.valueString ?? codeText(o.valueCodeableConcept)),
    unit: q?.unit ?? q?.code ?? '',
    flag: flag === 'N' ? undefined : flag,
    rangeText: range?.text,
    low: range?.low?.value,
    high: range?.high?.value,
    source: sourceOf(o),
    requisition: o.basedOn?.find((b) => b.reference?.startsWith('ServiceRequest/') === true)?.reference,
  };
}

/**
 * The lab results among resources, newest first.
 * @param resources - a record
 * @returns lab results
 */
export function labResults(resources: readonly Resource[]): LabResult[] {
  return ofType<Observation>(resources, 'Observation')
    .filter(isLab)
    .map(toLabResult)
    .sort((a, b) => b.time.localeCompare(a.time));
}

/** One analysis with its results over time. */
export interface Analysis {
  readonly key: string;
  readonly name: string;
  readonly code: string;
  /** Newest first. */
  readonly results: readonly LabResult[];
}

/**
 * Groups results by analysis (NPU code), analyses by name.
 * @param results - lab results
 * @returns analyses
 */
export function byAnalysis(results: readonly LabResult[]): Analysis[] {
  const map = new Map<string, LabResult[]>();
  for (const r of results) {
    map.set(r.key, [...(map.get(r.key) ?? []), r]);
  }
  return [...map.entries()]
    .map(([key, rs]) => ({ key, name: rs[0]!.name, code: rs[0]!.code, results: [...rs].sort((a, b) => b.time.localeCompare(a.time)) }))
    .sort((a, b) => a.name.localeCompare(b.name, 'da'));
}

/**
 * Chart points of an analysis, oldest first.
 * @param a - the analysis
 * @returns points
 */
export function trendPoints(a: Analysis): TrendPoint[] {
  return [...a.results]
    .filter((r) => r.value !== undefined)
    .reverse()
    .map((r) => ({ time: r.time, value: r.value!, ...(r.flag === 'H' || r.flag === 'HH' ? { flag: 'H' as const } : r.flag === 'L' || r.flag === 'LL' ? { flag: 'L' as const } : {}) }));
}

/**
 * Lab requisitions (DiagnosticReports) with their results, newest first.
 * @param resources - a record
 * @returns the reports with results
 */
export function requisitions(resources: readonly Resource[]): { report: DiagnosticReport; request?: ServiceRequest; results: LabResult[] }[] {
  const obs = new Map(ofType<Observation>(resources, 'Observation').map((o) => [`Observation/${o.id ?? ''}`, o]));
  const requests = new Map(ofType<ServiceRequest>(resources, 'ServiceRequest').map((r) => [`ServiceRequest/${r.id ?? ''}`, r]));
  return ofType<DiagnosticReport>(resources, 'DiagnosticReport')
    .map((report) => ({
      report,
      request: requests.get(report.basedOn?.[0]?.reference ?? ''),
      results: (report.result ?? []).flatMap((r) => (obs.has(r.reference ?? '') ? [toLabResult(obs.get(r.reference ?? '')!)] : [])),
    }))
    .sort((a, b) => clinicalDate(b.report).localeCompare(clinicalDate(a.report)));
}

/**
 * Newest first by clinical date.
 * @param list - resources
 * @returns a sorted copy
 */
export function newestFirst<T extends Resource>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => clinicalDate(b).localeCompare(clinicalDate(a)));
}

/** What one item of the record is, in words. */
export function describe(r: Resource): { kind: string; title: string; detail?: string } {
  switch (r.resourceType) {
    case 'Observation': {
      const l = toLabResult(r);
      return { kind: isLab(r) ? t('Prøvesvar', 'Lab result') : isHomeMeasurement(r) ? t('Hjemmemåling', 'Home measurement') : t('Måling', 'Measurement'), title: l.name, detail: l.value === undefined ? l.valueText : `${formatNumber(l.value)} ${l.unit}` };
    }
    case 'DiagnosticReport':
      return { kind: t('Laboratoriesvar', 'Lab report'), title: codeText(r.code), detail: `${(r.result ?? []).length} ${t('analyser', 'analyses')}` };
    case 'Encounter':
      return { kind: encounterKind(r), title: r.type?.[0] !== undefined ? codeText(r.type[0]) : encounterKind(r) };
    case 'Condition':
      return { kind: t('Diagnose', 'Diagnosis'), title: codeText(r.code), detail: conditionStatus(r) };
    case 'Procedure':
      return { kind: t('Behandling', 'Procedure'), title: codeText(r.code) };
    case 'MedicationStatement':
      return { kind: t('Medicin', 'Medicine'), title: codeText(r.medicationCodeableConcept), detail: r.dosage?.[0]?.text };
    case 'MedicationRequest':
      return { kind: t('Ordination', 'Prescription'), title: codeText(r.medicationCodeableConcept), detail: r.dosageInstruction?.[0]?.text };
    case 'Immunization':
      return { kind: t('Vaccination', 'Vaccination'), title: codeText(r.vaccineCode) };
    case 'DocumentReference':
      return { kind: t('Notat/brev', 'Note/letter'), title: r.description ?? codeText(r.type) };
    case 'ServiceRequest':
      return { kind: isReferral(r) ? t('Henvisning', 'Referral') : t('Rekvisition', 'Requisition'), title: codeText(r.code), detail: requestStatus(r.status) };
    case 'Appointment':
      return { kind: t('Aftale', 'Appointment'), title: r.description ?? t('Aftale', 'Appointment'), detail: appointmentStatus(r.status) };
    case 'QuestionnaireResponse':
      return { kind: t('Spørgeskema', 'Questionnaire'), title: t('Besvaret spørgeskema', 'Answered questionnaire') };
    default:
      return { kind: r.resourceType, title: r.resourceType };
  }
}

/**
 * @param e - an encounter
 * @returns the kind of contact in Danish
 */
export function encounterKind(e: Encounter): string {
  switch (e.class.code) {
    case 'IMP':
      return t('Indlæggelse', 'Admission');
    case 'AMB':
      return t('Ambulant besøg', 'Outpatient visit');
    case 'EMER':
      return t('Skadestue/akut', 'Emergency');
    case 'HH':
      return t('Hjemmebesøg', 'Home visit');
    case 'VR':
      return t('Videokonsultation', 'Video consultation');
    default:
      return t('Kontakt', 'Contact');
  }
}

/**
 * @param c - a condition
 * @returns its status in Danish
 */
export function conditionStatus(c: Condition): string {
  const s = c.clinicalStatus?.coding?.[0]?.code;
  return s === 'active' ? t('Aktiv', 'Active') : s === 'resolved' ? t('Afsluttet', 'Resolved') : s === 'inactive' ? t('Inaktiv', 'Inactive') : s === 'remission' ? t('I bedring', 'In remission') : '';
}

/**
 * @param s - a ServiceRequest
 * @returns whether it is a referral (not a lab requisition)
 */
export function isReferral(s: ServiceRequest): boolean {
  return (s.category ?? []).some((c) => (c.coding ?? []).some((x) => x.code === '3457005'));
}

/**
 * @param status - ServiceRequest.status
 * @returns in Danish
 */
export function requestStatus(status: ServiceRequest['status']): string {
  const m: Record<string, string> = {
    active: t('Aktiv – venter', 'Active – waiting'),
    completed: t('Afsluttet', 'Completed'),
    revoked: t('Annulleret', 'Cancelled'),
    draft: t('Kladde', 'Draft'),
    'on-hold': t('Sat i bero', 'On hold'),
    'entered-in-error': t('Fejlregistreret', 'Entered in error'),
  };
  return m[status] ?? status;
}

/**
 * @param status - Appointment.status
 * @returns in Danish
 */
export function appointmentStatus(status: Appointment['status']): string {
  const m: Record<string, string> = {
    booked: t('Booket', 'Booked'),
    fulfilled: t('Gennemført', 'Attended'),
    cancelled: t('Aflyst', 'Cancelled'),
    noshow: t('Ikke mødt', 'Did not attend'),
    proposed: t('Foreslået', 'Proposed'),
    pending: t('Afventer', 'Pending'),
    arrived: t('Ankommet', 'Arrived'),
    'checked-in': t('Tjekket ind', 'Checked in'),
  };
  return m[status] ?? status;
}

/**
 * The text of a document (plain-text attachments only).
 * @param d - the document
 * @returns the text, or undefined
 */
export function documentText(d: DocumentReference): string | undefined {
  const a = d.content[0]?.attachment;
  if (a?.data === undefined || !(a.contentType ?? '').startsWith('text/plain')) {
    return undefined;
  }
  const bin = atob(a.data);
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

export type { Appointment, Condition, DiagnosticReport, DocumentReference, Encounter, Immunization, MedicationRequest, MedicationStatement, Observation, Procedure, ServiceRequest };
