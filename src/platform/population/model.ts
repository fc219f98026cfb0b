import type { Resource } from '@medplum/fhirtypes';
import type { GpClinic, Hospital, Municipality, MunicipalUnits, PostalArea, ReferenceData, Rng, StaffMember } from '../registers/index.ts';

/** A synthetic citizen, before it is written as FHIR resources. */
export interface Person {
  /** Patient resource id, e.g. `s1-000042`. */
  readonly id: string;
  /** Citizen number within the run (0-based). */
  readonly index: number;
  readonly sex: 'male' | 'female';
  /** Birth date as a day number (days since 1970-01-01). */
  readonly birthDay: number;
  readonly birthDate: string;
  readonly given: readonly string[];
  readonly family: string;
  readonly cpr: string;
  /** False for the CPR numbers issued without modulus 11 since 2007. */
  readonly modulus11: boolean;
  readonly municipality: Municipality;
  readonly postal: PostalArea;
  readonly line: string;
  readonly phone: string;
  readonly gp: GpClinic;
  readonly gpDoctor: StaffMember;
  /** Parents in the same household (set for children). */
  readonly parents: Person[];
  /** Children in the same household (set for parents). */
  readonly children: Person[];
}

/** Chronic conditions the generator knows, with their clinical follow-up. */
export type ChronicKey =
  | 'diabetes2'
  | 'diabetes1'
  | 'hypertension'
  | 'copd'
  | 'heartFailure'
  | 'atrialFibrillation'
  | 'angina'
  | 'asthma'
  | 'depression'
  | 'hypothyroidism'
  | 'kneeArthrosis'
  | 'obesity';

/** Options that shape one person's history (the demo users force some of them). */
export interface HistoryOptions {
  /** Chronic conditions the person has regardless of the draw, with their onset in years before `asOf`. */
  readonly chronic?: readonly (readonly [ChronicKey, number])[];
  /** Suppress the random chronic draw (only the forced ones). */
  readonly onlyForced?: boolean;
  /** Enrol in COPD telemedicine when the person has COPD. */
  readonly telemedicine?: boolean;
  /** Hospital contacts the person has regardless of the draw (kind, years before asOf). */
  readonly hospital?: readonly (readonly [HospitalEventKind, number])[];
  /** Give the person a pending referral and a booked appointment. */
  readonly pendingReferral?: boolean;
}

export type HospitalEventKind =
  | 'pneumonia'
  | 'hipFracture'
  | 'hipArthrosis'
  | 'gallstones'
  | 'wristFracture'
  | 'ankleSprain'
  | 'chestPain'
  | 'stroke'
  | 'cancer'
  | 'urinaryInfection';

/** Everything one person's history is generated with. */
export interface Chart {
  readonly p: Person;
  readonly rng: Rng;
  /** The day the history runs up to (day number). */
  readonly asOf: number;
  readonly ref: ReferenceData;
  /** The hospital of the person's region used for most contacts. */
  readonly hospital: Hospital;
  readonly municipal: MunicipalUnits;
  readonly out: Resource[];
  /** Next resource id of the given kind, unique within the person. */
  id(kind: string): string;
}
