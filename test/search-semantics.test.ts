import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestApp, TestResponse } from './support.ts';
import { createTestApp } from './support.ts';

/**
 * FHIR search semantics (https://hl7.org/fhir/R4/search.html), per parameter type, modifier and
 * result parameter, against small hand-built data with hand-computed expected results. Every
 * section tags its resources (meta.tag urn:sem|<section>) and scopes its searches with _tag, so
 * the sections do not see each other's data.
 */

interface Entry {
  readonly fullUrl?: string;
  readonly resource: { resourceType: string; id: string; [k: string]: unknown };
  readonly search?: { mode?: string };
}
interface SearchBundle {
  readonly resourceType: string;
  readonly type: string;
  readonly total?: number;
  readonly link?: { relation: string; url: string }[];
  readonly entry?: Entry[];
}
interface Outcome {
  readonly resourceType: 'OperationOutcome';
  readonly issue: { severity: string; code: string; details?: { text?: string }; diagnostics?: string }[];
}

type Json = Record<string, unknown>;

const UCUM = 'http://unitsofmeasure.org';
const LOINC = 'http://loinc.org';
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

let t: TestApp;

before(async () => {
  // Every filter counts as common (matching more than one index row), so these hand-computed
  // results check the scan in row order and the walk in sort order (search.store.ts choosePlan);
  // the other suites run with the default and mostly start from a rare filter's rows.
  t = await createTestApp({ validate: false, config: { DSD_SEARCH_DRIVER_LIMIT: '1' } });
  await transaction([
    ...numberData(),
    ...dateData(),
    ...stringData(),
    ...tokenData(),
    ...referenceData(),
    ...quantityData(),
    ...uriData(),
    ...compositeData(),
    ...resultData(),
  ]);
});
after(async () => {
  await t.close();
});

// ------------------------------------------------------------------------------------------ helpers

function tag(section: string): { meta: Json } {
  return { meta: { tag: [{ system: 'urn:sem', code: section }] } };
}

/** Stores resources with their given ids in one transaction (PUT = update-as-create). */
async function transaction(resources: readonly Json[]): Promise<void> {
  const res = await t.request('POST', '/fhir', {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((r) => ({ resource: r, request: { method: 'PUT', url: `${String(r.resourceType)}/${String(r.id)}` } })),
  });
  assert.equal(res.status, 200, res.text);
}

function url(type: string, params: readonly (readonly [string, string])[]): string {
  return `/fhir/${type}?${new URLSearchParams(params as [string, string][]).toString()}`;
}

async function get(type: string, params: readonly (readonly [string, string])[], headers?: Record<string, string>): Promise<TestResponse> {
  return t.request('GET', url(type, params), undefined, headers);
}

async function bundle(type: string, params: readonly (readonly [string, string])[], headers?: Record<string, string>): Promise<SearchBundle> {
  const res = await get(type, params, headers);
  assert.equal(res.status, 200, `${url(type, params)} → ${res.status} ${res.text}`);
  const b = res.body as SearchBundle;
  assert.equal(b.resourceType, 'Bundle');
  assert.equal(b.type, 'searchset');
  return b;
}

function matchIds(b: SearchBundle): string[] {
  return (b.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource.id);
}

/** Asserts the exact set of matching ids of a search within one section. */
async function expectIds(type: string, section: string, params: readonly (readonly [string, string])[], expected: readonly string[]): Promise<void> {
  const all: (readonly [string, string])[] = [...params, ['_tag', `urn:sem|${section}`], ['_count', '200']];
  const b = await bundle(type, all);
  assert.deepEqual(matchIds(b).sort(), [...expected].sort(), `${type}?${params.map(([k, v]) => `${k}=${v}`).join('&')}`);
}

async function expect400(type: string, params: readonly (readonly [string, string])[], mentions: RegExp): Promise<Outcome> {
  const res = await get(type, params);
  assert.equal(res.status, 400, `${url(type, params)} should be rejected, got ${res.status} ${res.text}`);
  const oo = res.body as Outcome;
  assert.equal(oo.resourceType, 'OperationOutcome');
  assert.equal(oo.issue[0]?.severity, 'error');
  const text = oo.issue.map((i) => `${i.details?.text ?? ''} ${i.diagnostics ?? ''}`).join(' ');
  assert.match(text, mentions);
  return oo;
}

// ------------------------------------------------------------------------------------------ data

function numberData(): Json[] {
  const ra = (id: string, values: readonly number[]): Json => ({
    resourceType: 'RiskAssessment',
    id,
    ...tag('num'),
    status: 'final',
    ...(values.length > 0 ? { prediction: values.map((v) => ({ probabilityDecimal: v })) } : {}),
  });
  return [
    ra('num-a', [100]),
    ra('num-b', [99.5]),
    ra('num-c', [100.4999]),
    ra('num-d', [100.5]),
    ra('num-e', [99.4]),
    ra('num-f', [0.5]),
    ra('num-g', [150]),
    ra('num-h', [10, 200]),
    ra('num-i', []),
  ];
}

function dateData(): Json[] {
  const pat = (id: string, birthDate?: string): Json => ({ resourceType: 'Patient', id, ...tag('date'), ...(birthDate !== undefined ? { birthDate } : {}) });
  const obs = (id: string, effective: Json): Json => ({ resourceType: 'Observation', id, ...tag('date'), status: 'final', code: { text: 'date test' }, ...effective });
  const day = 86400000;
  const near = Date.now() - 100 * day;
  const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  return [
    pat('dp-1', '1980-05-06'),
    pat('dp-2', '1980'),
    pat('dp-3', '1980-05'),
    pat('dp-4', '1981-01-01'),
    pat('dp-5', '1979-12-31'),
    pat('dp-6'),
    obs('do-1', { effectiveDateTime: '2021-03-04T10:15:30Z' }),
    obs('do-2', { effectivePeriod: { start: '2021-01-10', end: '2021-01-20' } }),
    obs('do-3', { effectivePeriod: { start: '2021-06-01' } }),
    obs('do-4', { effectiveDateTime: '2021-03-04' }),
    // For ap: 100 days ago is the search value, so 10% of the gap to now is 10 days.
    { ...obs('ap-1', { effectiveDateTime: iso(near) }), ...tag('ap') },
    { ...obs('ap-2', { effectiveDateTime: iso(near + 2 * day) }), ...tag('ap') },
    { ...obs('ap-3', { effectiveDateTime: iso(near - 60 * day) }), ...tag('ap') },
    { ...obs('ap-4', { effectiveDateTime: iso(near + 60 * day) }), ...tag('ap') },
  ];
}

/** "Ågaard" and "José" in decomposed form (NFD): A + combining ring, e + combining acute. */
const AAGAARD_NFD = 'A\u030Agaard';
const JOSE_NFD = 'Jose\u0301';
const AASE_NFD = 'A\u030Ase';

function stringData(): Json[] {
  const pat = (id: string, name: Json[]): Json => ({ resourceType: 'Patient', id, ...tag('str'), name });
  return [
    pat('s-1', [{ family: 'Sørensen', given: ['Åse', 'Marie'] }]),
    pat('s-2', [{ family: 'Soerensen', given: ['Aase'] }]),
    pat('s-3', [{ family: 'Søndergaard', given: ['Jens'] }]),
    pat('s-4', [{ family: 'Jensen', given: ['Søren'], prefix: ['Dr.'] }]),
    pat('s-5', [{ family: 'Müller', given: ['Zoë'] }]),
    pat('s-6', [{ text: 'Ærø Hansen', family: 'Hansen' }]),
    pat('s-7', [{ family: AAGAARD_NFD, given: [JOSE_NFD, AASE_NFD] }]),
  ];
}

