/**
 * Code systems and the terminology subsets the platform ships: NPU lab analyses with units and
 * reference ranges, SKS diagnoses (ICD-10 with the Danish `D` prefix), ICPC-2, ATC drugs, the
 * Danish childhood vaccination programme and SKS procedure codes. System URIs are the real ones
 * (DK-core slices and HL7 registrations); only codes we are sure of are listed. The displays are
 * Danish; the NPU displays follow the NPU naming convention (system—component; kind = ? unit).
 */

/** Code system and identifier URIs used by the reference data and the population. */
export const CodeSystemUri = {
  npu: 'http://npu-terminology.org',
  /** SKS, the Danish health classification system (all code groups). */
  sks: 'urn:oid:1.2.208.176.2.4',
  /** SKS diagnosis codes (`D` + ICD-10), DK-core Condition slice `SKS-D`. */
  sksDiagnosis: 'urn:oid:1.2.208.176.2.4.12',
  icpc2: 'urn:oid:1.2.208.176.2.31',
  icd10: 'http://hl7.org/fhir/sid/icd-10',
  atc: 'http://www.whocc.no/atc',
  ucum: 'http://unitsofmeasure.org',
  snomed: 'http://snomed.info/sct',
  loinc: 'http://loinc.org',
  ieee11073: 'urn:iso:std:iso:11073:10101',
  professionGroup: 'http://hl7.dk/fhir/core/CodeSystem/DkCoreProfessionGroupCodes',
  medcomPractitionerRole: 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-core-PractitionerRolesAutorisationsregistret',
  medcomMessagingEvent: 'http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes',
  xdsClassCode: 'urn:oid:1.2.208.184.100.9',
  municipality: 'http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes',
  iso3166_2: 'urn:iso:std:iso:3166:-2',
  /** The platform's own canonical base for what it defines itself. */
  dsd: 'https://dsd.dk/fhir',
} as const;

/** The Danish SNOMED CT edition (module id as version URI), used with SOR organisation types. */
export const SNOMED_DK_VERSION = 'http://snomed.info/sct/554471000005108';

// ------------------------------------------------------------------------------------------- NPU

export interface ReferenceRange {
  readonly low?: number;
  readonly high?: number;
  /** Applies to this sex only. */
  readonly sex?: 'male' | 'female';
  readonly text?: string;
}

export interface LabAnalysis {
  readonly code: string;
  /** Full NPU name. */
  readonly display: string;
  /** The short name shown to citizens (Nationale KortNavne style). */
  readonly short: string;
  readonly unit: string;
  /** UCUM code of the unit. */
  readonly ucum: string;
  readonly decimals: number;
  readonly ranges: readonly ReferenceRange[];
  /** Specimen: B blood, P plasma, U urine, Pt patient (vital signs). */
  readonly specimen: 'B' | 'P' | 'U' | 'Pt' | 'Hb';
}

const lab = (code: string, display: string, short: string, unit: string, ucum: string, decimals: number, specimen: LabAnalysis['specimen'], ...ranges: ReferenceRange[]): LabAnalysis => ({
  code,
  display,
  short,
  unit,
  ucum,
  decimals,
  specimen,
  ranges,
});

