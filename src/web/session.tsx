import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Patient, Resource } from '@medplum/fhirtypes';
import type { Directory, FhirClient } from './api.ts';
import type { Session } from './auth.ts';
import { referencesIn } from './data.ts';

/** What every page of a logged-in user gets: the session and the API client. */
export interface AppContext {
  readonly session: Session;
  readonly client: FhirClient;
  /** Log in again (for another person, or when the token ran out). */
  readonly relogin: () => void;
}

export const Ctx = createContext<AppContext | undefined>(undefined);

/**
 * @returns the app context (pages below the logged-in shell only)
 */
export function useApp(): AppContext {
  const c = useContext(Ctx);
  if (c === undefined) {
    throw new Error('useApp outside the logged-in app');
  }
  return c;
}

/** A patient's record as the user may see it. */
export interface PatientRecord {
  readonly patient: Patient;
  readonly resources: readonly Resource[];
  readonly dir: Directory;
}

const cache = new Map<string, Promise<PatientRecord>>();

/**
 * Loads a patient's record (`$everything`) and the names of the organisations and people it
 * refers to; kept for the session so moving between sections is instant.
 * @param client - the API client
 * @param token - the access token (cache key part)
 * @param patientId - the patient
 * @param fresh - load again even if kept
 * @returns the record
 */
export function loadRecord(client: FhirClient, token: string, patientId: string, fresh = false): Promise<PatientRecord> {
  const key = `${token.slice(-16)}|${patientId}`;
  let p = fresh ? undefined : cache.get(key);
  if (p === undefined) {
    p = (async (): Promise<PatientRecord> => {
      const resources = await client.everything(patientId);
      const patient = resources.find((r): r is Patient => r.resourceType === 'Patient' && r.id === patientId) ?? (await client.read<Patient>('Patient', patientId));
      const dir = await client.directory(referencesIn(resources));
      return { patient, resources, dir };
    })();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}
