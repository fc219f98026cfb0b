import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  AUTHORIZATION_ID_SERIALS,
  CVR_SERIALS,
  D_ECPR_SYSTEMS,
  DK_CORE_AUTHORIZATION_PATTERN,
  DK_CORE_CPR_PATTERN,
  DK_CORE_D_ECPR_PATTERN,
  DK_CORE_KOMBIT_ORG_PATTERN,
  DK_CORE_SOR_PATTERN,
  DK_CORE_X_ECPR_PATTERN,
  ECPR_SERIALS_PER_DATE,
  IdentifierSystem,
  SOR_SERIALS,
  YDERNUMMER_SERIALS,
  checkAuthorizationId,
  checkCpr,
  checkCvr,
  checkEcpr,
  checkGln,
  checkIdentifier,
  checkKombitOrgId,
  checkMunicipalityCode,
  checkRegionCode,
  checkSor,
  checkYdernummer,
  cprBirthYear,
  cprSerialCount,
  formatCpr,
  makeAuthorizationId,
  makeCpr,
  makeCvr,
  makeEcpr,
  makeGln,
  makeKombitOrgId,
  makeSor,
  makeYdernummer,
  verhoeffValid,
} from './index.ts';
import type { Checked, Sex } from './index.ts';

// ---------------------------------------------------------------------------------------------------------------
// Independent oracles, written from the sources rather than from the implementation.

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 → YYYY-MM-DD (UTC, proleptic Gregorian, fine before 1970). */
function isoOfDay(n: number): string {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}
function dayOfIso(iso: string): number {
  return Date.UTC(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)) - 1, Number(iso.slice(8, 10))) / DAY_MS;
}
/** Whether a Gregorian date exists, by asking Date to normalise it. */
function realDate(year: number, month: number, day: number): boolean {
  const d = new Date(Date.UTC(2000, month - 1, day));
  d.setUTCFullYear(year);
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** The CPR office century table, as rows of (digit-7 values, [YY range, century] …). */
const CENTURY_TABLE: readonly { readonly digits: readonly number[]; readonly ranges: readonly (readonly [number, number, number])[] }[] = [
  { digits: [0, 1, 2, 3], ranges: [[0, 99, 1900]] },
  { digits: [4, 9], ranges: [[0, 36, 2000], [37, 57, 1900], [58, 99, 1900]] },
  { digits: [5, 6, 7, 8], ranges: [[0, 36, 2000], [37, 57, 2000], [58, 99, 1800]] },
];
function tableYear(yy: number, digit7: number): number {
  const row = CENTURY_TABLE.find((r) => r.digits.includes(digit7))!;
  const range = row.ranges.find(([lo, hi]) => yy >= lo && yy <= hi)!;
  return range[2] + yy;
}

/** Modulus 11 for CPR, weights 4,3,2,7,6,5,4,3,2,1 (CPR office). */
function oracleCprMod11(cpr: string): boolean {
  const w = [4, 3, 2, 7, 6, 5, 4, 3, 2, 1];
  return Array.from(cpr).reduce((s, c, i) => s + Number(c) * w[i]!, 0) % 11 === 0;
}
/** DK-core `gln-modulus-10`, transcribed from the FHIRPath expression. */
function oracleGln(v: string): boolean {
  const d = (i: number): number => Number(v.substring(i, i + 1));
  const sum = d(0) * 1 + d(1) * 3 + d(2) * 1 + d(3) * 3 + d(4) * 1 + d(5) * 3 + d(6) * 1 + d(7) * 3 + d(8) * 1 + d(9) * 3 + d(10) * 1 + d(11) * 3;
  return /^[0-9]{13}$/.test(v) && ((10 - (sum % 10)) % 10) === d(12);
}
/** DK-core `CVR-length` and `CVR-modulus-11`, transcribed from the FHIRPath expressions. */
function oracleCvr(v: string): boolean {
  const d = (i: number): number => Number(v.substring(i, i + 1));
  return /^[0-9]{8}$/.test(v) && (d(0) * 2 + d(1) * 7 + d(2) * 6 + d(3) * 5 + d(4) * 4 + d(5) * 3 + d(6) * 2 + d(7) * 1) % 11 === 0;
}

/**
 * The Identifier.value invariants of hl7.fhir.dk.core#3.8.0, copied by hand from the StructureDefinitions (the argument
 * of FHIRPath `matches()`), so the agreement tests do not trust the implementation's own copies.
 */
const PROFILE = {
  cpr: /^((((0[1-9]|1[0-9]|2[0-9]|3[0-1])(01|03|05|07|08|10|12))|((0[1-9]|1[0-9]|2[0-9]|30)(04|06|09|11))|((0[1-9]|1[0-9]|2[0-9])(02)))[0-9]{6})$/,
  xEcpr: /^((((0[1-9]|1[0-9]|2[0-9]|3[0-1])(01|03|05|07|08|10|12))|((0[1-9]|1[0-9]|2[0-9]|30)(04|06|09|11))|((0[1-9]|1[0-9]|2[0-9])(02)))([0-9]{2})((1|7){1})([A-Z]{2})([0-9]{1}))$/,
  dEcpr: /^((((0[1-9]|1[0-9]|2[0-9]|3[0-1])(01|03|05|07|08|10|12))|((0[1-9]|1[0-9]|2[0-9]|30)(04|06|09|11))|((0[1-9]|1[0-9]|2[0-9])(02)))([0-9]{2})((0|5|6){1})([A-Z]{2})([0-9]{1}))$/,
  sor: /^([0-9]){11,}$/,
  authorization: /^([b-df-hj-np-tv-zB-DF-HJ-NP-TV-Z0-9]){5}$/,
  // Unanchored in the profile; FHIRPath matches() is a partial match.
  kombit: /urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/,
} as const;

function ok<T>(r: Checked<T>): T {
  if (!r.ok) {
    assert.fail(`expected ok, got error: ${r.error}`);
  }
  return r.value;
}
function err<T>(r: Checked<T> | undefined): string {
  assert.ok(r !== undefined, 'expected a result');
  if (r.ok) {
    assert.fail(`expected an error, got ok: ${JSON.stringify(r.value)}`);
  }
  return r.error;
}
function warnings<T>(r: Checked<T> | undefined): readonly string[] {
  assert.ok(r !== undefined && r.ok, `expected ok, got ${JSON.stringify(r)}`);
  return r.warnings;
}

const MIN_CPR_DAY = dayOfIso('1858-01-01');
const MAX_CPR_DAY = dayOfIso('2057-12-31');
const arbSex = fc.constantFrom<Sex>('male', 'female');

// ---------------------------------------------------------------------------------------------------------------

describe('identifier systems', () => {
  test('system URIs are the ones DK-core 3.8.0 fixes', () => {
    assert.equal(IdentifierSystem.cpr, 'urn:oid:1.2.208.176.1.2');
    assert.equal(IdentifierSystem.xEcpr, 'urn:oid:1.2.208.176.1.6.1.1');
    assert.equal(IdentifierSystem.dEcpr, 'urn:oid:1.2.208.176.1.6.1.3');
    assert.deepEqual(
      [...D_ECPR_SYSTEMS].sort(),
      ['', '.177', '.179', '.181', '.183', '.187'].map((s) => `urn:oid:1.2.208.176.1.6.1.3${s}`),
    );
    assert.equal(IdentifierSystem.sor, 'urn:oid:1.2.208.176.1.1');
    assert.equal(IdentifierSystem.ydernummer, 'urn:oid:1.2.208.176.1.4');
    assert.equal(IdentifierSystem.cvr, 'http://cvr.dk');
    assert.equal(IdentifierSystem.gln, 'http://www.gs1.org/gln');
    assert.equal(IdentifierSystem.authorization, 'https://autregweb.sst.dk');
    assert.equal(IdentifierSystem.kombitOrg, 'https://kombit.dk/sts/organisation');
    assert.equal(IdentifierSystem.municipalityCode, 'http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes');
    assert.equal(IdentifierSystem.regionCode, 'urn:iso:std:iso:3166:-2');
  });

  test('the exported patterns are the DK-core profile regexes', () => {
    assert.equal(DK_CORE_CPR_PATTERN.source, PROFILE.cpr.source);
    assert.equal(DK_CORE_X_ECPR_PATTERN.source, PROFILE.xEcpr.source);
    assert.equal(DK_CORE_D_ECPR_PATTERN.source, PROFILE.dEcpr.source);
    assert.equal(DK_CORE_SOR_PATTERN.source, PROFILE.sor.source);
    assert.equal(DK_CORE_AUTHORIZATION_PATTERN.source, PROFILE.authorization.source);
    assert.equal(DK_CORE_KOMBIT_ORG_PATTERN.source, PROFILE.kombit.source);
  });
});

describe('CPR: hand examples', () => {
  test('the CPR office example 070761-4285 passes modulus 11 with no warning, in both written forms', () => {
    for (const v of ['0707614285', '070761-4285']) {
      const r = checkCpr(v);
      assert.deepEqual(r, { ok: true, value: { birthDate: '1961-07-07', sexDigit: 'male', modulus11: true }, warnings: [] });
    }
  });

  test('a number without modulus 11 (DK-core example 010772-9995) is ok with exactly one warning', () => {
    const r = checkCpr('0107729995');
    assert.deepEqual(ok(r), { birthDate: '1972-07-01', sexDigit: 'male', modulus11: false });
    const w = warnings(r);
    assert.equal(w.length, 1);
    assert.match(w[0]!, /modulus 11/);
    assert.match(w[0]!, /2007/);
  });

  test('DK-core example patients: birth date and sex agree with Patient.birthDate and Patient.gender', () => {
    // From hl7.fhir.dk.core#3.8.0 Patient-*.json (Patient-else is left out: its birthDate 1991-02-02 contradicts its
    // CPR 0201919990, which says 2 January 1991).
    const examples: [string, string, Sex][] = [
      ['0108589995', '1958-08-01', 'male'],
      ['0201919990', '1991-01-02', 'female'],
      ['0211223989', '1922-11-02', 'male'],
      ['3101229995', '2022-01-31', 'male'],
      ['3103979995', '1997-03-31', 'male'],
      ['0505239996', '2023-05-05', 'female'],
      ['0212159995', '2015-12-02', 'male'],
      ['1509819996', '1981-09-15', 'female'],
      ['2509479989', '1947-09-25', 'male'],
      ['2311143995', '1914-11-23', 'male'],
      ['1310169995', '2016-10-13', 'male'],
      ['1306249996', '2024-06-13', 'female'],
      ['0505109990', '2010-05-05', 'female'],
      ['2103009996', '2000-03-21', 'female'],
      ['2911829996', '1982-11-29', 'female'],
      ['1007059995', '2005-07-10', 'male'],
      ['2512489996', '1948-12-25', 'female'],
      ['3001749995', '1974-01-30', 'male'],
      ['0504909989', '1990-04-05', 'male'],
      ['0506889996', '1988-06-05', 'female'],
    ];
    for (const [cpr, birthDate, sex] of examples) {
      const v = ok(checkCpr(cpr));
      assert.equal(v.birthDate, birthDate, cpr);
      assert.equal(v.sexDigit, sex, cpr);
    }
  });

  test('invalid dates are errors that name the problem', () => {
    assert.match(err(checkCpr('3102991234')), /day 31 does not exist in February 1999/);
    assert.match(err(checkCpr('2902011234')), /29 February 1901 does not exist/);
    assert.match(err(checkCpr('2902014234')), /29 February 2001 does not exist/);
    assert.match(err(checkCpr('3104991234')), /day 31 does not exist in April 1999/);
    assert.match(err(checkCpr('0001991234')), /day 00/);
    assert.match(err(checkCpr('0113991234')), /month 13 does not exist/);
    assert.match(err(checkCpr('0100991234')), /month 00 does not exist/);
    // 1900 is not a leap year, 2000 is: the century digit decides.
    assert.match(err(checkCpr('2902003234')), /29 February 1900 does not exist: 1900 is not a leap year/);
    assert.equal(ok(checkCpr('2902004234')).birthDate, '2000-02-29');
    assert.equal(ok(checkCpr('2902005234')).birthDate, '2000-02-29');
  });

  test('format errors say what a valid number looks like', () => {
    for (const bad of ['', '070761428', '07076142851', '070761 4285', '07-07-61-4285', ' 0707614285', '0707614285 ', 'abcdefghij', '070761--4285', '0707614-285']) {
      const e = err(checkCpr(bad));
      assert.match(e, /DDMMYYSSSS or DDMMYY-SSSS/, bad);
      assert.match(e, /e\.g\. 0707614285/, bad);
    }
    assert.match(err(checkCpr('0703921VJ4')), /eCPR/);
    assert.match(err(checkCpr(1234567890 as unknown as string)), /must be a string/);
  });

  test('formatCpr writes DDMMYY-SSSS and rejects other shapes', () => {
    assert.equal(formatCpr('0707614285'), '070761-4285');
    assert.equal(formatCpr('070761-4285'), '070761-4285');
    assert.throws(() => formatCpr('07076142'), TypeError);
    assert.throws(() => formatCpr('0707-614285'), TypeError);
  });
});

describe('CPR: century table', () => {
  test('every digit-7 value and every YY gives the year of the CPR office table', () => {
    let checked = 0;
    for (let d7 = 0; d7 <= 9; d7++) {
      for (let yy = 0; yy <= 99; yy++) {
        const expected = tableYear(yy, d7);
        assert.equal(cprBirthYear(yy, d7), expected, `digit 7 = ${d7}, YY = ${yy}`);
        const cpr = `0101${String(yy).padStart(2, '0')}${d7}000`;
        assert.equal(ok(checkCpr(cpr)).birthDate, `${expected}-01-01`, cpr);
        checked++;
      }
    }
    assert.equal(checked, 1000);
  });

  test('the table boundaries are where the CPR office puts them', () => {
    assert.equal(ok(checkCpr('0101364000')).birthDate, '2036-01-01');
    assert.equal(ok(checkCpr('0101374000')).birthDate, '1937-01-01');
    assert.equal(ok(checkCpr('0101579000')).birthDate, '1957-01-01');
    assert.equal(ok(checkCpr('0101575000')).birthDate, '2057-01-01');
    assert.equal(ok(checkCpr('0101585000')).birthDate, '1858-01-01');
    assert.equal(ok(checkCpr('3112998000')).birthDate, '1899-12-31');
    assert.equal(ok(checkCpr('3112993000')).birthDate, '1999-12-31');
  });
});

describe('CPR: properties', () => {
  // Any ten digits whose date part is drawn mostly from plausible days and months, to exercise both outcomes.
  const arbCprDigits = fc
    .tuple(fc.integer({ min: 0, max: 35 }), fc.integer({ min: 0, max: 14 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 9999 }))
    .map(([d, m, y, s]) => `${String(d).padStart(2, '0')}${String(m).padStart(2, '0')}${String(y).padStart(2, '0')}${String(s).padStart(4, '0')}`);

  test('checkCpr agrees with the DK-core cpr regex on the format, and is stricter only for 29 February in non-leap years', () => {
    fc.assert(
      fc.property(fc.oneof(arbCprDigits, fc.stringMatching(/^[0-9]{10}$/)), (cpr) => {
        const r = checkCpr(cpr);
        const regex = PROFILE.cpr.test(cpr);
        const year = tableYear(Number(cpr.slice(4, 6)), Number(cpr[6]));
        const nonLeap29Feb = cpr.startsWith('2902') && !realDate(year, 2, 29);
        assert.equal(r.ok, regex && !nonLeap29Feb, `${cpr}: regex ${regex}, 29 Feb non-leap ${nonLeap29Feb}`);
        // The hyphenated form gives the same answer.
        const hyphenated = checkCpr(`${cpr.slice(0, 6)}-${cpr.slice(6)}`);
        if (r.ok) {
          assert.deepEqual(hyphenated, r);
        } else {
          assert.equal(hyphenated.ok, false);
        }
      }),
      { numRuns: 20_000 },
    );
  });

  test('an invalid date is always an error, whatever the sequence number', () => {
    const arbBad = fc
      .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 1, max: 3 }))
      .map(([m, yy, s, extra]) => {
        const year = tableYear(yy, Math.floor(s / 1000));
        const lastDay = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]! + (m === 2 && realDate(year, 2, 29) ? 1 : 0);
        const day = Math.min(lastDay + extra, 99);
        return `${String(day).padStart(2, '0')}${String(m).padStart(2, '0')}${String(yy).padStart(2, '0')}${String(s).padStart(4, '0')}`;
      });
    fc.assert(
      fc.property(arbBad, (cpr) => {
        assert.match(err(checkCpr(cpr)), /does not exist/);
      }),
      { numRuns: 5_000 },
    );
  });

  test('a modulus 11 failure is a warning, never an error', () => {
    const arbValidDate = fc
      .tuple(fc.integer({ min: MIN_CPR_DAY, max: MAX_CPR_DAY }), fc.integer({ min: 0, max: 999 }))
      .chain(([day, rest]) => {
        const iso = isoOfDay(day);
        const yy = Number(iso.slice(2, 4));
        const year = Number(iso.slice(0, 4));
        const digits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].filter((d) => tableYear(yy, d) === year);
        return fc.constantFrom(...digits).map((d7) => `${iso.slice(8, 10)}${iso.slice(5, 7)}${iso.slice(2, 4)}${d7}${String(rest).padStart(3, '0')}`);
      });
    let failures = 0;
    fc.assert(
      fc.property(arbValidDate, (cpr) => {
        const r = checkCpr(cpr);
        const mod11 = oracleCprMod11(cpr);
        assert.equal(ok(r).modulus11, mod11);
        assert.equal(warnings(r).length, mod11 ? 0 : 1);
        failures += mod11 ? 0 : 1;
      }),
      { numRuns: 10_000 },
    );
    assert.ok(failures > 5_000, 'the generator produced modulus 11 failures');
  });

  test('makeCpr round-trips for every date from 1858-01-01 to 2057-12-31, both sexes, first and last serial', () => {
    let dates = 0;
    for (let day = MIN_CPR_DAY; day <= MAX_CPR_DAY; day++) {
      const iso = isoOfDay(day);
      for (const sex of ['male', 'female'] as const) {
        for (const modulus11 of [true, false]) {
          const count = cprSerialCount(iso, sex, { modulus11 });
          assert.ok(count > 0, `${iso} ${sex} ${modulus11}`);
          for (const serial of [0, count - 1]) {
            const cpr = makeCpr(iso, sex, serial, { modulus11 });
            const v = ok(checkCpr(cpr));
            if (v.birthDate !== iso || v.sexDigit !== sex || v.modulus11 !== modulus11 || oracleCprMod11(cpr) !== modulus11) {
              assert.fail(`makeCpr(${iso}, ${sex}, ${serial}, ${modulus11}) = ${cpr} reads back as ${JSON.stringify(v)}`);
            }
          }
        }
      }
      dates++;
    }
    assert.equal(dates, 200 * 365 + 49, '200 years with 49 leap days (1900 is not a leap year)');
  });

  test('makeCpr round-trips for random dates, sexes and serials', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_CPR_DAY, max: MAX_CPR_DAY }), arbSex, fc.boolean(), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (day, sex, modulus11, frac) => {
        const iso = isoOfDay(day);
        const serial = Math.floor(frac * cprSerialCount(iso, sex, { modulus11 }));
        const cpr = makeCpr(iso, sex, serial, { modulus11 });
        assert.equal(cpr, makeCpr(iso, sex, serial, { modulus11 }), 'deterministic');
        assert.match(cpr, PROFILE.cpr);
        const r = checkCpr(cpr);
        assert.deepEqual(ok(r), { birthDate: iso, sexDigit: sex, modulus11 });
        assert.equal(warnings(r).length, modulus11 ? 0 : 1);
      }),
      { numRuns: 5_000 },
    );
  });

  test('makeCpr: different serials give different numbers, and every available sequence number is reachable', () => {
    for (const [iso, sex] of [['1961-07-07', 'male'], ['2000-02-29', 'female'], ['1858-01-01', 'male'], ['2036-12-31', 'female'], ['1950-06-15', 'female']] as const) {
      const seen = new Set<string>();
      for (const modulus11 of [true, false]) {
        const count = cprSerialCount(iso, sex, { modulus11 });
        for (let s = 0; s < count; s++) {
          seen.add(makeCpr(iso, sex, s, { modulus11 }));
        }
      }
      // All sequence numbers for that date and sex: allowed digit-7 values × 100 × 5 last digits of the right parity.
      const year = Number(iso.slice(0, 4));
      const digits7 = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].filter((d) => tableYear(year % 100, d) === year).length;
      assert.equal(seen.size, digits7 * 100 * 5, iso);
    }
  });

  test('makeCpr rejects what it cannot make', () => {
    assert.throws(() => makeCpr('1857-12-31', 'male', 0), RangeError);
    assert.throws(() => makeCpr('2058-01-01', 'male', 0), RangeError);
    assert.throws(() => makeCpr('1999-02-29', 'male', 0), RangeError);
    assert.throws(() => makeCpr('1999-2-28', 'male', 0), RangeError);
    assert.throws(() => makeCpr('1961-07-07', 'male', -1), RangeError);
    assert.throws(() => makeCpr('1961-07-07', 'male', 0.5), RangeError);
    const count = cprSerialCount('1961-07-07', 'male');
    assert.ok(count > 200 && count < 300, `about 6 × 500 / 11 mod-11 valid numbers, got ${count}`);
    assert.doesNotThrow(() => makeCpr('1961-07-07', 'male', count - 1));
    assert.throws(() => makeCpr('1961-07-07', 'male', count), /serials run from 0 to/);
  });
});