/** NPU analyses and measurements by key. */
export const NPU = {
  hba1c: lab('NPU27300', 'B—Hæmoglobin A1c(IFCC); stofrel. = ? mmol/mol', 'HbA1c', 'mmol/mol', 'mmol/mol', 0, 'B', { high: 48, text: '< 48 mmol/mol' }),
  cholesterol: lab('NPU01566', 'P—Kolesterol; stofk. = ? mmol/L', 'Kolesterol', 'mmol/L', 'mmol/L', 1, 'P', { high: 5.0, text: '< 5,0 mmol/L' }),
  hdl: lab('NPU01567', 'P—Kolesterol+ester, i HDL; stofk. = ? mmol/L', 'HDL-kolesterol', 'mmol/L', 'mmol/L', 1, 'P', { low: 1.0, text: '> 1,0 mmol/L' }),
  ldl: lab('NPU01568', 'P—Kolesterol+ester, i LDL; stofk. = ? mmol/L', 'LDL-kolesterol', 'mmol/L', 'mmol/L', 1, 'P', { high: 3.0, text: '< 3,0 mmol/L' }),
  triglyceride: lab('NPU04094', 'P—Triglycerid; stofk. = ? mmol/L', 'Triglycerid', 'mmol/L', 'mmol/L', 1, 'P', { high: 2.0, text: '< 2,0 mmol/L' }),
  creatinine: lab('NPU18016', 'P—Kreatininium; stofk. = ? µmol/L', 'Kreatinin', 'µmol/L', 'umol/L', 0, 'P', { low: 60, high: 105, sex: 'male' }, { low: 45, high: 90, sex: 'female' }),
  uacr: lab('NPU19661', 'U—Albumin/Kreatininium; massekvotient = ? mg/g', 'U-Albumin/kreatinin-ratio', 'mg/g', 'mg/g', 0, 'U', { high: 30, text: '< 30 mg/g' }),
  sodium: lab('NPU03429', 'P—Natrium-ion; stofk. = ? mmol/L', 'Natrium', 'mmol/L', 'mmol/L', 0, 'P', { low: 137, high: 145 }),
  potassium: lab('NPU03230', 'P—Kalium-ion; stofk. = ? mmol/L', 'Kalium', 'mmol/L', 'mmol/L', 1, 'P', { low: 3.5, high: 4.6 }),
  haemoglobin: lab('NPU02319', 'B—Hæmoglobin(Fe); stofk. = ? mmol/L', 'Hæmoglobin', 'mmol/L', 'mmol/L', 1, 'B', { low: 8.3, high: 10.5, sex: 'male' }, { low: 7.3, high: 9.5, sex: 'female' }),
  crp: lab('NPU19748', 'P—C-reaktivt protein; massek. = ? mg/L', 'CRP', 'mg/L', 'mg/L', 0, 'P', { high: 10, text: '< 10 mg/L' }),
  leukocytes: lab('NPU02593', 'B—Leukocytter; antalk. = ? × 10⁹/L', 'Leukocytter', '× 10⁹/L', '10*9/L', 1, 'B', { low: 3.5, high: 8.8 }),
  ntprobnp: lab('NPU21571', 'P—B-type natriuretisk peptid prohormon(N-terminal); stofk. = ? pmol/L', 'NT-proBNP', 'pmol/L', 'pmol/L', 0, 'P', { high: 35, text: '< 35 pmol/L' }),
  tsh: lab('NPU03577', 'P—Thyrotropin; arb.stofk. = ? × 10⁻³ IU/L', 'TSH', 'mIU/L', 'm[IU]/L', 2, 'P', { low: 0.3, high: 4.0 }),
  alat: lab('NPU19651', 'P—Alanintransaminase [ALAT]; enz.k. = ? U/L', 'ALAT', 'U/L', 'U/L', 0, 'P', { low: 10, high: 70, sex: 'male' }, { low: 10, high: 45, sex: 'female' }),
  inr: lab('NPU01685', 'P—Koagulation, vævsfaktor-induceret; rel.tid(aktuel/norm; INR; IRP 67/40; proc.) = ?', 'INR', 'INR', '{INR}', 1, 'P', { high: 1.2, text: '< 1,2' }),
  spo2: lab('NPU03011', 'Hb(Fe; O2-bind.; aB)—Oxygen(O2); mætn. = ?', 'Iltmætning', '%', '%', 0, 'Hb'),
  pulse: lab('NPU21692', 'Hjerte—Systole; frekv. = ? × 1/min', 'Puls', 'slag/min', '/min', 0, 'Pt'),
  weight: lab('NPU03804', 'Pt—Legeme; masse = ? kg', 'Vægt', 'kg', 'kg', 1, 'Pt'),
  bmi: lab('NPU27281', 'Pt—Legeme; massekoefficient(masse/kvadreret højde) = ? kg/m²', 'BMI', 'kg/m²', 'kg/m2', 1, 'Pt'),
  systolic: lab('DNK05472', 'Arm—Blodtryk(systolisk); tryk = ? mmHg', 'Systolisk blodtryk', 'mmHg', 'mm[Hg]', 0, 'Pt', { high: 140 }),
  diastolic: lab('DNK05473', 'Arm—Blodtryk(diastolisk); tryk = ? mmHg', 'Diastolisk blodtryk', 'mmHg', 'mm[Hg]', 0, 'Pt', { high: 90 }),
} as const satisfies Record<string, LabAnalysis>;

