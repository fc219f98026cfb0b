import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { sharedValidator } from '../../../test/support.ts';
import { toAuditEvent } from './render.ts';
import type { AuditRow } from './store.ts';

function row(overrides: Partial<AuditRow> = {}): AuditRow {
  return {
    id: '6f1c2f8e-2c39-4a53-9b7e-3d8f6a0c1b2d',
    recorded: new Date('2026-03-01T10:15:00.000Z'),
    action: 'R',
    interaction: 'read',
    outcome: 0,
    outcomeText: null,
    agentKind: 'professional',
    agentRef: 'Practitioner/doc1',
    agentName: 'Læge Lone Hansen',
    agentIdentifier: 'ABC12',
    organizationRef: 'Organization/sor-1',
    organizationName: 'Kardiologisk afdeling',
    clientId: 'ehr-client',
    tokenJti: 'b3c2a1-jti',
    purpose: 'TREAT',
    breakGlass: false,
    requestId: 'req-42',
    sourceAddress: '10.0.0.7',
    patientIds: ['p1'],
    resourceRefs: ['Patient/p1'],
    query: null,
    ...overrides,
  };
}

const examples: Record<string, AuditRow> = {
  'patient read': row(),
  'search with query': row({
    action: 'E',
    interaction: 'search-type',
    patientIds: ['p1', 'p2'],
    resourceRefs: ['Observation/o1', 'Observation/o2'],
    query: 'Observation?patient=Patient/p1,Patient/p2&code=http://loinc.org|1234-5',
  }),
  'break-glass': row({ action: 'E', interaction: 'break-glass', breakGlass: true, purpose: 'BTG', resourceRefs: [], outcomeText: 'Patient bevidstløs' }),
  'read under break-glass': row({ breakGlass: true, purpose: 'BTG', resourceRefs: ['Condition/c1'] }),
  'failed anonymous read': row({
    outcome: 8,
    outcomeText: 'Login required',
    agentKind: 'anonymous',
    agentRef: null,
    agentName: null,
    agentIdentifier: null,
    organizationRef: null,
    organizationName: null,
    clientId: null,
    tokenJti: null,
    purpose: null,
  }),
  'system create': row({ action: 'C', interaction: 'create', agentKind: 'system', agentRef: 'Device/lab', agentName: 'Lab system', organizationRef: null, organizationName: null, clientId: 'lab' }),
  'citizen login': row({ action: 'E', interaction: 'login', agentKind: 'citizen', agentRef: 'Patient/p1', patientIds: [], resourceRefs: [] }),
};