describe('eCPR', () => {
  test('DK-core and NSP examples', () => {
    assert.deepEqual(checkEcpr('0703921VJ4'), { ok: true, value: { kind: 'X', birthDate: '1992-03-07' }, warnings: [] });
    assert.deepEqual(checkEcpr('1206550VK9'), { ok: true, value: { kind: 'D', birthDate: '1955-06-12' }, warnings: [] });
    assert.deepEqual(ok(checkEcpr('0203291WQ3')), { kind: 'X', birthDate: '1929-03-02' });
    assert.deepEqual(ok(checkEcpr('1308781OS6')), { kind: 'X', birthDate: '1978-08-13' });
    assert.deepEqual(ok(checkEcpr('3101057JC9')), { kind: 'X', birthDate: '2005-01-31' });
    assert.deepEqual(ok(checkEcpr('0101005AB1')), { kind: 'D', birthDate: '1800-01-01' });
    assert.deepEqual(ok(checkEcpr('0101006AB1')), { kind: 'D', birthDate: '2000-01-01' });
  });

  test('bad eCPRs are errors that explain the format', () => {
    assert.match(err(checkEcpr('0703923VJ4')), /century digit \(position 7\) is 3/);
    assert.match(err(checkEcpr('0703921vj4')), /capitals/);
    assert.match(err(checkEcpr('0707614285')), /looks like a CPR number/);
    assert.match(err(checkEcpr('0703921ÆJ4')), /Æ, Ø and Å/);
    assert.match(err(checkEcpr('2902011AB1')), /29 February 1901 does not exist/);
    assert.equal(ok(checkEcpr('2902007AB1')).birthDate, '2000-02-29');
    assert.match(err(checkEcpr('3204921VJ4')), /does not exist/);
    for (const bad of ['', '0703921VJ', '0703921VJ44', '0703921V14']) {
      assert.match(err(checkEcpr(bad)), /e\.g\. X-eCPR 0703921VJ4/);
    }
  });

  test('checkEcpr agrees with the DK-core x-ecpr and d-ecpr regexes, stricter only for non-existent dates', () => {
    const arb = fc
      .tuple(fc.integer({ min: 0, max: 35 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 9 }), fc.stringMatching(/^[A-Za-z0-9]{2}$/), fc.integer({ min: 0, max: 9 }))
      .map(([d, m, y, c, aa, g]) => `${String(d).padStart(2, '0')}${String(m).padStart(2, '0')}${String(y).padStart(2, '0')}${c}${aa}${g}`);
    fc.assert(
      fc.property(arb, (v) => {
        const x = PROFILE.xEcpr.test(v);
        const d = PROFILE.dEcpr.test(v);
        const r = checkEcpr(v);
        if (!x && !d) {
          assert.equal(r.ok, false, v);
          return;
        }
        const centuries: Record<string, number> = { '1': 1900, '7': 2000, '0': 1900, '5': 1800, '6': 2000 };
        const century = centuries[v[6]!]!;
        const exists = realDate(century + Number(v.slice(4, 6)), Number(v.slice(2, 4)), Number(v.slice(0, 2)));
        assert.equal(r.ok, exists, v);
        if (r.ok) {
          assert.equal(r.value.kind, x ? 'X' : 'D');
        }
      }),
      { numRuns: 20_000 },
    );
  });

  test('makeEcpr round-trips and matches the profile regex of its kind', () => {
    const minX = dayOfIso('1900-01-01');
    const minD = dayOfIso('1800-01-01');
    const max = dayOfIso('2099-12-31');
    fc.assert(
      fc.property(fc.constantFrom<'X' | 'D'>('X', 'D'), fc.integer({ min: minD, max }), fc.integer({ min: 0, max: ECPR_SERIALS_PER_DATE - 1 }), (kind, day, serial) => {
        const iso = isoOfDay(kind === 'X' ? Math.max(day, minX) : day);
        const v = makeEcpr(kind, iso, serial);
        assert.deepEqual(ok(checkEcpr(v)), { kind, birthDate: iso });
        assert.match(v, kind === 'X' ? PROFILE.xEcpr : PROFILE.dEcpr);
        assert.doesNotMatch(v, kind === 'X' ? PROFILE.dEcpr : PROFILE.xEcpr);
        assert.equal(Number(v[9]) % 2, serial % 2, 'the last digit is serial mod 10');
      }),
      { numRuns: 5_000 },
    );
  });

  test('makeEcpr: all serials for a date are distinct; out-of-range arguments throw', () => {
    const seen = new Set<string>();
    for (let s = 0; s < ECPR_SERIALS_PER_DATE; s++) {
      seen.add(makeEcpr('X', '1992-03-07', s));
    }
    assert.equal(seen.size, ECPR_SERIALS_PER_DATE);
    assert.equal(makeEcpr('X', '1992-03-07', 0), '0703921AA0');
    assert.equal(makeEcpr('D', '1955-06-12', ECPR_SERIALS_PER_DATE - 1), '1206550ZZ9');
    assert.throws(() => makeEcpr('X', '1899-12-31', 0), RangeError);
    assert.throws(() => makeEcpr('D', '1799-12-31', 0), RangeError);
    assert.throws(() => makeEcpr('D', '2100-01-01', 0), RangeError);
    assert.throws(() => makeEcpr('X', '1992-03-07', ECPR_SERIALS_PER_DATE), RangeError);
  });
});