export type NpuKey = keyof typeof NPU;

/** IEEE 11073 codes added to home measurements (as devices report them). */
export const IEEE_CODES: Partial<Record<NpuKey, { readonly code: string; readonly display: string }>> = {
  spo2: { code: '150456', display: 'MDC_PULS_OXIM_SAT_O2' },
  pulse: { code: '149530', display: 'MDC_PULS_OXIM_PULS_RATE' },
  weight: { code: '188736', display: 'MDC_MASS_BODY_ACTUAL' },
};

// --------------------------------------------------------------------------------- diagnoses

export interface Diagnosis {
  /** SKS diagnosis code (`D` + ICD-10 without the dot). */
  readonly sks: string;
  readonly display: string;
  /** WHO ICD-10 code. */
  readonly icd10: string;
  /** ICPC-2 code used when the GP records it. */
  readonly icpc2?: string;
}

const dx = (sks: string, display: string, icd10: string, icpc2?: string): Diagnosis => (icpc2 === undefined ? { sks, display, icd10 } : { sks, display, icd10, icpc2 });

/** SKS diagnoses by key. */
export const DIAGNOSES = {
  diabetes2: dx('DE119', 'Type 2-diabetes uden komplikationer', 'E11.9', 'T90'),
  diabetes1: dx('DE109', 'Type 1-diabetes uden komplikationer', 'E10.9', 'T89'),
  copd: dx('DJ449', 'Kronisk obstruktiv lungesygdom UNS', 'J44.9', 'R95'),
  copdExacerbation: dx('DJ441', 'Kronisk obstruktiv lungesygdom med akut eksacerbation UNS', 'J44.1', 'R95'),
  heartFailure: dx('DI500', 'Kongestiv hjerteinsufficiens', 'I50.0', 'K77'),
  hypertension: dx('DI10', 'Essentiel hypertension', 'I10', 'K86'),
  atrialFibrillation: dx('DI489', 'Atrieflimren og atrieflagren UNS', 'I48.9', 'K78'),
  myocardialInfarction: dx('DI219', 'Akut myokardieinfarkt UNS', 'I21.9', 'K75'),
  angina: dx('DI209', 'Angina pectoris UNS', 'I20.9', 'K74'),
  stroke: dx('DI639', 'Hjerneinfarkt UNS', 'I63.9', 'K90'),
  asthma: dx('DJ459', 'Astma UNS', 'J45.9', 'R96'),
  depression: dx('DF329', 'Depressiv enkeltepisode UNS', 'F32.9', 'P76'),
  hypothyroidism: dx('DE039', 'Hypothyreose UNS', 'E03.9', 'T86'),
  kneeArthrosis: dx('DM179', 'Knæartrose UNS', 'M17.9', 'L90'),
  hipArthrosis: dx('DM169', 'Hofteartrose UNS', 'M16.9', 'L89'),
  obesity: dx('DE669', 'Fedme UNS', 'E66.9', 'T82'),
  pneumonia: dx('DJ189', 'Pneumoni UNS', 'J18.9', 'R81'),
  urinaryInfection: dx('DN390', 'Urinvejsinfektion uden angivelse af lokalisation', 'N39.0', 'U71'),
  upperRespiratory: dx('DJ069', 'Akut infektion i øvre luftveje UNS', 'J06.9', 'R74'),
  gallstones: dx('DK802', 'Galdesten i galdeblæren uden kolecystitis', 'K80.2', 'D98'),
  hipFracture: dx('DS720', 'Brud på lårbenshals', 'S72.0', 'L75'),
  wristFracture: dx('DS525', 'Brud på nedre ende af radius', 'S52.5', 'L72'),
  ankleSprain: dx('DS934', 'Forstuvning af ankel', 'S93.4', 'L77'),
  chestPain: dx('DR074', 'Brystsmerter UNS', 'R07.4', 'A11'),
  lowBackPain: dx('DM545', 'Lændesmerter', 'M54.5', 'L03'),
  breastCancer: dx('DC509', 'Brystkræft UNS', 'C50.9', 'X76'),
  prostateCancer: dx('DC61', 'Prostatakræft', 'C61', 'Y77'),
} as const satisfies Record<string, Diagnosis>;