function tokenData(): Json[] {
  const obs = (id: string, code: Json, status = 'final'): Json => ({ resourceType: 'Observation', id, ...tag('tok'), status, code });
  const ident = (id: string, identifier: Json[], extra: Json = {}): Json => ({ resourceType: 'Patient', id, ...tag('tok'), identifier, ...extra });
  return [
    obs('t-1', { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }] }),
    obs('t-2', { coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }], text: 'Diastolisk blodtryk' }, 'amended'),
    obs('t-3', { coding: [{ system: 'http://snomed.info/sct', code: '8480-6' }] }),
    obs('t-4', { coding: [{ code: '8480-6' }] }),
    obs('t-5', { text: 'Puls' }, 'preliminary'),
    obs('t-6', {
      coding: [
        { system: LOINC, code: '8867-4', display: 'Heart rate' },
        { system: 'urn:oid:1.2.208.176.2.1', code: 'NPU21692', display: 'Puls' },
      ],
    }),
    ident('ti-1', [{ type: { coding: [{ system: V2_0203, code: 'MR' }] }, system: 'urn:mrn', value: '123' }], { active: true, gender: 'female' }),
    ident('ti-2', [{ type: { coding: [{ system: V2_0203, code: 'SS' }] }, system: 'urn:oid:1.2.208.176.1.2', value: '123' }], { active: false, gender: 'male' }),
    ident('ti-3', [{ system: 'urn:mrn', value: '456' }]),
  ];
}