describe('GLN', () => {
  test('a real-format GLN and its check digit', () => {
    assert.deepEqual(checkGln('5798002472264'), { ok: true, value: '5798002472264', warnings: [] });
    assert.match(err(checkGln('5798002472265')), /check digit is 5 but the GS1 modulus 10 check digit of 579800247226 is 4/);
    assert.match(err(checkGln('579800247226')), /exactly 13 digits.*12 digits/);
    assert.match(err(checkGln('579800247226X')), /not a digit/);
  });

  test('every single-digit change of a GLN is detected', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999_999 }), (serial) => {
        const gln = makeGln(serial);
        assert.ok(checkGln(gln).ok);
        for (let i = 0; i < 13; i++) {
          for (let d = 0; d <= 9; d++) {
            if (String(d) !== gln[i]) {
              const changed = `${gln.slice(0, i)}${d}${gln.slice(i + 1)}`;
              assert.equal(checkGln(changed).ok, false, `${gln} → ${changed}`);
            }
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  test('checkGln agrees with the DK-core gln-modulus-10 expression on any 13 digits', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{13}$/), (v) => {
        assert.equal(checkGln(v).ok, oracleGln(v), v);
      }),
      { numRuns: 20_000 },
    );
  });

  test('makeGln is deterministic, injective and honours the prefix', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999_999 }), fc.integer({ min: 0, max: 999_999_999 }), (a, b) => {
        assert.equal(makeGln(a), makeGln(a));
        assert.equal(makeGln(a) === makeGln(b), a === b);
        assert.ok(makeGln(a).startsWith('579'));
      }),
    );
    assert.equal(makeGln(8_002_472, '57980'), '5798080024720');
    assert.ok(oracleGln(makeGln(123, '5790000')));
    assert.throws(() => makeGln(1_000_000_000), RangeError);
    assert.throws(() => makeGln(0, '57x'), RangeError);
    assert.throws(() => makeGln(0, '579000000000'), RangeError);
  });
});

