import type { Address, CodeableConcept, Coding, ExtractResource, HumanName, Reference, ResourceType } from '@medplum/fhirtypes';
import { CodeSystemUri } from './codes.ts';
import type { Municipality } from './geography.ts';

/** Small builders shared by the reference data and the population generator. */

/** DK-core profile canonicals. */
export const Profile = {
  patient: 'http://hl7.dk/fhir/core/StructureDefinition/dk-core-patient',
  relatedPerson: 'http://hl7.dk/fhir/core/StructureDefinition/dk-core-related-person',
  organization: 'http://hl7.dk/fhir/core/StructureDefinition/dk-core-organization',
  practitioner: 'http://hl7.dk/fhir/core/StructureDefinition/dk-core-practitioner',
  practitionerRole: 'http://hl7.dk/fhir/core/StructureDefinition/dk-core-practitioner-role',
  observation: 'http://hl7.dk/fhir/core/StructureDefinition/dk-core-observation',
  condition: 'http://hl7.dk/fhir/core/StructureDefinition/dk-core-condition',
  encounter: 'http://hl7.dk/fhir/core/StructureDefinition/dk-core-encounter',
  diagnosticReport: 'http://hl7.dk/fhir/core/StructureDefinition/dk-core-diagnostic-report',
  serviceRequest: 'http://hl7.dk/fhir/core/StructureDefinition/dk-core-person-servicerequest',
} as const;

/** The DK-core extensions used on addresses. */
export const Extension = {
  municipalityCode: 'http://hl7.dk/fhir/core/StructureDefinition/dk-core-municipalityCodes',
  regionalSubDivision: 'http://hl7.dk/fhir/core/StructureDefinition/dk-core-RegionalSubDivisionCodes',
} as const;

/**
 * @param system - code system URI
 * @param code - the code
 * @param display - display text
 * @returns a Coding
 */
export function coding(system: string, code: string, display?: string): Coding {
  return display === undefined ? { system, code } : { system, code, display };
}

/**
 * @param codings - the codings
 * @param text - optional text
 * @returns a CodeableConcept
 */
export function concept(codings: readonly Coding[], text?: string): CodeableConcept {
  return text === undefined ? { coding: [...codings] } : { coding: [...codings], text };
}

/**
 * @param type - resource type
 * @param id - resource id
 * @param display - optional display
 * @returns a literal Reference
 */
export function ref<K extends ResourceType>(type: K, id: string, display?: string): Reference<ExtractResource<K>> {
  return display === undefined ? { reference: `${type}/${id}` } : { reference: `${type}/${id}`, display };
}

/**
 * A Danish address with DK-core's municipality and region extensions.
 * @param line - street and number
 * @param postalCode - postal code
 * @param city - postal district
 * @param m - the municipality it lies in
 * @param use - address use
 * @returns the Address
 */
export function danishAddress(line: string, postalCode: string, city: string, m: Municipality, use: 'home' | 'work' = 'home'): Address {
  return {
    extension: [
      { url: Extension.municipalityCode, valueCodeableConcept: { coding: [{ system: CodeSystemUri.municipality, code: m.code, display: m.name }] } },
      { url: Extension.regionalSubDivision, valueCodeableConcept: { coding: [{ system: CodeSystemUri.iso3166_2, code: m.region }] } },
    ],
    use,
    type: 'physical',
    line: [line],
    city,
    postalCode,
    country: 'DK',
  };
}

/**
 * An official name as DK-core wants it (use=official, family present).
 * @param given - given names (first and middle)
 * @param family - surname
 * @returns the HumanName
 */
export function officialName(given: readonly string[], family: string): HumanName {
  return { use: 'official', text: `${given.join(' ')} ${family}`, family, given: [...given] };
}

/**
 * @param n - a number
 * @param width - digits
 * @returns n zero-padded
 */
export function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * A Danish 8-digit phone number derived from a serial (synthetic, starting with a plausible area digit).
 * @param serial - any non-negative integer
 * @param first - first digit (3–9)
 * @returns e.g. `+45 86 12 34 56`
 */
export function phone(serial: number, first = 7): string {
  const digits = `${first}${pad(serial % 10_000_000, 7)}`;
  return `+45 ${digits.slice(0, 2)} ${digits.slice(2, 4)} ${digits.slice(4, 6)} ${digits.slice(6, 8)}`;
}