export type DiagnosisKey = keyof typeof DIAGNOSES;

/** ICPC-2 displays (Danish) for the codes used above, plus a few reason-for-encounter codes. */
export const ICPC2: Readonly<Record<string, string>> = {
  T90: 'Diabetes type 2',
  T89: 'Diabetes type 1',
  R95: 'Kronisk obstruktiv lungesygdom',
  K77: 'Hjerteinsufficiens',
  K86: 'Hypertension ukompliceret',
  K78: 'Atrieflimren/-flagren',
  K75: 'Akut myokardieinfarkt',
  K74: 'Iskæmisk hjertesygdom med angina',
  K90: 'Apopleksi/cerebrovaskulært insult',
  R96: 'Astma',
  P76: 'Depression',
  T86: 'Hypothyreose/myksødem',
  L90: 'Knæartrose',
  L89: 'Hofteartrose',
  T82: 'Fedme',
  R81: 'Pneumoni',
  U71: 'Cystitis/urinvejsinfektion',
  R74: 'Akut øvre luftvejsinfektion',
  D98: 'Galdesten/galdeblærebetændelse',
  L75: 'Fraktur af femur',
  L72: 'Fraktur af radius/ulna',
  L77: 'Forstuvning af ankel',
  A11: 'Brystsmerter UNS',
  L03: 'Lændesymptomer/-klager',
  X76: 'Brystkræft',
  Y77: 'Prostatakræft',
  A97: 'Ingen sygdom',
  A98: 'Sundhedsfremme/forebyggelse',
  R05: 'Hoste',
  A04: 'Træthed',
  S88: 'Dermatitis/eksem',
};

// --------------------------------------------------------------------------------- drugs (ATC)

export interface Drug {
  readonly atc: string;
  readonly display: string;
  /** Danish dosage text as on the medicine card. */
  readonly dosage: string;
  /** Days the prescription covers (acute treatments) or undefined for continuing treatment. */
  readonly days?: number;
}

const drug = (atc: string, display: string, dosage: string, days?: number): Drug => (days === undefined ? { atc, display, dosage } : { atc, display, dosage, days });

