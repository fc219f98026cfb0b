/**
 * Identifier and code system URIs used by DK-core 3.8.0 (`hl7.fhir.dk.core`).
 *
 * Sources: the `fixedUri` of each `StructureDefinition-dk-core-*-identifier.json`, the Organization profile's
 * identifier slices (`StructureDefinition-dk-core-organization.json`: Ydernummer, Kommunekode, Regionskode),
 * `CodeSystem-dk-core-d-ecpr-codes.json` (the D-eCPR OIDs bound by `ValueSet-DkCoreDeCPRValueSet.json`) and
 * `CodeSystem-dk-core-municipality-codes*.json`.
 */
export const IdentifierSystem = {
  /** CPR number (personnummer), profile dk-core-cpr-identifier, `use=official`. */
  cpr: 'urn:oid:1.2.208.176.1.2',
  /** National replacement number from the national eCPR service, profile dk-core-x-ecpr-identifier, `use=temp`. */
  xEcpr: 'urn:oid:1.2.208.176.1.6.1.1',
  /** Decentral replacement number (generic), profile dk-core-d-ecpr-identifier, `use=temp`. */
  dEcpr: 'urn:oid:1.2.208.176.1.6.1.3',
  /** D-eCPR issued in Region Sjælland. */
  dEcprSjaelland: 'urn:oid:1.2.208.176.1.6.1.3.177',
  /** D-eCPR issued in Region Nordjylland. */
  dEcprNordjylland: 'urn:oid:1.2.208.176.1.6.1.3.179',
  /** D-eCPR issued in Region Midtjylland. */
  dEcprMidtjylland: 'urn:oid:1.2.208.176.1.6.1.3.181',
  /** D-eCPR issued in Region Syddanmark. */
  dEcprSyddanmark: 'urn:oid:1.2.208.176.1.6.1.3.183',
  /** D-eCPR issued in Region Hovedstaden. */
  dEcprHovedstaden: 'urn:oid:1.2.208.176.1.6.1.3.187',
  /** SOR code (Sundhedsvæsenets Organisationsregister), profile dk-core-sor-identifier. */
  sor: 'urn:oid:1.2.208.176.1.1',
  /** Ydernummer (provider number in the regions' yderregister), Organization slice `Ydernummer`. */
  ydernummer: 'urn:oid:1.2.208.176.1.4',
  /** CVR number (company register), profile dk-core-cvr-identifier. */
  cvr: 'http://cvr.dk',
  /** GS1 Global Location Number (EAN location number), profile dk-core-gln-identifier. Note `http`, not `https`. */
  gln: 'http://www.gs1.org/gln',
  /** Authorisation ID from the Danish Patient Safety Authority register, profile dk-core-authorization-identifier. */
  authorization: 'https://autregweb.sst.dk',
  /** KOMBIT/FK-ORG organisation unit UUID, profile dk-core-kombit-org-identifier. */
  kombitOrg: 'https://kombit.dk/sts/organisation',
  /** Danish municipality codes (4 digits, e.g. `0101` København), Organization slice `Kommunekode`. */
  municipalityCode: 'http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes',
  /** Greenland municipality codes (`0955`–`0960`), included in the Kommunekode value set. */
  municipalityCodeGreenland: 'http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes-greenland',
  /** ISO 3166-2 subdivision codes; Danish regions are `DK-81`…`DK-85`. Organization slice `Regionskode`. */
  regionCode: 'urn:iso:std:iso:3166:-2',
} as const;

/** The D-eCPR systems allowed by DK-core's required binding `DkCoreDeCPRValueSet`. */
export const D_ECPR_SYSTEMS: readonly string[] = [
  IdentifierSystem.dEcpr,
  IdentifierSystem.dEcprSjaelland,
  IdentifierSystem.dEcprNordjylland,
  IdentifierSystem.dEcprMidtjylland,
  IdentifierSystem.dEcprSyddanmark,
  IdentifierSystem.dEcprHovedstaden,
];

/**
 * A wrong GLN system seen in DK-core's own example Organizations; the profile fixes `http://www.gs1.org/gln`, so an
 * identifier with this system does not match the EAN-ID slice.
 */
export const GLN_HTTPS_MISSPELLING = 'https://www.gs1.org/gln';