describe('CVR', () => {
  test('hand examples from DK-core', () => {
    assert.deepEqual(checkCvr('64942212'), { ok: true, value: '64942212', warnings: [] });
    assert.ok(checkCvr('26919991').ok);
    assert.match(err(checkCvr('64942213')), /modulus 11/);
    assert.match(err(checkCvr('6494221')), /exactly 8 digits/);
    assert.match(err(checkCvr('DK64942212')), /e\.g\. 64942212/);
  });

  test('every single-digit change of a CVR number is detected', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: CVR_SERIALS - 1 }), (serial) => {
        const cvr = makeCvr(serial);
        assert.ok(checkCvr(cvr).ok);
        for (let i = 0; i < 8; i++) {
          for (let d = 0; d <= 9; d++) {
            if (String(d) !== cvr[i]) {
              const changed = `${cvr.slice(0, i)}${d}${cvr.slice(i + 1)}`;
              assert.equal(checkCvr(changed).ok, false, `${cvr} → ${changed}`);
            }
          }
        }
      }),
      { numRuns: 1_000 },
    );
  });

  test('checkCvr agrees with the DK-core CVR invariants on any 8 digits', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{8}$/), (v) => {
        assert.equal(checkCvr(v).ok, oracleCvr(v), v);
      }),
      { numRuns: 20_000 },
    );
  });

  test('makeCvr round-trips, is injective over its whole range edges and throws outside it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: CVR_SERIALS - 1 }), fc.integer({ min: 0, max: CVR_SERIALS - 1 }), (a, b) => {
        assert.ok(oracleCvr(makeCvr(a)));
        assert.equal(makeCvr(a) === makeCvr(b), a === b);
        assert.notEqual(makeCvr(a)[0], '0');
      }),
      { numRuns: 5_000 },
    );
    const seen = new Set<string>();
    for (let s = 0; s < 100_000; s++) {
      seen.add(makeCvr(s));
    }
    assert.equal(seen.size, 100_000);
    assert.throws(() => makeCvr(CVR_SERIALS), RangeError);
  });
});

