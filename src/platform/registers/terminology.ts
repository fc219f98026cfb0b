import type { CodeSystem, CodeSystemConcept, Questionnaire, ValueSet } from '@medplum/fhirtypes';
import { CHILDHOOD_PROGRAMME, CodeSystemUri, DIAGNOSES, DRUGS, ICPC2, NPU, PROCEDURES, VACCINES } from './codes.ts';

/**
 * The terminology subsets shipped as CodeSystem (content `fragment`, with the real system URI) and
 * ValueSet resources, the childhood-programme CodeSystem, and the PRO Questionnaire the synthetic
 * citizens answer.
 */

const PUBLISHER = 'Digital Sundhed Danmark';
const DATE = '2026-01-01';

/** Canonical URLs of what the platform defines itself. */
export const Canonical = {
  childhoodProgramme: `${CodeSystemUri.dsd}/CodeSystem/boernevaccinationsprogrammet`,
  proAnswers: `${CodeSystemUri.dsd}/CodeSystem/pro-svarkategorier`,
  proQuestionnaire: `${CodeSystemUri.dsd}/Questionnaire/kronisk-sygdom-status`,
  valueSet: (id: string): string => `${CodeSystemUri.dsd}/ValueSet/${id}`,
  codeSystem: (id: string): string => `${CodeSystemUri.dsd}/CodeSystem/${id}`,
} as const;

function fragment(id: string, url: string, title: string, description: string, concept: CodeSystemConcept[], extra: Partial<CodeSystem> = {}): CodeSystem {
  return {
    resourceType: 'CodeSystem',
    id,
    url,
    name: title.replace(/[^A-Za-z0-9]/g, ''),
    title,
    status: 'active',
    experimental: false,
    date: DATE,
    publisher: PUBLISHER,
    description,
    caseSensitive: true,
    content: 'fragment',
    count: concept.length,
    ...extra,
    concept,
  };
}

function valueSetFor(id: string, title: string, system: string, codes: readonly string[]): ValueSet {
  return {
    resourceType: 'ValueSet',
    id,
    url: Canonical.valueSet(id),
    name: title.replace(/[^A-Za-z0-9]/g, ''),
    title,
    status: 'active',
    experimental: false,
    date: DATE,
    publisher: PUBLISHER,
    description: `${title}: the codes the DSD platform uses from ${system}.`,
    compose: { include: [{ system, concept: codes.map((code) => ({ code })) }] },
  };
}

function unique<T>(items: readonly T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((t) => {
    const k = key(t);
    if (seen.has(k)) {
      return false;
    }
    seen.add(k);
    return true;
  });
}

/**
 * Builds the terminology resources.
 * @returns CodeSystems, ValueSets and the Questionnaire
 */