/** ATC drugs by key. */
export const DRUGS = {
  metformin: drug('A10BA02', 'Metformin', '1 tablet (1000 mg) 2 gange daglig'),
  empagliflozin: drug('A10BK03', 'Empagliflozin', '1 tablet (10 mg) 1 gang daglig'),
  dapagliflozin: drug('A10BK01', 'Dapagliflozin', '1 tablet (10 mg) 1 gang daglig'),
  semaglutide: drug('A10BJ06', 'Semaglutid', '1 mg som injektion 1 gang ugentlig'),
  insulinGlargine: drug('A10AE04', 'Insulin glargin', '20 enheder som injektion om aftenen'),
  insulinAspart: drug('A10AB05', 'Insulin aspart', 'Injektion til måltider efter skema'),
  atorvastatin: drug('C10AA05', 'Atorvastatin', '1 tablet (40 mg) 1 gang daglig'),
  ramipril: drug('C09AA05', 'Ramipril', '1 tablet (5 mg) 1 gang daglig'),
  losartan: drug('C09CA01', 'Losartan', '1 tablet (50 mg) 1 gang daglig'),
  amlodipine: drug('C08CA01', 'Amlodipin', '1 tablet (5 mg) 1 gang daglig'),
  hydrochlorothiazide: drug('C03AA03', 'Hydrochlorthiazid', '1 tablet (12,5 mg) 1 gang daglig'),
  bisoprolol: drug('C07AB07', 'Bisoprolol', '1 tablet (5 mg) 1 gang daglig'),
  metoprolol: drug('C07AB02', 'Metoprolol', '1 depottablet (50 mg) 1 gang daglig'),
  furosemide: drug('C03CA01', 'Furosemid', '1 tablet (40 mg) om morgenen'),
  spironolactone: drug('C03DA01', 'Spironolacton', '1 tablet (25 mg) 1 gang daglig'),
  apixaban: drug('B01AF02', 'Apixaban', '1 tablet (5 mg) 2 gange daglig'),
  aspirin: drug('B01AC06', 'Acetylsalicylsyre', '1 tablet (75 mg) 1 gang daglig'),
  salbutamol: drug('R03AC02', 'Salbutamol', '2 pust ved behov, højst 8 pust i døgnet'),
  tiotropium: drug('R03BB04', 'Tiotropiumbromid', '2 pust 1 gang daglig'),
  salmeterolFluticasone: drug('R03AK06', 'Salmeterol og fluticason', '1 pust 2 gange daglig'),
  budesonide: drug('R03BA02', 'Budesonid', '2 pust (200 mikrogram) 2 gange daglig'),
  sertraline: drug('N06AB06', 'Sertralin', '1 tablet (50 mg) 1 gang daglig'),
  levothyroxine: drug('H03AA01', 'Levothyroxin', '1 tablet (100 mikrogram) 1 gang daglig fastende'),
  paracetamol: drug('N02BE01', 'Paracetamol', '2 tabletter (500 mg) op til 4 gange daglig'),
  tramadol: drug('N02AX02', 'Tramadol', '1 kapsel (50 mg) op til 3 gange daglig ved behov', 14),
  omeprazole: drug('A02BC01', 'Omeprazol', '1 kapsel (20 mg) 1 gang daglig'),
  penicillin: drug('J01CE02', 'Phenoxymethylpenicillin', '1 tablet (1 mio. IE) 4 gange daglig i 7 dage', 7),
  amoxicillin: drug('J01CA04', 'Amoxicillin', '1 tablet (500 mg) 3 gange daglig i 7 dage', 7),
  pivmecillinam: drug('J01CA08', 'Pivmecillinam', '1 tablet (400 mg) 3 gange daglig i 3 dage', 3),
  prednisolone: drug('H02AB06', 'Prednisolon', '37,5 mg 1 gang daglig i 5 dage', 5),
  cetirizine: drug('R06AE07', 'Cetirizin', '1 tablet (10 mg) 1 gang daglig ved behov'),
} as const satisfies Record<string, Drug>;

export type DrugKey = keyof typeof DRUGS;

// ----------------------------------------------------------------------------- vaccinations

export interface Vaccine {
  readonly atc: string;
  readonly display: string;
  /** Danish short name (as on the vaccination card). */
  readonly short: string;
}

export const VACCINES = {
  diTeKiPolHib: { atc: 'J07CA09', display: 'Difteri-hæmofilus influenzae B-pertussis-poliomyelitis-tetanus', short: 'DiTeKiPol/Hib' },
  pneumococcal: { atc: 'J07AL02', display: 'Pneumokok, renset polysaccharid-antigen, konjugeret', short: 'Pneumokok (PCV)' },
  mmr: { atc: 'J07BD52', display: 'Mæslinger, kombinationer med fåresyge og røde hunde, levende svækket', short: 'MFR' },
  diTeKiPol: { atc: 'J07CA02', display: 'Difteri-pertussis-poliomyelitis-tetanus', short: 'DiTeKiPol (revaccination)' },
  hpv: { atc: 'J07BM03', display: 'Papillomavirus (human type 6, 11, 16, 18, 31, 33, 45, 52, 58)', short: 'HPV' },
  influenza: { atc: 'J07BB02', display: 'Influenza, inaktiveret, split-virus eller overfladeantigen', short: 'Influenza' },
  covid19: { atc: 'J07BN01', display: 'Covid-19, RNA-baseret vaccine', short: 'Covid-19' },
} as const satisfies Record<string, Vaccine>;

export type VaccineKey = keyof typeof VACCINES;

export interface ProgrammeDose {
  /** Code in the programme code system, e.g. `DiTeKiPolHib-1`. */
  readonly code: string;
  readonly display: string;
  readonly vaccine: VaccineKey;
  readonly dose: number;
  /** Age at the dose in months. */
  readonly ageMonths: number;
  /** Only for children of this sex (HPV for boys from the 2007 birth cohort). */
  readonly sex?: 'male' | 'female';
  /** First birth year the dose applies to. */
  readonly fromBirthYear?: number;
  /** Last birth year the dose applies to. */
  readonly toBirthYear?: number;
}