describe('SOR', () => {
  test('hand examples: DK-core example codes pass, short or non-digit codes fail', () => {
    for (const v of ['12345678901', '61741000016007', '633271000016006', '1133181000016000', '487341000016005']) {
      assert.deepEqual(checkSor(v), { ok: true, value: v, warnings: [] });
    }
    assert.match(err(checkSor('1234567890')), /at least 11 digits.*10 digits/);
    assert.match(err(checkSor('6174100001600a')), /not a digit/);
    assert.match(err(checkSor('')), /e\.g\. 61741000016007/);
  });

  test('checkSor agrees with the DK-core min-digits-sor regex', () => {
    fc.assert(
      fc.property(fc.tuple(fc.constantFrom('', ' ', 'a', '-', '0', '١'), fc.stringMatching(/^[0-9]{8,14}$/), fc.constantFrom('', ' ', 'a', '\n', '0', '١')), ([before, digits, after]) => {
        const v = `${before}${digits}${after}`;
        assert.equal(checkSor(v).ok, PROFILE.sor.test(v), v);
      }),
      { numRuns: 10_000 },
    );
  });

  test('makeSor has the shape of real SOR codes, round-trips and is injective', () => {
    assert.equal(makeSor(6173), '61741000016007');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: SOR_SERIALS - 1 }), fc.integer({ min: 0, max: SOR_SERIALS - 1 }), (a, b) => {
        const v = makeSor(a);
        assert.equal(ok(checkSor(v)), v);
        assert.ok(verhoeffValid(v));
        assert.ok(v.endsWith(`100001600${v.at(-1)!}`));
        assert.equal(v === makeSor(b), a === b);
      }),
      { numRuns: 5_000 },
    );
    assert.throws(() => makeSor(SOR_SERIALS), RangeError);
  });
});