export function buildTerminology(): (CodeSystem | ValueSet | Questionnaire)[] {
  const npu = Object.values(NPU);
  const diagnoses = Object.values(DIAGNOSES);
  const drugs = unique(Object.values(DRUGS), (d) => d.atc);
  const vaccines = Object.values(VACCINES);
  const procedures = Object.values(PROCEDURES);
  const npuCs = fragment(
    'npu',
    CodeSystemUri.npu,
    'NPU (udsnit)',
    'The NPU laboratory analyses and measurements the platform uses (IUPAC/IFCC Nomenclature for Properties and Units), with unit, short name and the reference range shown to citizens.',
    npu.map((a) => ({
      code: a.code,
      display: a.display,
      property: [
        { code: 'unit', valueString: a.unit },
        { code: 'shortName', valueString: a.short },
        ...a.ranges.map((r) => ({
          code: 'referenceRange',
          valueString: `${r.sex === undefined ? '' : `${r.sex === 'male' ? 'mænd' : 'kvinder'}: `}${r.text ?? `${r.low ?? ''}–${r.high ?? ''} ${a.unit}`}`,
        })),
      ],
    })),
    {
      property: [
        { code: 'unit', type: 'string', description: 'Unit of the result' },
        { code: 'shortName', type: 'string', description: 'Short name (Nationale KortNavne style)' },
        { code: 'referenceRange', type: 'string', description: 'Reference range used by the synthetic laboratories' },
      ],
    },
  );
  const sksD = fragment(
    'sks-diagnoser',
    CodeSystemUri.sksDiagnosis,
    'SKS diagnoser (udsnit)',
    'SKS diagnosis codes (D + ICD-10) used by the platform.',
    diagnoses.map((d) => ({ code: d.sks, display: d.display })),
  );
  const icd10 = fragment(
    'icd-10',
    CodeSystemUri.icd10,
    'ICD-10 (udsnit)',
    'WHO ICD-10 codes behind the SKS diagnosis codes the platform uses.',
    unique(diagnoses, (d) => d.icd10).map((d) => ({ code: d.icd10, display: d.display })),
  );
  const icpc = fragment('icpc2', CodeSystemUri.icpc2, 'ICPC-2 (udsnit)', 'ICPC-2 codes used in general practice by the platform.', Object.entries(ICPC2).map(([code, display]) => ({ code, display })));
  const atc = fragment(
    'atc',
    CodeSystemUri.atc,
    'ATC (udsnit)',
    'ATC codes of the drugs and vaccines the platform uses.',
    [...drugs.map((d) => ({ code: d.atc, display: d.display })), ...vaccines.map((v) => ({ code: v.atc, display: v.display }))],
  );
  const sksProc = fragment(
    'sks-procedurer',
    CodeSystemUri.sks,
    'SKS procedurer og undersøgelser (udsnit)',
    'SKS procedure (K), imaging (U) and examination (ZZ) codes used by the platform.',
    procedures.map((p) => ({ code: p.code, display: p.display })),
  );
  const programme = fragment(
    'boernevaccinationsprogrammet',
    Canonical.childhoodProgramme,
    'Børnevaccinationsprogrammet',
    'The Danish childhood vaccination programme (Sundhedsstyrelsen): each dose with the age it is given at and its vaccine (ATC).',
    CHILDHOOD_PROGRAMME.map((d) => ({
      code: d.code,
      display: d.display,
      property: [
        { code: 'ageMonths', valueInteger: d.ageMonths },
        { code: 'vaccine', valueCode: VACCINES[d.vaccine].atc },
        { code: 'dose', valueInteger: d.dose },
        ...(d.sex === undefined ? [] : [{ code: 'sex', valueCode: d.sex }]),
        ...(d.fromBirthYear === undefined ? [] : [{ code: 'fromBirthYear', valueInteger: d.fromBirthYear }]),
        ...(d.toBirthYear === undefined ? [] : [{ code: 'toBirthYear', valueInteger: d.toBirthYear }]),
      ],
    })),
    {
      content: 'complete',
      property: [
        { code: 'ageMonths', type: 'integer', description: 'Age at the dose, months' },
        { code: 'vaccine', type: 'code', description: 'ATC code of the vaccine' },
        { code: 'dose', type: 'integer', description: 'Dose number in the series' },
        { code: 'sex', type: 'code', description: 'Only for children of this sex' },
        { code: 'fromBirthYear', type: 'integer', description: 'First birth cohort the dose applies to' },
        { code: 'toBirthYear', type: 'integer', description: 'Last birth cohort the dose applies to' },
      ],
    },
  );
  const proAnswers = fragment(
    'pro-svarkategorier',
    Canonical.proAnswers,
    'PRO svarkategorier',
    'Answer categories of the platform\'s PRO questionnaire.',
    [
      { code: '0', display: 'Slet ikke' },
      { code: '1', display: 'Lidt' },
      { code: '2', display: 'Noget' },
      { code: '3', display: 'Meget' },
      { code: '4', display: 'Rigtig meget' },
    ],
    { content: 'complete' },
  );
  const valueSets = [
    valueSetFor('npu-analyser', 'NPU-analyser', CodeSystemUri.npu, npu.map((a) => a.code)),
    valueSetFor('sks-diagnoser', 'SKS-diagnoser', CodeSystemUri.sksDiagnosis, diagnoses.map((d) => d.sks)),
    valueSetFor('icpc2-diagnoser', 'ICPC-2-diagnoser', CodeSystemUri.icpc2, Object.keys(ICPC2)),
    valueSetFor('atc-laegemidler', 'ATC-lægemidler', CodeSystemUri.atc, drugs.map((d) => d.atc)),
    valueSetFor('boernevacciner', 'Vacciner i børnevaccinationsprogrammet', CodeSystemUri.atc, unique(CHILDHOOD_PROGRAMME, (d) => d.vaccine).map((d) => VACCINES[d.vaccine].atc)),
    valueSetFor('sks-procedurer', 'SKS-procedurer', CodeSystemUri.sks, procedures.map((p) => p.code)),
  ];
  return [npuCs, sksD, icd10, icpc, atc, sksProc, programme, proAnswers, ...valueSets, proQuestionnaire()];
}

/** Link ids of the PRO questionnaire. */
export const PRO_ITEMS = {
  health: 'helbred',
  breathlessness: 'aandenoed',
  fatigue: 'traethed',
  activeDays: 'aktive-dage',
  medicine: 'medicin',
  concerns: 'bekymringer',
} as const;

/**
 * The platform's own PRO questionnaire ("Kronisk sygdom – status før kontrol"), answered by
 * citizens with diabetes, COPD or heart failure before their yearly control.
 * @returns the Questionnaire
 */
export function proQuestionnaire(): Questionnaire {
  const scale = [0, 1, 2, 3, 4].map((n) => ({ valueCoding: { system: Canonical.proAnswers, code: String(n), display: ['Slet ikke', 'Lidt', 'Noget', 'Meget', 'Rigtig meget'][n]! } }));
  return {
    resourceType: 'Questionnaire',
    id: 'kronisk-sygdom-status',
    url: Canonical.proQuestionnaire,
    version: '1.0',
    name: 'KroniskSygdomStatus',
    title: 'Kronisk sygdom – status før kontrol',
    status: 'active',
    experimental: false,
    subjectType: ['Patient'],
    date: DATE,
    publisher: PUBLISHER,
    description: 'Kort spørgeskema om helbred og symptomer, som borgeren udfylder før den årlige kontrol hos egen læge eller på hospitalet.',
    item: [
      { linkId: PRO_ITEMS.health, text: 'Hvordan vil du vurdere dit helbred i dag på en skala fra 0 (værst tænkelige) til 10 (bedst tænkelige)?', type: 'integer', required: true },
      { linkId: PRO_ITEMS.breathlessness, text: 'Hvor meget har åndenød begrænset dig i din dagligdag den seneste uge?', type: 'choice', required: true, answerOption: scale },
      { linkId: PRO_ITEMS.fatigue, text: 'Hvor meget har du været plaget af træthed den seneste uge?', type: 'choice', required: true, answerOption: scale },
      { linkId: PRO_ITEMS.activeDays, text: 'Hvor mange dage den seneste uge har du været fysisk aktiv i mindst 30 minutter?', type: 'integer', required: true },
      { linkId: PRO_ITEMS.medicine, text: 'Har du taget din medicin, som det er aftalt med lægen?', type: 'boolean', required: true },
      { linkId: PRO_ITEMS.concerns, text: 'Er der noget, du gerne vil tale med lægen om ved kontrollen?', type: 'text', required: false },
    ],
  };
}