/** The programme's series name, as in Immunization.protocolApplied.series. */
export const CHILDHOOD_PROGRAMME_SERIES = 'Børnevaccinationsprogrammet';

/**
 * The Danish childhood vaccination programme (Sundhedsstyrelsen): 3, 5 and 12 months DiTeKiPol/Hib
 * and pneumococcal; MFR at 15 months and 4 years (12 years for children born before 2004, when the
 * second dose moved); DiTeKiPol revaccination at 5 years; HPV at 12 years (girls, and boys born
 * 2007 or later).
 */
export const CHILDHOOD_PROGRAMME: readonly ProgrammeDose[] = [
  { code: 'DiTeKiPolHib-1', display: 'DiTeKiPol/Hib 1. vaccination (3 måneder)', vaccine: 'diTeKiPolHib', dose: 1, ageMonths: 3 },
  { code: 'PCV-1', display: 'Pneumokok 1. vaccination (3 måneder)', vaccine: 'pneumococcal', dose: 1, ageMonths: 3, fromBirthYear: 2007 },
  { code: 'DiTeKiPolHib-2', display: 'DiTeKiPol/Hib 2. vaccination (5 måneder)', vaccine: 'diTeKiPolHib', dose: 2, ageMonths: 5 },
  { code: 'PCV-2', display: 'Pneumokok 2. vaccination (5 måneder)', vaccine: 'pneumococcal', dose: 2, ageMonths: 5, fromBirthYear: 2007 },
  { code: 'DiTeKiPolHib-3', display: 'DiTeKiPol/Hib 3. vaccination (12 måneder)', vaccine: 'diTeKiPolHib', dose: 3, ageMonths: 12 },
  { code: 'PCV-3', display: 'Pneumokok 3. vaccination (12 måneder)', vaccine: 'pneumococcal', dose: 3, ageMonths: 12, fromBirthYear: 2007 },
  { code: 'MFR-1', display: 'MFR 1. vaccination (15 måneder)', vaccine: 'mmr', dose: 1, ageMonths: 15 },
  { code: 'MFR-2', display: 'MFR 2. vaccination (4 år)', vaccine: 'mmr', dose: 2, ageMonths: 48, fromBirthYear: 2004 },
  { code: 'MFR-2-12', display: 'MFR 2. vaccination (12 år, ordningen før 2008)', vaccine: 'mmr', dose: 2, ageMonths: 144, toBirthYear: 2003 },
  { code: 'DiTeKiPol-4', display: 'DiTeKiPol revaccination (5 år)', vaccine: 'diTeKiPol', dose: 4, ageMonths: 60 },
  { code: 'HPV-1-F', display: 'HPV 1. vaccination (12 år, piger)', vaccine: 'hpv', dose: 1, ageMonths: 144, sex: 'female', fromBirthYear: 1996 },
  { code: 'HPV-2-F', display: 'HPV 2. vaccination (12½ år, piger)', vaccine: 'hpv', dose: 2, ageMonths: 150, sex: 'female', fromBirthYear: 1996 },
  { code: 'HPV-1-M', display: 'HPV 1. vaccination (12 år, drenge)', vaccine: 'hpv', dose: 1, ageMonths: 144, sex: 'male', fromBirthYear: 2007 },
  { code: 'HPV-2-M', display: 'HPV 2. vaccination (12½ år, drenge)', vaccine: 'hpv', dose: 2, ageMonths: 150, sex: 'male', fromBirthYear: 2007 },
];

// ------------------------------------------------------------------------------- procedures

export interface ProcedureCode {
  readonly code: string;
  readonly display: string;
}

/** SKS procedure and examination codes by key. */
export const PROCEDURES = {
  hipProsthesis: { code: 'KNFB20', display: 'Primær indsættelse af ucementeret totalprotese i hofteled' },
  cholecystectomy: { code: 'KJKA21', display: 'Laparoskopisk kolecystektomi' },
  pci: { code: 'KFNG05', display: 'Perkutan koronar intervention (PCI) med stent' },
  chestXray: { code: 'UXRC00', display: 'Røntgenundersøgelse af thorax' },
  homeBloodPressure: { code: 'ZZ3170', display: 'Hjemmeblodtryksmåling udført af patienten' },
  clinicalPhoto: { code: 'ZZ7011', display: 'Klinisk foto' },
} as const satisfies Record<string, ProcedureCode>;