describe('ydernummer', () => {
  test('DK-core only requires a value: empty is an error, odd formats are warnings', () => {
    assert.deepEqual(checkYdernummer('77410'), { ok: true, value: '77410', warnings: [] });
    assert.deepEqual(checkYdernummer('077410'), { ok: true, value: '077410', warnings: [] });
    assert.match(err(checkYdernummer('')), /non-empty/);
    assert.match(err(checkYdernummer('   ')), /non-empty/);
    assert.equal(warnings(checkYdernummer('Y-77410')).length, 1);
    assert.equal(warnings(checkYdernummer('1234567')).length, 1);
  });

  test('makeYdernummer gives distinct 6-digit numbers without a leading zero', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: YDERNUMMER_SERIALS - 1 }), fc.integer({ min: 0, max: YDERNUMMER_SERIALS - 1 }), (a, b) => {
        const v = makeYdernummer(a);
        assert.match(v, /^[1-9][0-9]{5}$/);
        assert.deepEqual(checkYdernummer(v), { ok: true, value: v, warnings: [] });
        assert.equal(v === makeYdernummer(b), a === b);
      }),
    );
    assert.throws(() => makeYdernummer(YDERNUMMER_SERIALS), RangeError);
  });
});

describe('authorisation ID', () => {
  test('hand examples from DK-core and common mistakes', () => {
    for (const v of ['005ML', '005M6', 'CBDJ6', 'YYYYY']) {
      assert.deepEqual(checkAuthorizationId(v), { ok: true, value: v, warnings: [] });
    }
    assert.match(err(checkAuthorizationId('ABCDE')), /vowels A, E/);
    assert.match(err(checkAuthorizationId('005M')), /4 characters, not 5/);
    assert.match(err(checkAuthorizationId('005MLX')), /6 characters/);
    assert.match(err(checkAuthorizationId('00-ML')), /"-"/);
    assert.match(err(checkAuthorizationId('00ØML')), /vowel Ø/);
    assert.match(warnings(checkAuthorizationId('cbdj6'))[0]!, /CBDJ6/);
  });

  test('checkAuthorizationId agrees with the DK-core authorization-id-format regex', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9A-Za-zÆØÅæøå\- ]{0,7}$/), (v) => {
        assert.equal(checkAuthorizationId(v).ok, PROFILE.authorization.test(v), v);
      }),
      { numRuns: 20_000 },
    );
  });

  test('makeAuthorizationId round-trips over its whole range and is injective', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: AUTHORIZATION_ID_SERIALS - 1 }), fc.integer({ min: 0, max: AUTHORIZATION_ID_SERIALS - 1 }), (a, b) => {
        const v = makeAuthorizationId(a);
        assert.deepEqual(checkAuthorizationId(v), { ok: true, value: v, warnings: [] });
        assert.equal(v === makeAuthorizationId(b), a === b);
      }),
      { numRuns: 10_000 },
    );
    assert.equal(makeAuthorizationId(0), '00000');
    assert.equal(makeAuthorizationId(AUTHORIZATION_ID_SERIALS - 1), 'ZZZZZ');
    assert.throws(() => makeAuthorizationId(AUTHORIZATION_ID_SERIALS), RangeError);
  });
});