describe('AuditEvent rendering', () => {
  test('rendered events are valid R4', async () => {
    const validator = await sharedValidator();
    for (const [name, r] of Object.entries(examples)) {
      for (const ev of [toAuditEvent(r), toAuditEvent(r, { onlyPatient: 'p1' })]) {
        const errors = validator.validate(ev).filter((i) => i.severity === 'error' || i.severity === 'fatal');
        assert.deepEqual(errors, [], `${name}: ${JSON.stringify(errors)}`);
      }
    }
  });

  test('BALP shape of a patient read', () => {
    const ev = toAuditEvent(examples['patient read']!);
    assert.deepEqual(ev.type, { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' });
    assert.deepEqual(ev.subtype, [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }]);
    assert.equal(ev.action, 'R');
    assert.equal(ev.outcome, '0');
    const user = ev.agent[0]!;
    assert.equal(user.requestor, true);
    assert.equal(user.who?.reference, 'Practitioner/doc1');
    assert.equal(user.who?.identifier?.value, 'ABC12');
    assert.equal(user.who?.display, 'Læge Lone Hansen, Kardiologisk afdeling');
    assert.deepEqual(user.policy, ['b3c2a1-jti']);
    assert.ok(ev.agent.some((a) => a.who?.reference === 'Organization/sor-1'));
    const client = ev.agent.find((a) => a.type?.coding?.[0]?.code === '110153');
    assert.equal(client?.who?.identifier?.value, 'ehr-client');
    assert.equal(client.network?.address, '10.0.0.7');
    assert.equal(ev.purposeOfEvent?.[0]?.coding?.[0]?.code, 'TREAT');
    assert.equal(ev.source.type?.[0]?.code, '4');
    const patient = ev.entity?.find((e) => e.role?.code === '1');
    assert.equal(patient?.what?.reference, 'Patient/p1');
    assert.equal(ev.entity?.find((e) => e.type?.code === 'XrequestId')?.what?.identifier?.value, 'req-42');
  });

  test('query entity carries the base64 query; break-glass is a Security Alert with BTG', () => {
    const search = toAuditEvent(examples['search with query']!);
    const q = search.entity?.find((e) => e.role?.code === '24');
    assert.equal(Buffer.from(q?.query ?? '', 'base64').toString('utf8'), examples['search with query']!.query);
    assert.equal(q?.type?.code, '2');
    const btg = toAuditEvent(examples['break-glass']!);
    assert.equal(btg.type.code, '110113');
    assert.ok(btg.subtype?.some((c) => c.code === '110127' && c.system === 'http://dicom.nema.org/resources/ontology/DCM'));
    assert.equal(btg.purposeOfEvent?.[0]?.coding?.[0]?.code, 'BTG');
    const underBtg = toAuditEvent(examples['read under break-glass']!);
    assert.equal(underBtg.type.code, 'rest');
    assert.deepEqual(
      underBtg.subtype?.map((c) => c.code),
      ['read', '110127'],
    );
  });

  test('onlyPatient never shows another patient of the event (property)', () => {
    const id = fc.uuid();
    const text = (ids: string[]): fc.Arbitrary<string> =>
      fc.array(fc.oneof(fc.constantFrom(...ids), fc.constantFrom('Patient/', 'Observation/', '?patient=', ',', '&code=x', ' '), fc.string({ maxLength: 5 })), { maxLength: 6 }).map((parts) => parts.join(''));
    const arb = fc
      .uniqueArray(id, { minLength: 1, maxLength: 5 })
      .chain((patients) =>
        fc.record({
          patients: fc.constant(patients),
          own: fc.constantFrom(...patients),
          refs: fc.array(fc.oneof(fc.constantFrom(...patients).map((p) => `Patient/${p}`), text(patients).map((t) => `Observation/${t}`)), { maxLength: 6 }),
          query: fc.option(text(patients), { nil: null }),
          outcomeText: fc.option(text(patients), { nil: null }),
          agentRef: fc.option(fc.constantFrom(...patients).map((p) => `Patient/${p}`), { nil: null }),
          breakGlass: fc.boolean(),
          interaction: fc.constantFrom('read', 'search-type', 'break-glass', 'operation'),
        }),
      );
    fc.assert(
      fc.property(arb, (c) => {
        const ev = toAuditEvent(
          row({
            patientIds: c.patients,
            resourceRefs: c.refs,
            query: c.query,
            outcomeText: c.outcomeText,
            agentRef: c.agentRef,
            agentKind: c.agentRef === null ? 'professional' : 'citizen',
            breakGlass: c.breakGlass,
            interaction: c.interaction,
          }),
          { onlyPatient: c.own },
        );
        const json = JSON.stringify(ev);
        for (const p of c.patients) {
          if (p !== c.own) {
            assert.ok(!json.includes(p), `leaks ${p}: ${json}`);
          }
        }
        const patientEntities = (ev.entity ?? []).filter((e) => e.role?.code === '1');
        assert.deepEqual(
          patientEntities.map((e) => e.what?.reference),
          [`Patient/${c.own}`],
        );
      }),
      { numRuns: 500 },
    );
  });

  test('without onlyPatient every patient and reference is shown', () => {
    const ev = toAuditEvent(examples['search with query']!);
    const refs = (ev.entity ?? []).map((e) => e.what?.reference).filter((r) => r !== undefined);
    assert.deepEqual(refs, ['Patient/p1', 'Patient/p2', 'Observation/o1', 'Observation/o2']);
  });
});