export type ProcedureKey = keyof typeof PROCEDURES;

// ------------------------------------------------------------------------ SNOMED CT (DK use)

/** SOR organisation types (SNOMED CT, Danish edition) with their Danish names. */
export const SOR_TYPE = {
  region: { code: '550811000005108', display: 'administrativ enhed' },
  municipality: { code: '547211000005108', display: 'kommune' },
  hospital: { code: '22232009', display: 'hospital' },
  clinicalUnit: { code: '550851000005109', display: 'klinisk enhed' },
  emergency: { code: '550871000005101', display: 'akutmodtageenhed' },
  imaging: { code: '309964003', display: 'billeddiagnostisk enhed' },
  generalPractice: { code: '394761003', display: 'almen lægepraksis' },
  specialistPractice: { code: '550671000005100', display: 'speciallægepraksis' },
  homeCare: { code: '554821000005109', display: 'hjemmeplejeenhed' },
  homeNursing: { code: '550621000005101', display: 'hjemmesygeplejeenhed' },
  healthCentre: { code: '264361005', display: 'sundhedscenter' },
  pharmacy: { code: '264372000', display: 'apotek' },
  laboratory: { code: '550651000005108', display: 'lægelaboratorium' },
} as const satisfies Record<string, ProcedureCode>;

/** Clinical specialties (SOR "kliniske specialer", SNOMED CT). */
export const SPECIALTY = {
  emergency: { code: '773568002', display: 'akutmedicin' },
  generalPractice: { code: '408443003', display: 'almen medicin' },
  cardiology: { code: '394579002', display: 'kardiologi' },
  pulmonology: { code: '418112009', display: 'lungesygdomme' },
  endocrinology: { code: '394583002', display: 'endokrinologi' },
  internalMedicine: { code: '419192003', display: 'intern medicin' },
  orthopaedics: { code: '394801008', display: 'ortopædisk kirurgi' },
  surgery: { code: '394609007', display: 'kirurgi' },
  paediatrics: { code: '394537008', display: 'pædiatri' },
  clinicalBiochemistry: { code: '394596001', display: 'klinisk biokemi' },
  radiology: { code: '394914008', display: 'diagnostisk radiologi' },
  gynaecology: { code: '394585009', display: 'gynækologi og obstetrik' },
  neurology: { code: '394591006', display: 'neurologi' },
  oncology: { code: '394592004', display: 'klinisk onkologi' },
  ophthalmology: { code: '394594003', display: 'oftalmologi' },
  dermatology: { code: '394582007', display: 'dermato_venerologi' },
  ent: { code: '394604002', display: 'oto_rhino_laryngologi' },
  psychiatry: { code: '394587001', display: 'psykiatri' },
  rheumatology: { code: '394810000', display: 'reumatologi' },
  homeCare: { code: '658171000005102', display: 'hjemmepleje' },
  homeNursing: { code: '658161000005107', display: 'hjemmesygepleje' },
  prevention: { code: '658151000005105', display: 'sundhedsfremme og forebyggelse' },
  healthVisiting: { code: '658191000005101', display: 'sundhedspleje' },
} as const satisfies Record<string, ProcedureCode>;

export type SpecialtyKey = keyof typeof SPECIALTY;

/** The MedCom FHIR message types (medcom-messaging-eventCodes) used for routing. */
export const MESSAGE_EVENT = {
  careCommunication: { code: 'care-communication-message', display: 'Care Communication Message' },
  hospitalNotification: { code: 'hospital-notification-message', display: 'Hospital Notification Message' },
  acknowledgement: { code: 'acknowledgement-message', display: 'Acknowledgement Message' },
  homeCareObservation: { code: 'homecareobservation-message', display: 'HomeCare Observation Message' },
} as const satisfies Record<string, ProcedureCode>;

export type MessageEventKey = keyof typeof MESSAGE_EVENT;