function referenceData(): Json[] {
  const obs = (id: string, extra: Json): Json => ({ resourceType: 'Observation', id, ...tag('ref'), status: 'final', ...extra });
  return [
    { resourceType: 'Organization', id: 'r-org1', ...tag('ref'), name: 'Region Hovedstaden' },
    { resourceType: 'Organization', id: 'r-org2', ...tag('ref'), name: 'Aarhus Universitetshospital' },
    { resourceType: 'Patient', id: 'r-p1', ...tag('ref'), name: [{ family: 'Hansen' }], managingOrganization: { reference: 'Organization/r-org1' } },
    { resourceType: 'Patient', id: 'r-p2', ...tag('ref'), name: [{ family: 'Ørsted' }], managingOrganization: { reference: 'Organization/r-org2' } },
    { resourceType: 'Group', id: 'r-g1', ...tag('ref'), type: 'person', actual: true, name: 'Hansen-gruppen' },
    { resourceType: 'Encounter', id: 'r-e1', ...tag('ref'), status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/r-p2' } },
    { resourceType: 'Encounter', id: 'r-e2', ...tag('ref'), status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/r-p1' } },
    obs('r-o1', { code: { coding: [{ system: 'urn:sem', code: 'ref-a' }] }, subject: { reference: 'Patient/r-p1' }, encounter: { reference: 'Encounter/r-e2' } }),
    obs('r-o2', { code: { coding: [{ system: 'urn:sem', code: 'ref-b' }] }, subject: { reference: 'Patient/r-p2' } }),
    obs('r-o3', { code: { text: 'group' }, subject: { reference: 'Group/r-g1' } }),
    obs('r-o4', { code: { text: 'logical' }, subject: { identifier: { system: 'urn:cpr', value: '0101801234' } } }),
    obs('r-o5', { code: { text: 'no subject' } }),
    obs('r-o6', { code: { text: 'absolute local' }, subject: { reference: 'http://localhost/fhir/Patient/r-p1' } }),
    obs('r-o7', { code: { text: 'absolute foreign' }, subject: { reference: 'http://other.example/fhir/Patient/r-p1' } }),
    { resourceType: 'Location', id: 'r-loc1', ...tag('ref'), name: 'Skejby' },
    obs('r-o8', { code: { text: 'location' }, subject: { reference: 'Location/r-loc1' } }),
  ];
}

function quantityData(): Json[] {
  const obs = (id: string, valueQuantity: Json): Json => ({ resourceType: 'Observation', id, ...tag('qty'), status: 'final', code: { text: 'qty' }, valueQuantity });
  return [
    obs('q-1', { value: 5.4, unit: 'mg', system: UCUM, code: 'mg' }),
    obs('q-2', { value: 5.4, unit: 'g', system: UCUM, code: 'g' }),
    obs('q-3', { value: 5.35, unit: 'mg', system: UCUM, code: 'mg' }),
    obs('q-4', { value: 100, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' }),
    obs('q-5', { value: 5.4, unit: 'mg' }),
  ];
}

function uriData(): Json[] {
  const vs = (id: string, u: string): Json => ({ resourceType: 'ValueSet', id, ...tag('uri'), url: u, status: 'active' });
  return [
    vs('u-1', 'http://acme.org/fhir/ValueSet/blood'),
    vs('u-2', 'http://acme.org/fhir/ValueSet/blood-pressure'),
    vs('u-3', 'http://acme.org/fhir/ValueSet'),
    vs('u-4', 'http://other.org/fhir/ValueSet/blood'),
  ];
}

function compositeData(): Json[] {
  const q = (value: number): Json => ({ value, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' });
  const cc = (code: string): Json => ({ coding: [{ system: LOINC, code }] });
  const obs = (id: string, extra: Json): Json => ({ resourceType: 'Observation', id, ...tag('comp'), status: 'final', ...extra });
  return [
    obs('c-1', { code: cc('8480-6'), valueQuantity: q(120) }),
    obs('c-2', { code: cc('8480-6'), valueQuantity: q(90) }),
    obs('c-3', { code: cc('85354-9'), component: [{ code: cc('8480-6'), valueQuantity: q(10) }, { code: cc('8462-4'), valueQuantity: q(200) }] }),
    obs('c-4', { code: cc('85354-9'), component: [{ code: cc('8480-6'), valueQuantity: q(150) }, { code: cc('8462-4'), valueQuantity: q(80) }] }),
  ];
}

const NARRATIVE = '<div xmlns="http://www.w3.org/1999/xhtml">Patienten har diabetes</div>';

function resultData(): Json[] {
  const pat = (id: string, family: string, birthDate?: string, extra: Json = {}): Json => ({
    resourceType: 'Patient',
    id,
    ...tag('sort'),
    name: [{ family }],
    ...(birthDate !== undefined ? { birthDate } : {}),
    ...extra,
  });
  const paging: Json[] = [];
  for (let i = 0; i < 23; i++) {
    paging.push({ resourceType: 'Patient', id: `pg-${String(i).padStart(2, '0')}`, ...tag('page'), name: [{ family: `Side${String(i % 7)}` }] });
  }
  return [
    pat('so-1', 'Berg', '1990-01-01', {
      gender: 'female',
      text: { status: 'generated', div: NARRATIVE },
      maritalStatus: { text: 'Gift' },
      contact: [{ name: { family: 'Kontakt' } }],
      address: [{ line: ['Kløvervej 7'], city: 'Odense' }],
      meta: {
        tag: [{ system: 'urn:sem', code: 'sort' }],
        profile: ['http://example.org/StructureDefinition/dk-patient'],
        security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }],
      },
    }),
    pat('so-2', 'Andersen', '1985-06-01'),
    pat('so-3', 'Berg', '1970-03-03'),
    pat('so-4', 'Christensen', '2000-12-12'),
    pat('so-5', 'Dahl'),
    ...paging,
  ];
}

// ------------------------------------------------------------------------------------------ number

describe('number (RiskAssessment.probability)', () => {
  const S = 'num';
  const P = 'probability';
  test('eq uses the implicit precision of the search value: 100 means [99.5, 100.5)', async () => {
    await expectIds('RiskAssessment', S, [[P, '100']], ['num-a', 'num-b', 'num-c']);
    await expectIds('RiskAssessment', S, [[P, 'eq100']], ['num-a', 'num-b', 'num-c']);
    await expectIds('RiskAssessment', S, [[P, '100.0']], ['num-a']);
    await expectIds('RiskAssessment', S, [[P, '100.00']], ['num-a']);
    await expectIds('RiskAssessment', S, [[P, '99.5']], ['num-b']);
    await expectIds('RiskAssessment', S, [[P, '0.5']], ['num-f']);
    // 1e2 has one significant figure: a wider range that still excludes 150.
    await expectIds('RiskAssessment', S, [[P, '1e2']], ['num-a', 'num-b', 'num-c', 'num-d', 'num-e']);
  });
  test('ne is the complement of eq among resources with a value', async () => {
    await expectIds('RiskAssessment', S, [[P, 'ne100']], ['num-d', 'num-e', 'num-f', 'num-g', 'num-h']);
  });
  test('gt, lt, ge and le compare with the exact value', async () => {
    await expectIds('RiskAssessment', S, [[P, 'gt100']], ['num-c', 'num-d', 'num-g', 'num-h']);
    await expectIds('RiskAssessment', S, [[P, 'lt100']], ['num-b', 'num-e', 'num-f', 'num-h']);
    await expectIds('RiskAssessment', S, [[P, 'ge100']], ['num-a', 'num-c', 'num-d', 'num-g', 'num-h']);
    await expectIds('RiskAssessment', S, [[P, 'le100']], ['num-a', 'num-b', 'num-e', 'num-f', 'num-h']);
    await expectIds('RiskAssessment', S, [[P, 'gt150']], ['num-h']);
    await expectIds('RiskAssessment', S, [[P, 'ge150']], ['num-g', 'num-h']);
  });
  test('sa and eb: starts after / ends before the search value', async () => {
    await expectIds('RiskAssessment', S, [[P, 'sa100.49']], ['num-c', 'num-d', 'num-g', 'num-h']);
    await expectIds('RiskAssessment', S, [[P, 'eb99.5']], ['num-e', 'num-f', 'num-h']);
  });
  test('ap matches within 10% of the value', async () => {
    await expectIds('RiskAssessment', S, [[P, 'ap100']], ['num-a', 'num-b', 'num-c', 'num-d', 'num-e']);
    await expectIds('RiskAssessment', S, [[P, 'ap150']], ['num-g']);
  });
  test('values OR within a parameter, parameters AND (each may match a different value)', async () => {
    await expectIds('RiskAssessment', S, [[P, '0.5,150']], ['num-f', 'num-g']);
    await expectIds('RiskAssessment', S, [[P, 'gt50'], [P, 'lt120']], ['num-a', 'num-b', 'num-c', 'num-d', 'num-e', 'num-h']);
  });
  test(':missing', async () => {
    await expectIds('RiskAssessment', S, [[`${P}:missing`, 'true']], ['num-i']);
    await expectIds('RiskAssessment', S, [[`${P}:missing`, 'false']], ['num-a', 'num-b', 'num-c', 'num-d', 'num-e', 'num-f', 'num-g', 'num-h']);
  });
  test('a malformed number is a 400', async () => {
    await expect400('RiskAssessment', [[P, 'abc']], /abc/);
    await expect400('RiskAssessment', [[P, 'gt']], /probability/);
    await expect400('RiskAssessment', [[P, '1,2.3.4']], /2\.3\.4/);
    await expect400('RiskAssessment', [[P, 'xx100']], /xx100/);
  });
});

// ------------------------------------------------------------------------------------------ date

describe('date', () => {
  test('birthdate: the search value is a range at its precision and must contain the stored range', async () => {
    const S = 'date';
    await expectIds('Patient', S, [['birthdate', '1980']], ['dp-1', 'dp-2', 'dp-3']);
    await expectIds('Patient', S, [['birthdate', '1980-05']], ['dp-1', 'dp-3']);
    await expectIds('Patient', S, [['birthdate', '1980-05-06']], ['dp-1']);
    await expectIds('Patient', S, [['birthdate', 'eq1980-05-06']], ['dp-1']);
    await expectIds('Patient', S, [['birthdate', 'ne1980-05-06']], ['dp-2', 'dp-3', 'dp-4', 'dp-5']);
    await expectIds('Patient', S, [['birthdate', 'lt1980-05-06']], ['dp-2', 'dp-3', 'dp-5']);
    await expectIds('Patient', S, [['birthdate', 'gt1980-05-06']], ['dp-2', 'dp-3', 'dp-4']);
    await expectIds('Patient', S, [['birthdate', 'ge1980-05-06']], ['dp-1', 'dp-2', 'dp-3', 'dp-4']);
    await expectIds('Patient', S, [['birthdate', 'le1980-05-06']], ['dp-1', 'dp-2', 'dp-3', 'dp-5']);
    await expectIds('Patient', S, [['birthdate', 'sa1980']], ['dp-4']);
    await expectIds('Patient', S, [['birthdate', 'eb1980']], ['dp-5']);
    await expectIds('Patient', S, [['birthdate', 'sa1980-05-06']], ['dp-4']);
    await expectIds('Patient', S, [['birthdate', 'eb1980-05-06']], ['dp-5']);
    await expectIds('Patient', S, [['birthdate', 'gt1980-12-31']], ['dp-4']);
    await expectIds('Patient', S, [['birthdate', 'ge1981']], ['dp-4']);
    await expectIds('Patient', S, [['birthdate', 'le1979']], ['dp-5']);
    await expectIds('Patient', S, [['birthdate:missing', 'true']], ['dp-6']);
  });

  test('dateTime to the second, time zones, and minute-precision search values', async () => {
    const S = 'date';
    await expectIds('Observation', S, [['date', '2021-03-04']], ['do-1', 'do-4']);
    await expectIds('Observation', S, [['date', '2021-03-04T10:15:30Z']], ['do-1']);
    await expectIds('Observation', S, [['date', '2021-03-04T11:15:30+01:00']], ['do-1']);
    await expectIds('Observation', S, [['date', '2021-03-04T05:15:30-05:00']], ['do-1']);
    await expectIds('Observation', S, [['date', '2021-03-04T10:15:31Z']], []);
    await expectIds('Observation', S, [['date', '2021-03-04T10:15Z']], ['do-1']);
    await expectIds('Observation', S, [['date', 'gt2021-03-04T10:15:30Z']], ['do-3', 'do-4']);
    await expectIds('Observation', S, [['date', 'ge2021-03-04T10:15:30Z']], ['do-1', 'do-3', 'do-4']);
    await expectIds('Observation', S, [['date', 'lt2021-03-04T10:15:30Z']], ['do-2', 'do-4']);
  });

  test('Period values: open and closed periods as ranges', async () => {
    const S = 'date';
    await expectIds('Observation', S, [['date', '2021-01']], ['do-2']);
    await expectIds('Observation', S, [['date', '2021-01-15']], []);
    await expectIds('Observation', S, [['date', '2021']], ['do-1', 'do-2', 'do-4']);
    await expectIds('Observation', S, [['date', 'gt2021-01-15']], ['do-1', 'do-2', 'do-3', 'do-4']);
    await expectIds('Observation', S, [['date', 'lt2021-01-15']], ['do-2']);
    await expectIds('Observation', S, [['date', 'sa2021-01-05']], ['do-1', 'do-2', 'do-3', 'do-4']);
    await expectIds('Observation', S, [['date', 'sa2021-01-15']], ['do-1', 'do-3', 'do-4']);
    await expectIds('Observation', S, [['date', 'eb2021-01-25']], ['do-2']);
    await expectIds('Observation', S, [['date', 'eb2021-01-15']], []);
    await expectIds('Observation', S, [['date', 'gt2030']], ['do-3']);
    await expectIds('Observation', S, [['date', 'lt2021-05']], ['do-1', 'do-2', 'do-4']);
    await expectIds('Observation', S, [['date', 'ne2021-03-04']], ['do-2', 'do-3']);
    await expectIds('Observation', S, [['date', 'ge2021-03-04']], ['do-1', 'do-3', 'do-4']);
    await expectIds('Observation', S, [['date', 'le2021-03-04']], ['do-1', 'do-2', 'do-4']);
    // ap widens by 10% of the distance from now (years here): all of 2021 is near 2021-01-15, nothing near 2019-01-15.
    await expectIds('Observation', S, [['date', 'ap2021-01-15']], ['do-1', 'do-2', 'do-3', 'do-4']);
    await expectIds('Observation', S, [['date', 'ap2019-01-15']], []);
  });

  test('ap: approximately, within about 10% of the gap between now and the date', async () => {
    const near = new Date(Date.now() - 100 * 86400000).toISOString().slice(0, 10);
    await expectIds('Observation', 'ap', [['date', `ap${near}`]], ['ap-1', 'ap-2']);
  });

  test('_lastUpdated compares with the stored instant', async () => {
    const before = new Date(Date.now() - 1000).toISOString();
    const created = await t.request('POST', '/fhir/Patient', { resourceType: 'Patient', ...tag('lu') });
    assert.equal(created.status, 201);
    const id = created.body.id as string;
    const lastUpdated = created.body.meta.lastUpdated as string;
    const later = new Date(Date.parse(lastUpdated) + 2000).toISOString();
    await expectIds('Patient', 'lu', [['_lastUpdated', `ge${before}`]], [id]);
    await expectIds('Patient', 'lu', [['_lastUpdated', `lt${before}`]], []);
    await expectIds('Patient', 'lu', [['_lastUpdated', `gt${later}`]], []);
    await expectIds('Patient', 'lu', [['_lastUpdated', `le${later}`]], [id]);
    // The exact instant (millisecond precision) and the day both contain it.
    await expectIds('Patient', 'lu', [['_lastUpdated', lastUpdated]], [id]);
    await expectIds('Patient', 'lu', [['_lastUpdated', lastUpdated.slice(0, 10)]], [id]);
    await expectIds('Patient', 'lu', [['_lastUpdated', `ne${lastUpdated}`]], []);
  });

  test('a malformed date is a 400', async () => {
    await expect400('Patient', [['birthdate', '1980-13']], /1980-13/);
    await expect400('Patient', [['birthdate', '19800506']], /19800506/);
    await expect400('Patient', [['birthdate', 'gt1980-02-30']], /1980-02-30/);
    await expect400('Patient', [['birthdate', 'yesterday']], /yesterday/);
    await expect400('Patient', [['_lastUpdated', '2021-01-01T25:00:00Z']], /2021-01-01T25/);
  });
});

// ------------------------------------------------------------------------------------------ string

describe('string', () => {
  const S = 'str';
  test('default: case- and accent-insensitive starts-with; Danish æ ø å fold to ae oe aa', async () => {
    await expectIds('Patient', S, [['family', 'sørensen']], ['s-1', 's-2']);
    await expectIds('Patient', S, [['family', 'Soerensen']], ['s-1', 's-2']);
    await expectIds('Patient', S, [['family', 'SØR']], ['s-1', 's-2']);
    await expectIds('Patient', S, [['family', 'sø']], ['s-1', 's-2', 's-3']);
    await expectIds('Patient', S, [['family', 'ensen']], []);
    await expectIds('Patient', S, [['family', 'muller']], ['s-5']);
    await expectIds('Patient', S, [['family', 'MÜLLER']], ['s-5']);
    await expectIds('Patient', S, [['given', 'zoe']], ['s-5']);
    await expectIds('Patient', S, [['given', 'aase']], ['s-1', 's-2', 's-7']);
    await expectIds('Patient', S, [['given', 'Åse']], ['s-1', 's-2', 's-7']);
    await expectIds('Patient', S, [['given', 'marie']], ['s-1']);
  });
  test('composed (NFC) and decomposed (NFD) text match each other, in data and in the query', async () => {
    await expectIds('Patient', S, [['family', 'Ågaard']], ['s-7']);
    await expectIds('Patient', S, [['family', 'aagaard']], ['s-7']);
    await expectIds('Patient', S, [['family', AAGAARD_NFD]], ['s-7']);
    await expectIds('Patient', S, [['given', 'josé']], ['s-7']);
    await expectIds('Patient', S, [['given', 'JOSE']], ['s-7']);
    await expectIds('Patient', S, [['given', AASE_NFD]], ['s-1', 's-2', 's-7']);
  });
  test(':exact matches the whole value, case and accents included', async () => {
    await expectIds('Patient', S, [['family:exact', 'Sørensen']], ['s-1']);
    await expectIds('Patient', S, [['family:exact', 'sørensen']], []);
    await expectIds('Patient', S, [['family:exact', 'Soerensen']], ['s-2']);
    await expectIds('Patient', S, [['family:exact', 'Sørense']], []);
    await expectIds('Patient', S, [['given:exact', 'Åse']], ['s-1', 's-7']);
    await expectIds('Patient', S, [['given:exact', AASE_NFD]], ['s-1', 's-7']);
    await expectIds('Patient', S, [['family:exact', 'Ågaard']], ['s-7']);
    await expectIds('Patient', S, [['family:exact', 'Agaard']], []);
  });
  test(':contains matches anywhere in the value', async () => {
    await expectIds('Patient', S, [['family:contains', 'ensen']], ['s-1', 's-2', 's-4']);
    await expectIds('Patient', S, [['family:contains', 'GAARD']], ['s-3', 's-7']);
    await expectIds('Patient', S, [['family:contains', 'rø']], []);
    // LIKE wildcards in the value are literal characters.
    await expectIds('Patient', S, [['family', '%']], []);
    await expectIds('Patient', S, [['family:contains', '_']], []);
    await expectIds('Patient', S, [['family:contains', 's%n']], []);
    await expectIds('Patient', S, [['name:contains', 'ensen']], ['s-1', 's-2', 's-4']);
  });
  test('name searches family, given, prefix, suffix and text of HumanName', async () => {
    await expectIds('Patient', S, [['name', 'søren']], ['s-1', 's-2', 's-4']);
    await expectIds('Patient', S, [['name', 'dr']], ['s-4']);
    await expectIds('Patient', S, [['name', 'hansen']], ['s-6']);
    await expectIds('Patient', S, [['name', 'ærø']], ['s-6']);
    await expectIds('Patient', S, [['name', 'aer']], ['s-6']);
    await expectIds('Patient', S, [['name', 'jens']], ['s-3', 's-4']);
    await expectIds('Patient', S, [['name', 'ensen']], []);
    await expectIds('Patient', S, [['name', 'jose,zoe']], ['s-5', 's-7']);
    await expectIds('Patient', S, [['name', 'sør'], ['given', 'aase']], ['s-1', 's-2']);
  });
  test(':missing on a string parameter', async () => {
    await expectIds('Patient', S, [['given:missing', 'true']], ['s-6']);
  });
});

// ------------------------------------------------------------------------------------------ token

describe('token', () => {
  const S = 'tok';
  test('code, system|code, |code and system|', async () => {
    await expectIds('Observation', S, [['code', '8480-6']], ['t-1', 't-3', 't-4']);
    await expectIds('Observation', S, [['code', `${LOINC}|8480-6`]], ['t-1']);
    await expectIds('Observation', S, [['code', '|8480-6']], ['t-4']);
    await expectIds('Observation', S, [['code', `${LOINC}|`]], ['t-1', 't-2', 't-6']);
    await expectIds('Observation', S, [['code', 'urn:oid:1.2.208.176.2.1|NPU21692']], ['t-6']);
    await expectIds('Observation', S, [['code', `${LOINC}|NPU21692`]], []);
    await expectIds('Observation', S, [['code', '8480-6,8867-4']], ['t-1', 't-3', 't-4', 't-6']);
    await expectIds('Observation', S, [['code', '8480']], []);
    await expectIds('Observation', S, [['status', 'final']], ['t-1', 't-3', 't-4', 't-6']);
    await expectIds('Observation', S, [['status', 'amended,preliminary']], ['t-2', 't-5']);
  });
  test(':not excludes resources with a matching code (and keeps those without any)', async () => {
    await expectIds('Observation', S, [['code:not', `${LOINC}|8480-6`]], ['t-2', 't-3', 't-4', 't-5', 't-6']);
    await expectIds('Observation', S, [['code:not', '8480-6']], ['t-2', 't-5', 't-6']);
    await expectIds('Observation', S, [['status:not', 'final']], ['t-2', 't-5']);
  });
  test(':text searches the display and text, not the code', async () => {
    await expectIds('Observation', S, [['code:text', 'systolic']], ['t-1']);
    await expectIds('Observation', S, [['code:text', 'Diastolisk']], ['t-2']);
    await expectIds('Observation', S, [['code:text', 'diastolic blood']], ['t-2']);
    await expectIds('Observation', S, [['code:text', 'puls']], ['t-5', 't-6']);
    await expectIds('Observation', S, [['code:text', '8480-6']], []);
  });
  test('identifier, :of-type, booleans and codes', async () => {
    await expectIds('Patient', S, [['identifier', '123']], ['ti-1', 'ti-2']);
    await expectIds('Patient', S, [['identifier', 'urn:mrn|123']], ['ti-1']);
    await expectIds('Patient', S, [['identifier', 'urn:mrn|']], ['ti-1', 'ti-3']);
    await expectIds('Patient', S, [['identifier:of-type', `${V2_0203}|MR|123`]], ['ti-1']);
    await expectIds('Patient', S, [['identifier:of-type', `${V2_0203}|SS|123`]], ['ti-2']);
    await expectIds('Patient', S, [['identifier:of-type', `${V2_0203}|MR|456`]], []);
    await expect400('Patient', [['identifier:of-type', 'MR|123']], /of-type/);
    await expectIds('Patient', S, [['active', 'true']], ['ti-1']);
    await expectIds('Patient', S, [['active', 'false']], ['ti-2']);
    await expectIds('Patient', S, [['active:not', 'true']], ['ti-2', 'ti-3']);
    await expectIds('Patient', S, [['gender', 'female']], ['ti-1']);
    await expectIds('Patient', S, [['gender:missing', 'true']], ['ti-3']);
    await expectIds('Patient', S, [['gender:missing', 'false']], ['ti-1', 'ti-2']);
  });
  test(':in and :not-in use a ValueSet expansion when the server has one, else a clear 400', async () => {
    const vsUrl = 'http://example.org/fhir/ValueSet/blood-pressure-codes';
    const vs = await t.request('PUT', '/fhir/ValueSet/vs-bp', {
      resourceType: 'ValueSet',
      id: 'vs-bp',
      url: vsUrl,
      status: 'active',
      compose: { include: [{ system: LOINC, concept: [{ code: '8480-6' }, { code: '8462-4' }] }] },
      expansion: { timestamp: '2024-01-01T00:00:00Z', contains: [{ system: LOINC, code: '8480-6' }, { system: LOINC, code: '8462-4' }] },
    });
    assert.ok(vs.status === 200 || vs.status === 201, vs.text);
    const res = await get('Observation', [['code:in', vsUrl], ['_tag', `urn:sem|${S}`]]);
    if (res.status === 200) {
      assert.deepEqual(matchIds(res.body as SearchBundle).sort(), ['t-1', 't-2']);
      await expectIds('Observation', S, [['code:not-in', vsUrl]], ['t-3', 't-4', 't-5', 't-6']);
    } else {
      assert.equal(res.status, 400, res.text);
      await expect400('Observation', [['code:in', vsUrl]], /ValueSet.*blood-pressure-codes.*:in|:in.*ValueSet/);
      await expect400('Observation', [['code:not-in', vsUrl]], /ValueSet.*:not-in|:not-in.*ValueSet/);
    }
    // A ValueSet nobody knows is always an error, never an empty result.
    await expect400('Observation', [['code:in', 'http://example.org/fhir/ValueSet/does-not-exist']], /does-not-exist/);
  });
});

// ------------------------------------------------------------------------------------------ reference

describe('reference', () => {
  const S = 'ref';
  test('Type/id, id, absolute URL of this server, and the type modifier', async () => {
    await expectIds('Observation', S, [['subject', 'Patient/r-p1']], ['r-o1', 'r-o6']);
    await expectIds('Observation', S, [['subject', 'r-p1']], ['r-o1', 'r-o6']);
    await expectIds('Observation', S, [['subject', 'http://localhost/fhir/Patient/r-p1']], ['r-o1', 'r-o6']);
    await expectIds('Observation', S, [['subject:Patient', 'r-p1']], ['r-o1', 'r-o6']);
    await expectIds('Observation', S, [['subject:Group', 'r-g1']], ['r-o3']);
    await expectIds('Observation', S, [['subject:Patient', 'r-g1']], []);
    await expectIds('Observation', S, [['subject', 'Group/r-g1,Patient/r-p2']], ['r-o2', 'r-o3']);
    await expectIds('Observation', S, [['patient', 'r-p2']], ['r-o2']);
    await expectIds('Patient', S, [['organization', 'Organization/r-org1']], ['r-p1']);
  });
  test('a reference to another server is matched by its URL, not as a local resource', async () => {
    await expectIds('Observation', S, [['subject', 'http://other.example/fhir/Patient/r-p1']], ['r-o7']);
    await expectIds('Observation', S, [['patient', 'Patient/r-p1']], ['r-o1', 'r-o6']);
  });
  test(':identifier and :missing', async () => {
    await expectIds('Observation', S, [['subject:identifier', 'urn:cpr|0101801234']], ['r-o4']);
    await expectIds('Observation', S, [['subject:identifier', '0101801234']], ['r-o4']);
    await expectIds('Observation', S, [['subject:identifier', 'urn:other|0101801234']], []);
    await expectIds('Observation', S, [['subject:missing', 'true']], ['r-o5']);
    await expectIds('Observation', S, [['subject:missing', 'false']], ['r-o1', 'r-o2', 'r-o3', 'r-o4', 'r-o6', 'r-o7', 'r-o8']);
    await expectIds('Observation', S, [['encounter:missing', 'false']], ['r-o1']);
  });
  test('chained parameters, with and without a type, one and two levels deep', async () => {
    await expectIds('Observation', S, [['subject:Patient.name', 'hansen']], ['r-o1', 'r-o6']);
    // subject may point at Group, Device, Patient or Location; several of them have "name".
    await expectIds('Observation', S, [['subject.name', 'ørsted']], ['r-o2']);
    await expectIds('Observation', S, [['subject.name', 'skejby']], ['r-o8']);
    await expectIds('Observation', S, [['subject.name', 'skejby,ørsted']], ['r-o2', 'r-o8']);
    await expectIds('Observation', S, [['subject:Location.name', 'skejby']], ['r-o8']);
    await expectIds('Observation', S, [['subject:Patient.name', 'skejby']], []);
    await expectIds('Observation', S, [['subject.name', 'nobody']], []);
    await expectIds('Observation', S, [['subject.name', 'hansen']], ['r-o1', 'r-o6']);
    await expectIds('Observation', S, [['subject:Patient.organization.name', 'region']], ['r-o1', 'r-o6']);
    await expectIds('Observation', S, [['subject:Patient.organization', 'Organization/r-org2']], ['r-o2']);
    await expectIds('Encounter', S, [['subject.organization.name', 'aarhus']], ['r-e1']);
    await expectIds('Encounter', S, [['subject:Patient.organization.name', 'Region Hovedstaden']], ['r-e2']);
    await expectIds('Observation', S, [['encounter.subject.name', 'hansen']], ['r-o1']);
    await expect400('Observation', [['code.name', 'x']], /code/);
  });
  test('_has, including nested _has', async () => {
    await expectIds('Patient', S, [['_has:Observation:subject:code', 'urn:sem|ref-a']], ['r-p1']);
    await expectIds('Patient', S, [['_has:Observation:subject:code', 'ref-a,ref-b']], ['r-p1', 'r-p2']);
    await expectIds('Patient', S, [['_has:Observation:patient:code', 'ref-b']], ['r-p2']);
    await expectIds('Patient', S, [['_has:Observation:subject:code', 'no-such-code']], []);
    await expectIds('Organization', S, [['_has:Patient:organization:_has:Observation:subject:code', 'ref-b']], ['r-org2']);
    await expectIds('Organization', S, [['_has:Patient:organization:_has:Encounter:subject:status', 'finished']], ['r-org1', 'r-org2']);
    await expect400('Patient', [['_has:Observation:code:code', 'x']], /code/);
  });
  test('_include, _include:iterate, Type:* and _revinclude', async () => {
    const included = (b: SearchBundle): string[] =>
      (b.entry ?? []).filter((e) => e.search?.mode === 'include').map((e) => `${e.resource.resourceType}/${e.resource.id}`).sort();
    const base: [string, string][] = [['_tag', `urn:sem|${S}`], ['code', 'ref-a']];
    let b = await bundle('Observation', [...base, ['_include', 'Observation:subject']]);
    assert.deepEqual(matchIds(b), ['r-o1']);
    assert.deepEqual(included(b), ['Patient/r-p1']);
    b = await bundle('Observation', [...base, ['_include', 'Observation:subject'], ['_include', 'Patient:organization']]);
    assert.deepEqual(included(b), ['Patient/r-p1']);
    b = await bundle('Observation', [...base, ['_include', 'Observation:subject'], ['_include:iterate', 'Patient:organization']]);
    assert.deepEqual(included(b), ['Organization/r-org1', 'Patient/r-p1']);
    b = await bundle('Observation', [...base, ['_include', 'Observation:*']]);
    assert.deepEqual(included(b), ['Encounter/r-e2', 'Patient/r-p1']);
    b = await bundle('Observation', [...base, ['_include', 'Observation:subject:Group']]);
    assert.deepEqual(included(b), []);
    b = await bundle('Patient', [['_id', 'r-p1'], ['_revinclude', 'Observation:subject']]);
    assert.deepEqual(matchIds(b), ['r-p1']);
    assert.deepEqual(included(b), ['Observation/r-o1', 'Observation/r-o6']);
    b = await bundle('Patient', [['_id', 'r-p2'], ['_revinclude', 'Observation:subject'], ['_revinclude', 'Encounter:subject']]);
    assert.deepEqual(included(b), ['Encounter/r-e1', 'Observation/r-o2']);
    b = await bundle('Organization', [['_id', 'r-org1'], ['_revinclude', 'Patient:organization'], ['_revinclude:iterate', 'Observation:subject']]);
    assert.deepEqual(matchIds(b), ['r-org1']);
    assert.deepEqual(included(b), ['Observation/r-o1', 'Observation/r-o6', 'Patient/r-p1']);
    // Includes are for the resources on the page only.
    b = await bundle('Observation', [['_tag', `urn:sem|${S}`], ['_id', 'r-o1,r-o2'], ['_sort', '_id'], ['_count', '1'], ['_include', 'Observation:subject']]);
    assert.deepEqual(matchIds(b), ['r-o1']);
    assert.deepEqual(included(b), ['Patient/r-p1']);
    await expect400('Observation', [['_include', 'Observation:status']], /status/);
  });
});

// ------------------------------------------------------------------------------------------ quantity, uri, composite

describe('quantity', () => {
  const S = 'qty';
  test('number|system|code, unit only, number only and prefixes', async () => {
    await expectIds('Observation', S, [['value-quantity', `5.4|${UCUM}|mg`]], ['q-1', 'q-3']);
    await expectIds('Observation', S, [['value-quantity', `5.40|${UCUM}|mg`]], ['q-1']);
    await expectIds('Observation', S, [['value-quantity', '5.4||mg']], ['q-1', 'q-3', 'q-5']);
    await expectIds('Observation', S, [['value-quantity', '5.4']], ['q-1', 'q-2', 'q-3', 'q-5']);
    await expectIds('Observation', S, [['value-quantity', `gt5.35|${UCUM}|mg`]], ['q-1']);
    await expectIds('Observation', S, [['value-quantity', 'le5.35||mg']], ['q-3']);
    await expectIds('Observation', S, [['value-quantity', `lt6|${UCUM}|g`]], ['q-2']);
    await expectIds('Observation', S, [['value-quantity', `ap100|${UCUM}|mm[Hg]`]], ['q-4']);
    await expectIds('Observation', S, [['value-quantity', `ne5.4|${UCUM}|mg`]], []);
    await expectIds('Observation', S, [['value-quantity', `ge5|${UCUM}|`]], ['q-1', 'q-2', 'q-3', 'q-4']);
    await expect400('Observation', [['value-quantity', 'five|mg']], /five/);
  });
});

describe('uri', () => {
  const S = 'uri';
  test('exact, :below and :above', async () => {
    await expectIds('ValueSet', S, [['url', 'http://acme.org/fhir/ValueSet/blood']], ['u-1']);
    await expectIds('ValueSet', S, [['url', 'http://acme.org/fhir/ValueSet/Blood']], []);
    await expectIds('ValueSet', S, [['url', 'http://acme.org/fhir/ValueSet/bl']], []);
    await expectIds('ValueSet', S, [['url:below', 'http://acme.org/fhir/']], ['u-1', 'u-2', 'u-3']);
    await expectIds('ValueSet', S, [['url:below', 'http://acme.org/fhir/ValueSet/blood']], ['u-1', 'u-2']);
    await expectIds('ValueSet', S, [['url:above', 'http://acme.org/fhir/ValueSet/blood/_history/3']], ['u-1', 'u-3']);
    await expectIds('ValueSet', S, [['url:above', 'http://other.org/fhir/ValueSet/blood']], ['u-4']);
  });
});

describe('composite', () => {
  const S = 'comp';
  test('code-value-quantity on the Observation', async () => {
    await expectIds('Observation', S, [['code-value-quantity', `${LOINC}|8480-6$gt100`]], ['c-1']);
    await expectIds('Observation', S, [['code-value-quantity', '8480-6$lt100']], ['c-2']);
    await expectIds('Observation', S, [['code-value-quantity', `${LOINC}|8480-6$120|${UCUM}|mm[Hg]`]], ['c-1']);
    await expectIds('Observation', S, [['code-value-quantity', `${LOINC}|8462-4$gt0`]], []);
    await expect400('Observation', [['code-value-quantity', '8480-6']], /component/);
  });
  test('components must match within the same component', async () => {
    await expectIds('Observation', S, [['component-code-value-quantity', `${LOINC}|8480-6$gt100`]], ['c-4']);
    await expectIds('Observation', S, [['component-code-value-quantity', `${LOINC}|8462-4$gt100`]], ['c-3']);
    await expectIds('Observation', S, [['component-code-value-quantity', `${LOINC}|8480-6$lt50`]], ['c-3']);
    await expectIds('Observation', S, [['component-code-value-quantity', `${LOINC}|8462-4$lt50`]], []);
    await expectIds('Observation', S, [['component-code-value-quantity', `${LOINC}|8480-6$gt100,${LOINC}|8462-4$gt100`]], ['c-3', 'c-4']);
    await expectIds('Observation', S, [['combo-code-value-quantity', `${LOINC}|8480-6$gt100`]], ['c-1', 'c-4']);
    await expectIds('Observation', S, [['component-code', '8480-6'], ['component-value-quantity', 'gt190']], ['c-3']);
  });
});

// ------------------------------------------------------------------------------------------ result parameters

describe('result parameters', () => {
  const S = 'sort';
  const sorted = async (params: [string, string][]): Promise<string[]> => matchIds(await bundle('Patient', [...params, ['_tag', `urn:sem|${S}`]]));
  test('_sort by several keys, ascending and descending, by string and by date', async () => {
    assert.deepEqual(await sorted([['_sort', 'family,-birthdate']]), ['so-2', 'so-1', 'so-3', 'so-4', 'so-5']);
    assert.deepEqual(await sorted([['_sort', 'family,birthdate']]), ['so-2', 'so-3', 'so-1', 'so-4', 'so-5']);
    assert.deepEqual(await sorted([['_sort', 'birthdate']]), ['so-3', 'so-2', 'so-1', 'so-4', 'so-5']);
    assert.deepEqual((await sorted([['_sort', '-birthdate']])).slice(0, 4), ['so-4', 'so-1', 'so-2', 'so-3']);
    assert.deepEqual(await sorted([['_sort', '-family,birthdate']]), ['so-5', 'so-4', 'so-3', 'so-1', 'so-2']);
    assert.deepEqual(await sorted([['_sort', '_id']]), ['so-1', 'so-2', 'so-3', 'so-4', 'so-5']);
    assert.deepEqual(await sorted([['_sort', '-_id']]), ['so-5', 'so-4', 'so-3', 'so-2', 'so-1']);
    await expect400('Patient', [['_sort', 'nonsense']], /nonsense/);
  });

  test('_count pages: following next links yields every match exactly once, in the same order as one page', async () => {
    for (const sort of [undefined, 'family', '-family,_id']) {
      const params: [string, string][] = [['_tag', 'urn:sem|page'], ...(sort !== undefined ? ([['_sort', sort]] as [string, string][]) : [])];
      const whole = matchIds(await bundle('Patient', [...params, ['_count', '100']]));
      assert.equal(whole.length, 23);
      const seen: string[] = [];
      let next: string | undefined = url('Patient', [...params, ['_count', '5']]);
      let pages = 0;
      while (next !== undefined) {
        const res = await t.request('GET', next);
        assert.equal(res.status, 200, res.text);
        const b = res.body as SearchBundle;
        const page = matchIds(b);
        assert.ok(page.length <= 5);
        seen.push(...page);
        const link = b.link?.find((l) => l.relation === 'next')?.url;
        assert.ok(link === undefined || link.startsWith('http://localhost/fhir/Patient?'), link);
        next = link?.replace('http://localhost', '');
        pages++;
        assert.ok(pages < 10, 'paging does not end');
      }
      assert.equal(pages, 5);
      assert.equal(new Set(seen).size, 23);
      assert.deepEqual(seen, whole, `order with _sort=${String(sort)}`);
    }
  });

  test('_total=accurate|estimate|none and _summary=count', async () => {
    const tagged: [string, string] = ['_tag', 'urn:sem|page'];
    let b = await bundle('Patient', [tagged, ['_count', '5'], ['_total', 'accurate']]);
    assert.equal(b.total, 23);
    assert.equal(matchIds(b).length, 5);
    b = await bundle('Patient', [tagged, ['_count', '5'], ['_total', 'none']]);
    assert.equal(b.total, undefined);
    b = await bundle('Patient', [tagged, ['_count', '5'], ['_total', 'estimate']]);
    assert.equal(typeof b.total, 'number');
    assert.ok(b.total! >= 5, `estimate ${String(b.total)} is below the matches already returned`);
    b = await bundle('Patient', [tagged, ['_summary', 'count']]);
    assert.equal(b.total, 23);
    assert.deepEqual(b.entry ?? [], []);
    b = await bundle('Patient', [tagged, ['family', 'side3'], ['_summary', 'count']]);
    assert.equal(b.total, 3);
    // _count=0 is the same as _summary=count.
    b = await bundle('Patient', [tagged, ['_count', '0']]);
    assert.equal(b.total, 23);
    assert.deepEqual(b.entry ?? [], []);
    assert.equal(b.link?.find((l) => l.relation === 'next'), undefined);
    await expect400('Patient', [['_total', 'some']], /_total/);
  });

  test('_summary=true|text|data and _elements', async () => {
    const one = async (params: [string, string][]): Promise<Json> => {
      const b = await bundle('Patient', [['_id', 'so-1'], ...params]);
      assert.equal(b.entry?.length, 1);
      return b.entry[0]!.resource;
    };
    const subsetted = (r: Json): boolean => ((r.meta as { tag?: { code?: string }[] }).tag ?? []).some((x) => x.code === 'SUBSETTED');
    let r = await one([['_summary', 'true']]);
    assert.ok(r.name !== undefined && r.gender !== undefined && r.birthDate !== undefined);
    assert.equal(r.text, undefined);
    assert.equal(r.contact, undefined);
    assert.equal(r.maritalStatus, undefined);
    assert.ok(subsetted(r));
    r = await one([['_summary', 'text']]);
    assert.deepEqual(r.text, { status: 'generated', div: NARRATIVE });
    assert.equal(r.name, undefined);
    assert.ok(subsetted(r));
    r = await one([['_summary', 'data']]);
    assert.equal(r.text, undefined);
    assert.ok(r.name !== undefined && r.contact !== undefined && r.maritalStatus !== undefined);
    r = await one([['_elements', 'name,gender']]);
    assert.deepEqual(r.name, [{ family: 'Berg' }]);
    assert.equal(r.gender, 'female');
    assert.equal(r.birthDate, undefined);
    assert.equal(r.address, undefined);
    assert.equal(r.id, 'so-1');
    assert.ok(subsetted(r));
    // Mandatory elements stay in _summary=text; choice elements are named without their type.
    const obs = await bundle('Observation', [['_id', 'do-1'], ['_summary', 'text']]);
    const o = obs.entry![0]!.resource;
    assert.ok(o.status === 'final' && o.code !== undefined && o.effectiveDateTime === undefined);
    const els = await bundle('Observation', [['_id', 'do-1'], ['_elements', 'effective']]);
    const e = els.entry![0]!.resource;
    assert.ok(e.effectiveDateTime === '2021-03-04T10:15:30Z' && e.code === undefined);
    r = await one([]);
    assert.ok(!subsetted(r));
    assert.ok(r.text !== undefined && r.contact !== undefined);
  });

  test('_id, _tag, _profile, _security', async () => {
    await expectIds('Patient', S, [['_id', 'so-1,so-3']], ['so-1', 'so-3']);
    await expectIds('Patient', S, [['_id:not', 'so-1']], ['so-2', 'so-3', 'so-4', 'so-5']);
    await expectIds('Patient', S, [['_profile', 'http://example.org/StructureDefinition/dk-patient']], ['so-1']);
    await expectIds('Patient', S, [['_profile', 'http://example.org/StructureDefinition/other']], []);
    await expectIds('Patient', S, [['_security', 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R']], ['so-1']);
    await expectIds('Patient', S, [['_security', 'R']], ['so-1']);
    await expectIds('Patient', S, [['_security', 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality|N']], []);
    await expectIds('Patient', S, [['_tag', 'sort']], ['so-1', 'so-2', 'so-3', 'so-4', 'so-5']);
    await expectIds('Patient', S, [['_tag:not', 'urn:sem|page'], ['family', 'berg']], ['so-1', 'so-3']);
  });

  test('_content searches the whole resource, _text the narrative', async () => {
    await expectIds('Patient', S, [['_content', 'kløvervej']], ['so-1']);
    await expectIds('Patient', S, [['_content', 'KLOEVERVEJ odense']], ['so-1']);
    await expectIds('Patient', S, [['_content', 'kløvervej aalborg']], []);
    await expectIds('Patient', S, [['_text', 'diabetes']], ['so-1']);
    await expectIds('Patient', S, [['_text', 'kløvervej']], []);
    await expectIds('Patient', S, [['_content', 'diabetes']], ['so-1']);
  });

  test('POST [type]/_search with a form body equals the GET search', async () => {
    const res = await t.request('POST', '/fhir/Patient/_search', 'family=berg&_tag=urn%3Asem%7Csort&_sort=birthdate', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(matchIds(res.body as SearchBundle), ['so-3', 'so-1']);
    const mixed = await t.request('POST', '/fhir/Patient/_search?_sort=-birthdate', 'family=berg&_tag=urn%3Asem%7Csort', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(mixed.status, 200, mixed.text);
    assert.deepEqual(matchIds(mixed.body as SearchBundle), ['so-1', 'so-3']);
  });
});

// ------------------------------------------------------------------------------------------ errors and leniency

describe('errors and Prefer: handling=lenient', () => {
  test('an unknown parameter is a 400 OperationOutcome naming it', async () => {
    await expect400('Patient', [['shoe-size', '42']], /shoe-size/);
    await expect400('Observation', [['_tag', 'urn:sem|tok'], ['colour', 'blue']], /colour/);
  });
  test('an unknown or inapplicable modifier is a 400', async () => {
    await expect400('Patient', [['family:foo', 'x']], /:foo/);
    await expect400('Patient', [['birthdate:exact', '1980']], /:exact/);
    await expect400('Observation', [['code:contains', 'x']], /:contains/);
    await expect400('Patient', [['family:missing', 'maybe']], /missing/);
  });
  test('lenient handling ignores the bad parameter and reports it in an outcome entry', async () => {
    const b = await bundle('Patient', [['_tag', 'urn:sem|sort'], ['family', 'berg'], ['shoe-size', '42'], ['birthdate', 'soon']], { prefer: 'handling=lenient' });
    assert.deepEqual(matchIds(b).sort(), ['so-1', 'so-3']);
    const outcomes = (b.entry ?? []).filter((e) => e.search?.mode === 'outcome');
    assert.equal(outcomes.length, 1);
    const oo = outcomes[0]!.resource as unknown as Outcome;
    assert.equal(oo.resourceType, 'OperationOutcome');
    assert.ok(oo.issue.every((i) => i.severity === 'warning'));
    const text = oo.issue.map((i) => i.details?.text ?? i.diagnostics ?? '').join(' ');
    assert.match(text, /shoe-size/);
    assert.match(text, /soon/);
    // Without the header the same search is refused.
    await expect400('Patient', [['_tag', 'urn:sem|sort'], ['family', 'berg'], ['shoe-size', '42']], /shoe-size/);
    // A strict search has no outcome entry.
    const strict = await bundle('Patient', [['_tag', 'urn:sem|sort'], ['family', 'berg']]);
    assert.ok((strict.entry ?? []).every((e) => e.search?.mode === 'match'));
  });
});

// ------------------------------------------------------------------------------------------ custom SearchParameter

describe('a SearchParameter created on the server', () => {
  test('is searchable for new data at once and for existing data after $reindex', async () => {
    const EXT = 'http://example.org/fhir/StructureDefinition/favourite-colour';
    const colour = (id: string, value: string, marital?: string): Json => ({
      resourceType: 'Patient',
      id,
      ...tag('cs'),
      extension: [{ url: EXT, valueString: value }],
      ...(marital !== undefined ? { maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: marital }] } } : {}),
    });
    await transaction([colour('cs-1', 'Grøn', 'M'), colour('cs-3', 'Blå', 'U')]);
    await expect400('Patient', [['favourite-colour', 'groen']], /favourite-colour/);
    await expect400('Patient', [['marital-status', 'M']], /marital-status/);

    for (const sp of [
      {
        resourceType: 'SearchParameter',
        url: 'http://example.org/fhir/SearchParameter/patient-favourite-colour',
        name: 'FavouriteColour',
        status: 'active',
        description: 'The favourite colour (an extension)',
        code: 'favourite-colour',
        base: ['Patient'],
        type: 'string',
        expression: `Patient.extension.where(url='${EXT}').value`,
      },
      {
        resourceType: 'SearchParameter',
        url: 'http://example.org/fhir/SearchParameter/patient-marital-status',
        name: 'MaritalStatus',
        status: 'active',
        description: 'Marital status (not indexed by the base specification)',
        code: 'marital-status',
        base: ['Patient'],
        type: 'token',
        expression: 'Patient.maritalStatus',
      },
    ]) {
      const created = await t.request('POST', '/fhir/SearchParameter', sp);
      assert.equal(created.status, 201, created.text);
    }

    // New data is indexed as it is written.
    await transaction([colour('cs-2', 'GRØNNE', 'M'), colour('cs-4', 'Rød')]);
    const fresh = matchIds(await bundle('Patient', [['_tag', 'urn:sem|cs'], ['favourite-colour', 'grøn']]));
    assert.ok(fresh.includes('cs-2'), `new data is searchable at once: ${fresh.join(',')}`);
    assert.ok(!fresh.includes('cs-3') && !fresh.includes('cs-4'));

    const reindexed = await t.request('POST', '/fhir/Patient/$reindex');
    assert.equal(reindexed.status, 200, reindexed.text);
    const count = (reindexed.body as { parameter: { name: string; valueInteger: number }[] }).parameter.find((p) => p.name === 'count')?.valueInteger;
    assert.ok(count !== undefined && count >= 4, `reindexed ${String(count)}`);

    await expectIds('Patient', 'cs', [['favourite-colour', 'groen']], ['cs-1', 'cs-2']);
    await expectIds('Patient', 'cs', [['favourite-colour:exact', 'Grøn']], ['cs-1']);
    await expectIds('Patient', 'cs', [['favourite-colour', 'blaa']], ['cs-3']);
    await expectIds('Patient', 'cs', [['favourite-colour:missing', 'true']], []);
    await expectIds('Patient', 'cs', [['marital-status', 'M']], ['cs-1', 'cs-2']);
    await expectIds('Patient', 'cs', [['marital-status', 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus|U']], ['cs-3']);
    await expectIds('Patient', 'cs', [['marital-status:missing', 'true']], ['cs-4']);
    // The new parameters sort and chain like base ones.
    assert.deepEqual(matchIds(await bundle('Patient', [['_tag', 'urn:sem|cs'], ['_sort', 'favourite-colour,_id']])), ['cs-3', 'cs-1', 'cs-2', 'cs-4']);
  });
});