describe('KOMBIT organisation id', () => {
  test('follows the DK-core uuid invariant, including that it is unanchored', () => {
    assert.deepEqual(checkKombitOrgId('urn:uuid:a107fd1e-9f35-422c-9d1e-add097bbf4a6'), { ok: true, value: 'urn:uuid:a107fd1e-9f35-422c-9d1e-add097bbf4a6', warnings: [] });
    assert.match(err(checkKombitOrgId('urn:uuid:A107FD1E-9F35-422C-9D1E-ADD097BBF4A6')), /lower case/);
    assert.match(err(checkKombitOrgId('a107fd1e-9f35-422c-9d1e-add097bbf4a6')), /prefixed with urn:uuid:/);
    assert.equal(warnings(checkKombitOrgId('urn:uuid:a107fd1e-9f35-422c-9d1e-add097bbf4a6 ')).length, 1);
  });

  test('checkKombitOrgId passes exactly what the profile regex (partially) matches, and warns about surrounding text', () => {
    fc.assert(
      fc.property(fc.constantFrom('', ' ', 'x', 'urn:uuid:', 'urn:oid:'), fc.constantFrom('urn:uuid:', '', 'URN:UUID:'), fc.uuid(), fc.boolean(), fc.constantFrom('', ' ', 'X'), (before, scheme, uuid, upper, after) => {
        const v = `${before}${scheme}${upper ? uuid.toUpperCase() : uuid}${after}`;
        const r = checkKombitOrgId(v);
        assert.equal(r.ok, PROFILE.kombit.test(v), v);
        if (r.ok) {
          assert.equal(r.warnings.length, /^urn:uuid:[0-9a-f-]{36}$/.test(v) ? 0 : 1, v);
        }
      }),
      { numRuns: 5_000 },
    );
  });

  test('makeKombitOrgId is deterministic, distinct and valid', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (a, b) => {
        const v = makeKombitOrgId(a);
        assert.equal(v, makeKombitOrgId(a));
        assert.deepEqual(checkKombitOrgId(v), { ok: true, value: v, warnings: [] });
        assert.match(v, PROFILE.kombit);
        assert.equal(v === makeKombitOrgId(b), a === b);
      }),
    );
  });
});

