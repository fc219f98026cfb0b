import type { ContactPoint, Endpoint, Identifier, Organization, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import { IdentifierSystem, makeAuthorizationId, makeCvr, makeGln, makeSor, makeYdernummer } from '../identifiers/index.ts';
import type { MessageEventKey, SpecialtyKey } from './codes.ts';
import { CodeSystemUri, MESSAGE_EVENT, SNOMED_DK_VERSION, SOR_TYPE, SPECIALTY } from './codes.ts';
import { Profile, coding, concept, danishAddress, officialName, pad, phone, ref } from './fhir.ts';
import type { Municipality, Region, RegionIso } from './geography.ts';
import { MUNICIPALITIES, REGIONS, municipality } from './geography.ts';
import { GIVEN_NAMES, MIDDLE_NAMES, STREETS, SURNAMES } from './names.ts';
import type { Rng } from './prng.ts';
import { createRng, hashString } from './prng.ts';

/**
 * The SOR-like organisation hierarchy with its staff, built deterministically (fixed seed):
 * regions and municipalities (real codes), hospitals (real names) with departments, GP clinics
 * with ydernumre, municipal home care, home nursing and health centres, pharmacies and specialist
 * practices, Practitioners with authorisation ids and their PractitionerRoles, and one Endpoint
 * per unit that receives MedCom FHIR messages (see README.md for the representation).
 */

/** Professions used for staff (DK-core profession group + MedCom practitioner role). */
export const PROFESSION = {
  doctor: { group: '7170', groupDisplay: 'Læge', role: 'laege', roleDisplay: 'Læge' },
  nurse: { group: '5166', groupDisplay: 'Sygeplejerske', role: 'sygeplejerske', roleDisplay: 'Sygeplejerske' },
  biomedicalLabScientist: { group: '5159', groupDisplay: 'Bioanalytiker', role: 'bioanalytiker', roleDisplay: 'Bioanalytiker' },
  socialHealthAssistant: { group: '5152', groupDisplay: 'Social- og sundhedsassistent', role: 'socialogsundhedsassistent', roleDisplay: 'Social- og sundhedsassistent' },
} as const;

export type ProfessionKey = keyof typeof PROFESSION;

/** A member of staff: a Practitioner and the PractitionerRole at one organisation. */
export interface StaffMember {
  readonly practitionerId: string;
  readonly roleId: string;
  readonly organizationId: string;
  readonly authorizationId: string;
  readonly name: string;
  readonly profession: ProfessionKey;
}

/** A hospital department. */
export interface Department {
  readonly id: string;
  readonly name: string;
  readonly specialty: SpecialtyKey;
  readonly doctors: readonly StaffMember[];
  readonly nurses: readonly StaffMember[];
}

export interface Hospital {
  readonly id: string;
  readonly key: string;
  readonly name: string;
  readonly region: RegionIso;
  readonly municipality: string;
  readonly departments: ReadonlyMap<SpecialtyKey, Department>;
  /** The clinical biochemistry department (the hospital's laboratory). */
  readonly laboratory: Department;
}

export interface GpClinic {
  readonly id: string;
  readonly name: string;
  readonly municipality: string;
  readonly ydernummer: string;
  readonly sor: string;
  readonly doctors: readonly StaffMember[];
}

export interface MunicipalUnits {
  readonly municipalityId: string;
  readonly homeCare: string;
  readonly homeNursing: string;
  readonly healthCentre: string;
  readonly nurses: readonly StaffMember[];
  readonly assistants: readonly StaffMember[];
}

export interface SpecialistPractice {
  readonly id: string;
  readonly name: string;
  readonly municipality: string;
  readonly specialty: SpecialtyKey;
  readonly doctor: StaffMember;
}

/** The organisations and staff, indexed the way the population generator needs them. */
export interface OrganisationRegister {
  readonly organizations: readonly Organization[];
  readonly endpoints: readonly Endpoint[];
  readonly practitioners: readonly Practitioner[];
  readonly roles: readonly PractitionerRole[];
  readonly regionIds: ReadonlyMap<RegionIso, string>;
  readonly municipalityIds: ReadonlyMap<string, string>;
  readonly hospitals: readonly Hospital[];
  readonly hospitalsByRegion: ReadonlyMap<RegionIso, readonly Hospital[]>;
  readonly gpClinics: ReadonlyMap<string, readonly GpClinic[]>;
  readonly municipal: ReadonlyMap<string, MunicipalUnits>;
  readonly pharmacies: ReadonlyMap<string, readonly string[]>;
  readonly specialists: ReadonlyMap<RegionIso, readonly SpecialistPractice[]>;
  /** The named demo staff (fixed names and authorisation ids, listed in README.md). */
  readonly demo: DemoStaff;
}

/** Named demo users among the staff. */
export interface DemoStaff {
  readonly gp: StaffMember;
  readonly hospitalDoctor: StaffMember;
  readonly municipalNurse: StaffMember;
  readonly labTechnician: StaffMember;
  /** The platform operator (no health authorisation; identified by a DSD staff number). */
  readonly operator: { readonly practitionerId: string; readonly roleId: string; readonly organizationId: string; readonly staffNumber: string; readonly name: string };
}

/** Identifier system of DSD's own staff numbers (the operator demo user). */
export const DSD_STAFF_SYSTEM = 'https://dsd.dk/id/medarbejder';
/** The demo GP clinic, hospital department, home nursing unit and laboratory (all in Aarhus). */
export const DEMO_UNITS = {
  gpClinic: 'gp-0751-01',
  hospitalDepartment: 'hosp-auh-cardiology',
  homeNursing: 'hjemmesygepleje-0751',
  laboratory: 'hosp-auh-clinicalbiochemistry',
  operatorOrganization: 'dsd',
} as const;

interface HospitalSpec {
  readonly key: string;
  readonly name: string;
  readonly municipality: string;
  readonly line: string;
  readonly postalCode: string;
  readonly city: string;
  readonly university: boolean;
}

const h = (key: string, name: string, municipalityCode: string, line: string, postalCode: string, city: string, university = false): HospitalSpec => ({
  key,
  name,
  municipality: municipalityCode,
  line,
  postalCode,
  city,
  university,
});

/** Real Danish hospitals (public, somatic), by region. */
export const HOSPITALS: readonly HospitalSpec[] = [
  h('rh', 'Rigshospitalet', '0101', 'Blegdamsvej 9', '2100', 'København Ø', true),
  h('bfh', 'Bispebjerg og Frederiksberg Hospital', '0101', 'Bispebjerg Bakke 23', '2400', 'København NV'),
  h('hgh', 'Herlev og Gentofte Hospital', '0163', 'Borgmester Ib Juuls Vej 1', '2730', 'Herlev'),
  h('ahh', 'Amager og Hvidovre Hospital', '0167', 'Kettegård Allé 30', '2650', 'Hvidovre'),
  h('nsh', 'Nordsjællands Hospital', '0219', 'Dyrehavevej 29', '3400', 'Hillerød'),
  h('bhh', 'Bornholms Hospital', '0400', 'Ullasvej 8', '3700', 'Rønne'),
  h('suh', 'Sjællands Universitetshospital, Køge', '0259', 'Lykkebækvej 1', '4600', 'Køge', true),
  h('hos', 'Holbæk Sygehus', '0316', 'Smedelundsgade 60', '4300', 'Holbæk'),
  h('nfs', 'Nykøbing F. Sygehus', '0376', 'Fjordvej 15', '4800', 'Nykøbing F'),
  h('nas', 'Næstved Sygehus', '0370', 'Ringstedgade 61', '4700', 'Næstved'),
  h('sls', 'Slagelse Sygehus', '0330', 'Fælledvej 11', '4200', 'Slagelse'),
  h('ouh', 'Odense Universitetshospital', '0461', 'J.B. Winsløws Vej 4', '5000', 'Odense C', true),
  h('slb', 'Sygehus Lillebælt, Vejle', '0630', 'Beriderbakken 4', '7100', 'Vejle'),
  h('svs', 'Sydvestjysk Sygehus', '0561', 'Finsensgade 35', '6700', 'Esbjerg'),
  h('shs', 'Sygehus Sønderjylland', '0580', 'Kresten Philipsens Vej 15', '6200', 'Aabenraa'),
  h('auh', 'Aarhus Universitetshospital', '0751', 'Palle Juul-Jensens Boulevard 99', '8200', 'Aarhus N', true),
  h('ghe', 'Gødstrup Hospital', '0657', 'Hospitalsparken 15', '7400', 'Herning'),
  h('rhr', 'Regionshospitalet Randers', '0730', 'Skovlyvej 15', '8930', 'Randers NØ'),
  h('rhh', 'Regionshospitalet Horsens', '0615', 'Sundvej 30', '8700', 'Horsens'),
  h('rhv', 'Regionshospitalet Viborg', '0791', 'Heibergs Allé 4', '8800', 'Viborg'),
  h('aau', 'Aalborg Universitetshospital', '0851', 'Hobrovej 18-22', '9000', 'Aalborg', true),
  h('rhn', 'Regionshospital Nordjylland, Hjørring', '0860', 'Bispensgade 37', '9800', 'Hjørring'),
];

interface DepartmentSpec {
  readonly specialty: SpecialtyKey;
  readonly name: string;
  readonly type: keyof typeof SOR_TYPE;
  readonly universityOnly?: boolean;
}

/** The departments of each hospital (university hospitals also have neurology and oncology). */
export const DEPARTMENTS: readonly DepartmentSpec[] = [
  { specialty: 'emergency', name: 'Akutafdelingen', type: 'emergency' },
  { specialty: 'internalMedicine', name: 'Medicinsk Afdeling', type: 'clinicalUnit' },
  { specialty: 'cardiology', name: 'Hjertemedicinsk Afdeling', type: 'clinicalUnit' },
  { specialty: 'pulmonology', name: 'Lungemedicinsk Afdeling', type: 'clinicalUnit' },
  { specialty: 'endocrinology', name: 'Endokrinologisk Afdeling', type: 'clinicalUnit' },
  { specialty: 'orthopaedics', name: 'Ortopædkirurgisk Afdeling', type: 'clinicalUnit' },
  { specialty: 'surgery', name: 'Kirurgisk Afdeling', type: 'clinicalUnit' },
  { specialty: 'paediatrics', name: 'Børne- og Ungeafdelingen', type: 'clinicalUnit' },
  { specialty: 'gynaecology', name: 'Gynækologisk-Obstetrisk Afdeling', type: 'clinicalUnit' },
  { specialty: 'clinicalBiochemistry', name: 'Klinisk Biokemisk Afdeling', type: 'laboratory' },
  { specialty: 'radiology', name: 'Radiologisk Afdeling', type: 'imaging' },
  { specialty: 'neurology', name: 'Neurologisk Afdeling', type: 'clinicalUnit', universityOnly: true },
  { specialty: 'oncology', name: 'Onkologisk Afdeling', type: 'clinicalUnit', universityOnly: true },
];

/** Specialist practices (speciallægepraksis) and the title the Danes use for them. */
const SPECIALIST_KINDS: readonly (readonly [SpecialtyKey, string])[] = [
  ['ophthalmology', 'Øjenlæge'],
  ['dermatology', 'Hudlæge'],
  ['ent', 'Øre-næse-halslæge'],
  ['rheumatology', 'Speciallæge i reumatologi'],
  ['psychiatry', 'Speciallæge i psykiatri'],
  ['gynaecology', 'Speciallæge i gynækologi'],
  ['cardiology', 'Speciallæge i kardiologi'],
];

const PHARMACY_NAMES: readonly string[] = ['Apotek', 'Løve Apotek', 'Hjorte Apotek', 'Svane Apotek', 'Elefant Apotek', 'Ørne Apotek', 'Kronens Apotek', 'Stjerne Apotek', 'Falke Apotek'];

/** Messages each kind of unit receives (MedCom FHIR messaging event codes). */
export const ACCEPTED_MESSAGES: Readonly<Record<'department' | 'gp' | 'homeCare' | 'homeNursing' | 'healthCentre' | 'specialist', readonly MessageEventKey[]>> = {
  department: ['careCommunication', 'acknowledgement'],
  gp: ['careCommunication', 'homeCareObservation', 'acknowledgement'],
  homeCare: ['hospitalNotification', 'careCommunication', 'acknowledgement'],
  homeNursing: ['hospitalNotification', 'careCommunication', 'homeCareObservation', 'acknowledgement'],
  healthCentre: ['careCommunication', 'acknowledgement'],
  specialist: ['careCommunication', 'acknowledgement'],
};

/** Serial blocks for SOR/GLN numbers, so each unit's numbers are stable across releases. */
const SERIAL = {
  region: (i: number): number => 10 + i,
  municipality: (code: string): number => 1_000 + Number(code),
  hospital: (i: number): number => 10_000 + i * 100,
  department: (hospital: number, d: number): number => 10_000 + hospital * 100 + d + 1,
  municipal: (code: string, k: number): number => 100_000 + Number(code) * 10 + k,
  gp: (code: string, k: number): number => 200_000 + Number(code) * 100 + k,
  pharmacy: (code: string, k: number): number => 300_000 + Number(code) * 10 + k,
  specialist: (code: string, k: number): number => 400_000 + Number(code) * 10 + k,
};

/** Authorisation-id serial blocks (one per kind of staff). */
const AUTH_SERIAL = {
  gp: (code: string, clinic: number, j: number): number => 1_000_000 + Number(code) * 1_000 + clinic * 10 + j,
  hospital: (hospital: number, d: number, j: number): number => 2_000_000 + hospital * 10_000 + d * 100 + j,
  municipal: (code: string, j: number): number => 3_000_000 + Number(code) * 100 + j,
  specialist: (code: string, k: number): number => 4_000_000 + Number(code) * 100 + k,
};

const SOR_SYSTEM = IdentifierSystem.sor;
const sorUrl = (sor: string): string => `https://sor2.sum.dsdn.dk/#id=${sor}`;

interface Builder {
  readonly organizations: Organization[];
  readonly endpoints: Endpoint[];
  readonly practitioners: Practitioner[];
  readonly roles: PractitionerRole[];
}

interface OrgInput {
  readonly id: string;
  readonly name: string;
  readonly type: keyof typeof SOR_TYPE;
  readonly serial: number;
  readonly m: Municipality;
  readonly line: string;
  readonly postalCode: string;
  readonly city: string;
  readonly partOf?: string;
  readonly extraIdentifiers?: readonly Identifier[];
  readonly accepts?: readonly MessageEventKey[];
  readonly alias?: readonly string[];
  readonly telecom?: readonly ContactPoint[];
}

function addOrganization(b: Builder, o: OrgInput): { sor: string; gln: string } {
  const sor = makeSor(o.serial);
  const gln = makeGln(o.serial);
  const org: Organization = {
    resourceType: 'Organization',
    id: o.id,
    meta: { profile: [Profile.organization] },
    identifier: [{ system: SOR_SYSTEM, value: sor }, { system: IdentifierSystem.gln, value: gln }, ...(o.extraIdentifiers ?? [])],
    active: true,
    type: [concept([{ system: CodeSystemUri.snomed, version: SNOMED_DK_VERSION, code: SOR_TYPE[o.type].code, display: SOR_TYPE[o.type].display }])],
    name: o.name,
    ...(o.alias === undefined ? {} : { alias: [...o.alias] }),
    telecom: o.telecom === undefined ? [{ system: 'phone', value: phone(o.serial), use: 'work' }] : [...o.telecom],
    address: [danishAddress(o.line, o.postalCode, o.city, o.m, 'work')],
    ...(o.partOf === undefined ? {} : { partOf: ref('Organization', o.partOf) }),
  };
  if (o.accepts !== undefined && o.accepts.length > 0) {
    const epId = `ep-${o.id}`;
    org.endpoint = [ref('Endpoint', epId)];
    b.endpoints.push({
      resourceType: 'Endpoint',
      id: epId,
      identifier: [{ system: IdentifierSystem.gln, value: gln }],
      status: 'active',
      connectionType: coding('http://terminology.hl7.org/CodeSystem/endpoint-connection-type', 'hl7-fhir-msg', 'HL7 FHIR Messaging'),
      name: `MedCom FHIR-meddelelser til ${o.name}`,
      managingOrganization: ref('Organization', o.id),
      payloadType: o.accepts.map((k) => concept([coding(CodeSystemUri.medcomMessagingEvent, MESSAGE_EVENT[k].code, MESSAGE_EVENT[k].display)])),
      payloadMimeType: ['application/fhir+xml', 'application/fhir+json'],
      address: sorUrl(sor),
    });
  }
  b.organizations.push(org);
  return { sor, gln };
}

function personName(rng: Rng, sex: 'male' | 'female'): { given: string[]; family: string } {
  const cohort = rng.chance(0.5) ? 'mid' : rng.chance(0.6) ? 'old' : 'young';
  const given: string[] = [rng.pick<string>(GIVEN_NAMES[sex][cohort])];
  if (rng.chance(0.3)) {
    given.push(rng.pick(MIDDLE_NAMES));
  }
  return { given, family: rng.weighted(SURNAMES) };
}

function addStaff(b: Builder, rng: Rng, input: { id: string; organizationId: string; authSerial: number; profession: ProfessionKey; specialty?: SpecialtyKey; fixedName?: { given: string[]; family: string; sex: 'male' | 'female' } }): StaffMember {
  const sex = input.fixedName?.sex ?? (rng.chance(input.profession === 'doctor' ? 0.5 : 0.15) ? 'male' : 'female');
  const name = input.fixedName ?? personName(rng, sex);
  const authorizationId = makeAuthorizationId(input.authSerial);
  const prof = PROFESSION[input.profession];
  const since = 1985 + (input.authSerial % 35);
  const practitionerId = `prac-${input.id}`;
  const roleId = `role-${input.id}`;
  b.practitioners.push({
    resourceType: 'Practitioner',
    id: practitionerId,
    meta: { profile: [Profile.practitioner] },
    identifier: [{ system: IdentifierSystem.authorization, value: authorizationId }],
    active: true,
    name: [officialName(name.given, name.family)],
    gender: sex,
    qualification: [
      {
        identifier: [{ system: IdentifierSystem.authorization, value: authorizationId }],
        code: concept([coding(CodeSystemUri.professionGroup, prof.group, prof.groupDisplay)]),
        period: { start: `${since}-${pad((input.authSerial % 12) + 1, 2)}-01` },
      },
    ],
  });
  b.roles.push({
    resourceType: 'PractitionerRole',
    id: roleId,
    meta: { profile: [Profile.practitionerRole] },
    active: true,
    practitioner: ref('Practitioner', practitionerId, `${name.given.join(' ')} ${name.family}`),
    organization: ref('Organization', input.organizationId),
    code: [concept([coding(CodeSystemUri.medcomPractitionerRole, prof.role, prof.roleDisplay)])],
    ...(input.specialty === undefined ? {} : { specialty: [concept([coding(CodeSystemUri.snomed, SPECIALTY[input.specialty].code, SPECIALTY[input.specialty].display)])] }),
  });
  return { practitionerId, roleId, organizationId: input.organizationId, authorizationId, name: `${name.given.join(' ')} ${name.family}`, profession: input.profession };
}

function streetAddress(rng: Rng): string {
  return `${rng.pick(STREETS)} ${rng.int(1, 120)}`;
}

/** How many GP clinics a municipality gets (about one per 15,000 inhabitants). */
export function gpClinicCount(m: Municipality): number {
  return Math.max(1, Math.round(m.population / 15));
}

function buildRegions(b: Builder): Map<RegionIso, string> {
  const ids = new Map<RegionIso, string>();
  REGIONS.forEach((r: Region, i) => {
    const id = `region-${r.iso.toLowerCase()}`;
    const seat = municipality(r.seat.municipality);
    addOrganization(b, {
      id,
      name: r.name,
      type: 'region',
      serial: SERIAL.region(i),
      m: seat,
      line: r.seat.line,
      postalCode: r.seat.postalCode,
      city: r.seat.city,
      extraIdentifiers: [
        { system: IdentifierSystem.cvr, value: makeCvr(SERIAL.region(i)) },
        { system: IdentifierSystem.regionCode, value: r.iso },
      ],
    });
    ids.set(r.iso, id);
  });
  return ids;
}

/**
 * Builds the organisation register. Deterministic: the same call gives the same resources.
 * @returns organisations, endpoints, staff and indexes
 */
export function buildOrganisations(): OrganisationRegister {
  const b: Builder = { organizations: [], endpoints: [], practitioners: [], roles: [] };
  const regionIds = buildRegions(b);
  // The named demo users work in real units of the register (so generated citizens meet them too).
  const demo = buildDemoStaff(b);

  // Municipalities and their health units.
  const municipalityIds = new Map<string, string>();
  const municipal = new Map<string, MunicipalUnits>();
  for (const m of MUNICIPALITIES) {
    const rng = createRng(hashString(`kommune:${m.code}`));
    const town = m.postal[0]!;
    const id = `kommune-${m.code}`;
    addOrganization(b, {
      id,
      name: `${m.name} Kommune`,
      type: 'municipality',
      serial: SERIAL.municipality(m.code),
      m,
      line: m.code === '0101' ? 'Rådhuspladsen 1' : 'Rådhuset, Torvet 1',
      postalCode: m.code === '0101' ? '1550' : town.postalCode,
      city: m.code === '0101' ? 'København V' : town.city,
      extraIdentifiers: [
        { system: IdentifierSystem.cvr, value: makeCvr(SERIAL.municipality(m.code)) },
        { system: IdentifierSystem.municipalityCode, value: m.code },
      ],
    });
    municipalityIds.set(m.code, id);
    const unit = (k: number, key: string, name: string, type: keyof typeof SOR_TYPE, accepts: readonly MessageEventKey[]): string => {
      const unitId = `${key}-${m.code}`;
      addOrganization(b, { id: unitId, name, type, serial: SERIAL.municipal(m.code, k), m, line: streetAddress(rng), postalCode: town.postalCode, city: town.city, partOf: id, accepts });
      return unitId;
    };
    const homeCare = unit(1, 'hjemmepleje', `Hjemmeplejen, ${m.name} Kommune`, 'homeCare', ACCEPTED_MESSAGES.homeCare);
    const homeNursing = unit(2, 'hjemmesygepleje', `Hjemmesygeplejen, ${m.name} Kommune`, 'homeNursing', ACCEPTED_MESSAGES.homeNursing);
    const healthCentre = unit(3, 'sundhedscenter', `Sundhedscenter ${m.name}`, 'healthCentre', ACCEPTED_MESSAGES.healthCentre);
    const nurseCount = m.population >= 10 ? 2 : 1;
    const nurses: StaffMember[] = [];
    for (let j = 1; j <= nurseCount; j++) {
      nurses.push(addStaff(b, rng, { id: `hjemmesygepleje-${m.code}-${j}`, organizationId: homeNursing, authSerial: AUTH_SERIAL.municipal(m.code, j), profession: 'nurse', specialty: 'homeNursing' }));
    }
    if (homeNursing === DEMO_UNITS.homeNursing) {
      nurses.push(demo.municipalNurse);
    }
    const assistants = [addStaff(b, rng, { id: `hjemmepleje-${m.code}-1`, organizationId: homeCare, authSerial: AUTH_SERIAL.municipal(m.code, 50), profession: 'socialHealthAssistant', specialty: 'homeCare' })];
    municipal.set(m.code, { municipalityId: id, homeCare, homeNursing, healthCentre, nurses, assistants });
  }

  // Hospitals and departments.
  const hospitals: Hospital[] = [];
  HOSPITALS.forEach((spec, hi) => {
    const m = municipality(spec.municipality);
    const rng = createRng(hashString(`hospital:${spec.key}`));
    const id = `hosp-${spec.key}`;
    addOrganization(b, {
      id,
      name: spec.name,
      type: 'hospital',
      serial: SERIAL.hospital(hi),
      m,
      line: spec.line,
      postalCode: spec.postalCode,
      city: spec.city,
      partOf: regionIds.get(m.region)!,
    });
    const departments = new Map<SpecialtyKey, Department>();
    DEPARTMENTS.forEach((d, di) => {
      if (d.universityOnly === true && !spec.university) {
        return;
      }
      const deptId = `${id}-${d.specialty.toLowerCase()}`;
      addOrganization(b, {
        id: deptId,
        name: `${d.name}, ${spec.name}`,
        type: d.type,
        serial: SERIAL.department(hi, di),
        m,
        line: spec.line,
        postalCode: spec.postalCode,
        city: spec.city,
        partOf: id,
        accepts: d.specialty === 'clinicalBiochemistry' || d.specialty === 'radiology' ? [] : ACCEPTED_MESSAGES.department,
      });
      const lab = d.specialty === 'clinicalBiochemistry';
      const doctors = [1, 2].slice(0, lab ? 1 : 2).map((j) =>
        addStaff(b, rng, { id: `${deptId}-d${j}`, organizationId: deptId, authSerial: AUTH_SERIAL.hospital(hi, di, j), profession: 'doctor', specialty: d.specialty }),
      );
      const nurses = [1, 2].slice(0, lab ? 2 : 1).map((j) =>
        addStaff(b, rng, { id: `${deptId}-${lab ? 'b' : 'n'}${j}`, organizationId: deptId, authSerial: AUTH_SERIAL.hospital(hi, di, 50 + j), profession: lab ? 'biomedicalLabScientist' : 'nurse', specialty: d.specialty }),
      );
      if (deptId === DEMO_UNITS.hospitalDepartment) {
        doctors.push(demo.hospitalDoctor);
      }
      if (deptId === DEMO_UNITS.laboratory) {
        nurses.push(demo.labTechnician);
      }
      departments.set(d.specialty, { id: deptId, name: `${d.name}, ${spec.name}`, specialty: d.specialty, doctors, nurses });
    });
    hospitals.push({ id, key: spec.key, name: spec.name, region: m.region, municipality: m.code, departments, laboratory: departments.get('clinicalBiochemistry')! });
  });
  const hospitalsByRegion = new Map<RegionIso, Hospital[]>();
  for (const hosp of hospitals) {
    hospitalsByRegion.set(hosp.region, [...(hospitalsByRegion.get(hosp.region) ?? []), hosp]);
  }

  // GP clinics.
  const gpClinics = new Map<string, GpClinic[]>();
  for (const m of MUNICIPALITIES) {
    const rng = createRng(hashString(`gp:${m.code}`));
    const clinics: GpClinic[] = [];
    const n = gpClinicCount(m);
    for (let k = 1; k <= n; k++) {
      const area = m.postal[(k - 1) % m.postal.length]!;
      const street = rng.pick(STREETS);
      const doctorCount = rng.weighted<number>([
        [1, 35],
        [2, 40],
        [3, 20],
        [4, 5],
      ]);
      const id = `gp-${m.code}-${pad(k, 2)}`;
      const serial = SERIAL.gp(m.code, k);
      const ydernummer = makeYdernummer(Number(m.code) * 100 + k);
      const doctorNames = Array.from({ length: doctorCount }, () => {
        const sex: 'male' | 'female' = rng.chance(0.45) ? 'male' : 'female';
        return { ...personName(rng, sex), sex };
      });
      const demoClinic = id === DEMO_UNITS.gpClinic;
      const name =
        doctorCount === 1 && !demoClinic
          ? `Læge ${doctorNames[0]!.given[0]!} ${doctorNames[0]!.family}`
          : rng.weighted<string>([
              [`Lægerne ${street}`, 3],
              [`Lægehuset ${area.city}`, 2],
              [`${area.city} Lægecenter`, 1],
              [`Lægerne i ${area.city}`, 1],
            ]);
      const { sor } = addOrganization(b, {
        id,
        name: clinics.some((c) => c.name === name) ? `${name} (${k})` : name,
        type: 'generalPractice',
        serial,
        m,
        line: `${street} ${rng.int(1, 80)}`,
        postalCode: area.postalCode,
        city: area.city,
        partOf: regionIds.get(m.region)!,
        extraIdentifiers: [
          { system: IdentifierSystem.ydernummer, value: ydernummer },
          { system: IdentifierSystem.cvr, value: makeCvr(serial) },
        ],
        accepts: ACCEPTED_MESSAGES.gp,
      });
      const doctors = doctorNames.map((fixedName, j) =>
        addStaff(b, rng, { id: `${id}-${j + 1}`, organizationId: id, authSerial: AUTH_SERIAL.gp(m.code, k, j + 1), profession: 'doctor', specialty: 'generalPractice', fixedName }),
      );
      if (demoClinic) {
        doctors.unshift(demo.gp);
      }
      clinics.push({ id, name: b.organizations[b.organizations.length - 1]!.name!, municipality: m.code, ydernummer, sor, doctors });
    }
    gpClinics.set(m.code, clinics);
  }

  // Pharmacies.
  const pharmacies = new Map<string, string[]>();
  for (const m of MUNICIPALITIES) {
    const rng = createRng(hashString(`apotek:${m.code}`));
    const n = Math.max(1, Math.round(m.population / 40));
    const ids: string[] = [];
    for (let k = 1; k <= n; k++) {
      const area = m.postal[(k - 1) % m.postal.length]!;
      const id = `apotek-${m.code}-${k}`;
      const serial = SERIAL.pharmacy(m.code, k);
      addOrganization(b, {
        id,
        name: `${area.city} ${PHARMACY_NAMES[(k - 1) % PHARMACY_NAMES.length]!}`,
        type: 'pharmacy',
        serial,
        m,
        line: streetAddress(rng),
        postalCode: area.postalCode,
        city: area.city,
        extraIdentifiers: [{ system: IdentifierSystem.cvr, value: makeCvr(serial) }],
      });
      ids.push(id);
    }
    pharmacies.set(m.code, ids);
  }

  // Specialist practices: one in each municipality of 40,000 or more inhabitants.
  const specialists = new Map<RegionIso, SpecialistPractice[]>();
  let specialistIndex = 0;
  for (const m of MUNICIPALITIES) {
    if (m.population < 40) {
      continue;
    }
    const rng = createRng(hashString(`speciallaege:${m.code}`));
    const [specialty, title] = SPECIALIST_KINDS[specialistIndex % SPECIALIST_KINDS.length]!;
    specialistIndex++;
    const sex: 'male' | 'female' = rng.chance(0.5) ? 'male' : 'female';
    const fixedName = { ...personName(rng, sex), sex };
    const id = `speciallaege-${m.code}-1`;
    const serial = SERIAL.specialist(m.code, 1);
    const area = m.postal[0]!;
    const name = `${title} ${fixedName.given[0]!} ${fixedName.family}`;
    addOrganization(b, {
      id,
      name,
      type: 'specialistPractice',
      serial,
      m,
      line: streetAddress(rng),
      postalCode: area.postalCode,
      city: area.city,
      partOf: regionIds.get(m.region)!,
      extraIdentifiers: [
        { system: IdentifierSystem.ydernummer, value: makeYdernummer(90_000 + Number(m.code) * 10 + 1) },
        { system: IdentifierSystem.cvr, value: makeCvr(serial) },
      ],
      accepts: ACCEPTED_MESSAGES.specialist,
    });
    const doctor = addStaff(b, rng, { id, organizationId: id, authSerial: AUTH_SERIAL.specialist(m.code, 1), profession: 'doctor', specialty, fixedName });
    specialists.set(m.region, [...(specialists.get(m.region) ?? []), { id, name, municipality: m.code, specialty, doctor }]);
  }

  return {
    demo,
    organizations: b.organizations,
    endpoints: b.endpoints,
    practitioners: b.practitioners,
    roles: b.roles,
    regionIds,
    municipalityIds,
    hospitals,
    hospitalsByRegion,
    gpClinics,
    municipal,
    pharmacies,
    specialists,
  };
}

function buildDemoStaff(b: Builder): DemoStaff {
  const rng = createRng(hashString('demo-staff'));
  const staff = (id: string, organizationId: string, serial: number, profession: ProfessionKey, specialty: SpecialtyKey, given: string[], family: string, sex: 'male' | 'female'): StaffMember =>
    addStaff(b, rng, { id, organizationId, authSerial: 5_000_000 + serial, profession, specialty, fixedName: { given, family, sex } });
  const gp = staff('demo-gp', DEMO_UNITS.gpClinic, 1, 'doctor', 'generalPractice', ['Anne', 'Marie'], 'Kjær', 'female');
  const hospitalDoctor = staff('demo-hospital-doctor', DEMO_UNITS.hospitalDepartment, 2, 'doctor', 'cardiology', ['Jonas', 'Bech'], 'Frederiksen', 'male');
  const municipalNurse = staff('demo-nurse', DEMO_UNITS.homeNursing, 3, 'nurse', 'homeNursing', ['Helle', 'Lund'], 'Madsen', 'female');
  const labTechnician = staff('demo-lab-technician', DEMO_UNITS.laboratory, 4, 'biomedicalLabScientist', 'clinicalBiochemistry', ['Sara', 'Dahl'], 'Iversen', 'female');
  // The operator works for DSD itself: an organisation without a health-care SOR type of its own.
  const cvr = makeCvr(1);
  b.organizations.push({
    resourceType: 'Organization',
    id: DEMO_UNITS.operatorOrganization,
    meta: { profile: [Profile.organization] },
    identifier: [
      { system: SOR_SYSTEM, value: makeSor(1) },
      { system: IdentifierSystem.cvr, value: cvr },
    ],
    active: true,
    type: [concept([{ system: CodeSystemUri.snomed, version: SNOMED_DK_VERSION, code: SOR_TYPE.region.code, display: SOR_TYPE.region.display }])],
    name: 'Digital Sundhed Danmark',
    address: [danishAddress('Ørestads Boulevard 5', '2300', 'København S', municipality('0101'), 'work')],
  });
  const operatorName = { given: ['Mikkel', 'Friis'], family: 'Olesen' };
  const staffNumber = 'OPS-0001';
  b.practitioners.push({
    resourceType: 'Practitioner',
    id: 'prac-demo-operator',
    meta: { profile: [Profile.practitioner] },
    identifier: [{ system: DSD_STAFF_SYSTEM, value: staffNumber }],
    active: true,
    name: [officialName(operatorName.given, operatorName.family)],
    gender: 'male',
  });
  b.roles.push({
    resourceType: 'PractitionerRole',
    id: 'role-demo-operator',
    meta: { profile: [Profile.practitionerRole] },
    active: true,
    practitioner: ref('Practitioner', 'prac-demo-operator', 'Mikkel Friis Olesen'),
    organization: ref('Organization', DEMO_UNITS.operatorOrganization),
    code: [concept([coding('http://terminology.hl7.org/CodeSystem/practitioner-role', 'ict', 'ICT professional')], 'Driftsoperatør')],
  });
  return {
    gp,
    hospitalDoctor,
    municipalNurse,
    labTechnician,
    operator: { practitionerId: 'prac-demo-operator', roleId: 'role-demo-operator', organizationId: DEMO_UNITS.operatorOrganization, staffNumber, name: 'Mikkel Friis Olesen' },
  };
}
