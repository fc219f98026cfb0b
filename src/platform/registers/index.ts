/**
 * Danish reference data shipped as FHIR resources: regions, municipalities, hospitals and
 * departments, GP clinics, municipal units, pharmacies and specialists as an SOR-like hierarchy
 * with their staff; terminology subsets (NPU, SKS, ICD-10, ICPC-2, ATC, the childhood vaccination
 * programme) and the PRO questionnaire; `loadReferenceData` loads it idempotently.
 */
export type { Diagnosis, DiagnosisKey, Drug, DrugKey, LabAnalysis, MessageEventKey, NpuKey, ProcedureCode, ProcedureKey, ProgrammeDose, ReferenceRange, SpecialtyKey, Vaccine, VaccineKey } from './codes.ts';
export { CHILDHOOD_PROGRAMME, CHILDHOOD_PROGRAMME_SERIES, CodeSystemUri, DIAGNOSES, DRUGS, ICPC2, IEEE_CODES, MESSAGE_EVENT, NPU, PROCEDURES, SNOMED_DK_VERSION, SOR_TYPE, SPECIALTY, VACCINES } from './codes.ts';
export { Extension, Profile, coding, concept, danishAddress, officialName, pad, phone, ref } from './fhir.ts';
export type { Municipality, PostalArea, Region, RegionIso } from './geography.ts';
export { MUNICIPALITIES, REGIONS, municipality, region } from './geography.ts';
export { GIVEN_NAMES, IMMIGRANT_GIVEN_NAMES, MIDDLE_NAMES, STREETS, SURNAMES } from './names.ts';
export type { DemoStaff, Department, GpClinic, Hospital, MunicipalUnits, OrganisationRegister, ProfessionKey, SpecialistPractice, StaffMember } from './organizations.ts';
export { ACCEPTED_MESSAGES, DEMO_UNITS, DEPARTMENTS, DSD_STAFF_SYSTEM, HOSPITALS, PROFESSION, buildOrganisations, gpClinicCount } from './organizations.ts';
export type { Rng } from './prng.ts';
export { createRng, hashString, mixSeed } from './prng.ts';
export type { ReferenceData } from './reference.ts';
export { referenceCounts, referenceData } from './reference.ts';
export { Canonical, PRO_ITEMS, buildTerminology, proQuestionnaire } from './terminology.ts';
export type { LoadResult } from './load.ts';
export { loadReferenceData } from './load.ts';