describe('municipality and region codes', () => {
  test('codes from the DK-core code systems', () => {
    assert.deepEqual(ok(checkMunicipalityCode('0101')), { code: '0101', name: 'København', system: IdentifierSystem.municipalityCode });
    assert.equal(ok(checkMunicipalityCode('0956')).system, 'http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes-greenland');
    assert.equal(ok(checkMunicipalityCode('0411')).name, 'Christiansø');
    assert.match(err(checkMunicipalityCode('101')), /Did you mean 0101/);
    assert.match(err(checkMunicipalityCode('0102')), /not a municipality code/);
    assert.match(err(checkMunicipalityCode('0101', true)), /not a Greenland one/);
    assert.equal(ok(checkRegionCode('DK-84')).name, 'Region Hovedstaden');
    assert.equal(warnings(checkRegionCode('SE-AB')).length, 1);
    assert.match(err(checkRegionCode('84')), /Did you mean DK-84/);
  });
});

describe('checkIdentifier', () => {
  test('dispatches each DK-core system to its check', () => {
    const S = IdentifierSystem;
    assert.deepEqual(ok(checkIdentifier(S.cpr, '0707614285')!), { birthDate: '1961-07-07', sexDigit: 'male', modulus11: true });
    assert.deepEqual(ok(checkIdentifier(S.xEcpr, '0703921VJ4')!), { kind: 'X', birthDate: '1992-03-07' });
    for (const system of D_ECPR_SYSTEMS) {
      assert.deepEqual(ok(checkIdentifier(system, '1206550VK9')!), { kind: 'D', birthDate: '1955-06-12' });
    }
    assert.equal(ok(checkIdentifier(S.sor, '61741000016007')!), '61741000016007');
    assert.equal(ok(checkIdentifier(S.ydernummer, '77410')!), '77410');
    assert.equal(ok(checkIdentifier(S.cvr, '64942212')!), '64942212');
    assert.equal(ok(checkIdentifier(S.gln, '5798002472264')!), '5798002472264');
    assert.equal(ok(checkIdentifier(S.authorization, 'CBDJ6')!), 'CBDJ6');
    assert.equal(ok(checkIdentifier(S.kombitOrg, 'urn:uuid:a107fd1e-9f35-422c-9d1e-add097bbf4a6')!), 'urn:uuid:a107fd1e-9f35-422c-9d1e-add097bbf4a6');
    assert.ok(checkIdentifier(S.municipalityCode, '0751')!.ok);
    assert.ok(checkIdentifier(S.regionCode, 'DK-82')!.ok);
    // Each dispatch really checks: a bad value for each system is an error.
    for (const system of [S.cpr, S.xEcpr, S.dEcpr, S.sor, S.ydernummer, S.cvr, S.gln, S.authorization, S.kombitOrg, S.municipalityCode, S.regionCode]) {
      assert.equal(checkIdentifier(system, '')!.ok, false, system);
    }
  });

  test('unknown systems give undefined', () => {
    assert.equal(checkIdentifier('http://rn.dk', '0706830VJ9'), undefined);
    assert.equal(checkIdentifier('urn:oid:1.2.208.176.1.2.', '0707614285'), undefined);
  });

  test('DK-core value rules: no hyphen in a CPR identifier, eCPR kinds bound to their systems, http GLN system', () => {
    assert.match(err(checkIdentifier(IdentifierSystem.cpr, '070761-4285')), /10 digits only.*e\.g\. 0707614285/);
    assert.match(err(checkIdentifier(IdentifierSystem.xEcpr, '1206550VK9')), /is a D-eCPR/);
    assert.match(err(checkIdentifier(IdentifierSystem.dEcprSjaelland, '0703921VJ4')), /is an X-eCPR/);
    assert.match(warnings(checkIdentifier('https://www.gs1.org/gln', '5798002472264'))[0]!, /http, not https/);
    assert.equal(checkIdentifier('https://www.gs1.org/gln', '5798002472265')!.ok, false);
  });

  test('a CPR identifier passes exactly when the DK-core regex passes and the date exists', () => {
    fc.assert(
      fc.property(fc.oneof(fc.stringMatching(/^[0-9-]{9,11}$/), fc.tuple(fc.date({ min: new Date('1858-01-01'), max: new Date('2057-12-31'), noInvalidDate: true }), fc.stringMatching(/^[0-9]{4}$/), fc.constantFrom('', '-')).map(([d, s, h]) => `${d.toISOString().slice(8, 10)}${d.toISOString().slice(5, 7)}${d.toISOString().slice(2, 4)}${h}${s}`)), (v) => {
        const r = checkIdentifier(IdentifierSystem.cpr, v)!;
        if (!PROFILE.cpr.test(v)) {
          assert.equal(r.ok, false, v);
        } else {
          assert.equal(r.ok, checkCpr(v).ok, v);
        }
      }),
      { numRuns: 10_000 },
    );
  });
});
