import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestDatabase } from '../../../test/support.ts';
import { createTestDatabase } from '../../../test/support.ts';
import { getStatus, OperationOutcomeError } from '../fhir/outcome.ts';
import type { AuditAgent, AuditInput } from './service.ts';
import { AuditLog, retentionCutoff } from './service.ts';

let tdb: TestDatabase;

before(async () => {
  tdb = await createTestDatabase();
});

after(async () => {
  await tdb.close();
});

let seq = 0;
/** A fresh id, so tests in this file never see each other's rows. */
function uniq(prefix: string): string {
  seq++;
  return `${prefix}-${process.pid}-${seq}`;
}

const doctor: AuditAgent = {
  kind: 'professional',
  ref: 'Practitioner/doc1',
  name: 'Læge Lone Hansen',
  identifier: 'ABC12',
  organizationRef: 'Organization/sor-1',
  organizationName: 'Kardiologisk afdeling',
  clientId: 'ehr-client',
  tokenJti: 'jti-1',
};

function read(patientId: string, overrides: Partial<AuditInput> = {}): AuditInput {
  return { action: 'R', interaction: 'read', agent: doctor, patientIds: [patientId], resourceRefs: [`Patient/${patientId}`], purpose: 'TREAT', ...overrides };
}

async function countEvents(where: string, params: unknown[]): Promise<number> {
  const rows = await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_event WHERE ${where}`, params);
  return Number(rows[0]!.n);
}

async function countPatientRows(patientId: string): Promise<number> {
  const rows = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_patient WHERE patient_id = $1', [patientId]);
  return Number(rows[0]!.n);
}

function expectBadRequest(fn: () => unknown, name: string): void {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof OperationOutcomeError, 'an OperationOutcomeError');
    assert.equal(getStatus(err.outcome), 400);
    assert.ok(err.message.includes(name), `the message names ${name}: ${err.message}`);
    return;
  }
  assert.fail(`expected a 400 for ${name}`);
}

describe('group commit', () => {
  test('1,000 concurrent record() calls: exactly 1,000 rows, each visible when its promise resolves', async () => {
    const log = new AuditLog(tdb.db);
    const patient = uniq('gc');
    const seen: Promise<boolean>[] = [];
    const ids = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const id = await log.record(read(patient, { requestId: `req-${i}` }));
        // Checked from outside any transaction: only a committed row is visible here.
        seen.push(tdb.db.query('SELECT 1 FROM audit_event WHERE id = $1', [id]).then((r) => r.length === 1));
        return id;
      }),
    );
    assert.equal(new Set(ids).size, 1000);
    assert.deepEqual(new Set(await Promise.all(seen)), new Set([true]));
    assert.equal(await countEvents('$1 = ANY (patient_ids)', [patient]), 1000);
    assert.equal(await countPatientRows(patient), 1000);
    const stats = log.stats();
    assert.equal(stats.events, 1000);
    assert.ok(stats.batches < 1000 / 10, `batched (${stats.batches} batches)`);
    assert.ok(stats.largestBatch <= 200);
    await log.close();
  });

  test('a failing commit rejects every waiting caller and writes nothing', async () => {
    const log = new AuditLog(tdb.db);
    const poison = uniq('poison');
    await tdb.db.query(`CREATE OR REPLACE FUNCTION audit_test_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.patient_id LIKE 'poison-%' THEN RAISE EXCEPTION 'poisoned audit row'; END IF; RETURN NEW; END $$`);
    await tdb.db.query('CREATE TRIGGER audit_test_poison BEFORE INSERT ON audit_patient FOR EACH ROW EXECUTE FUNCTION audit_test_poison()');
    try {
      const patient = uniq('victim');
      const results = await Promise.allSettled([
        ...Array.from({ length: 20 }, () => log.record(read(patient))),
        log.record(read(poison)),
        ...Array.from({ length: 20 }, () => log.record(read(patient))),
      ]);
      assert.equal(log.stats().batches, 1, 'all in one batch');
      assert.deepEqual(new Set(results.map((r) => r.status)), new Set(['rejected']));
      assert.equal(await countEvents('$1 = ANY (patient_ids) OR $2 = ANY (patient_ids)', [patient, poison]), 0);
      assert.equal(await countPatientRows(patient), 0);
      // The log keeps working after a failed batch.
      await log.record(read(patient));
      assert.equal(await countPatientRows(patient), 1);
    } finally {
      await tdb.db.query('DROP TRIGGER audit_test_poison ON audit_patient');
      await log.close();
    }
  });

  test('invalid input rejects only its own caller', async () => {
    const log = new AuditLog(tdb.db);
    const patient = uniq('inv');
    const results = await Promise.allSettled([
      log.record(read(patient)),
      log.record(read(patient, { interaction: 'nonsense' as 'read' })),
      log.record(read(patient, { outcome: 3 as 0 })),
      log.record(read(patient)),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'rejected', 'fulfilled'],
    );
    assert.equal(await countPatientRows(patient), 2);
    await log.close();
  });

  test('with a transaction: a rolled-back write leaves no audit row, a committed one has it', async () => {
    const log = new AuditLog(tdb.db);
    const patient = uniq('tx');
    await assert.rejects(
      tdb.db.transaction(async (tx) => {
        await log.record(read(patient, { action: 'U', interaction: 'update', breakGlass: true }), tx);
        throw new Error('the write failed');
      }),
      /the write failed/,
    );
    assert.equal(await countEvents('$1 = ANY (patient_ids)', [patient]), 0);
    assert.equal(await countPatientRows(patient), 0);
    const id = await tdb.db.transaction(async (tx) => log.record(read(patient, { action: 'U', interaction: 'update' }), tx));
    assert.equal(await countEvents('id = $1', [id]), 1);
    assert.equal(await countPatientRows(patient), 1);
    await log.close();
  });

  test('close() writes pending events; record() afterwards rejects', async () => {
    const log = new AuditLog(tdb.db, { windowMs: 50 });
    const patient = uniq('close');
    const pending = Promise.all([log.record(read(patient)), log.record(read(patient))]);
    await log.close();
    await pending;
    assert.equal(await countPatientRows(patient), 2);
    await assert.rejects(log.record(read(patient)), /closed/);
  });

  test('one insert per event when group commit is off', async () => {
    const log = new AuditLog(tdb.db, { groupCommit: false });
    const patient = uniq('single');
    await Promise.all(Array.from({ length: 25 }, () => log.record(read(patient))));
    assert.equal(await countPatientRows(patient), 25);
    assert.equal(log.stats().batches, 0);
    await log.close();
  });
});

describe('Min Log', () => {
  test('shows look-ups by professionals and systems, not the citizen’s own nor a proxy’s', async () => {
    const log = new AuditLog(tdb.db);
    const child = uniq('child');
    const parent = uniq('parent');
    const other = uniq('other');
    const now = Date.now();
    const at = (minutesAgo: number): Date => new Date(now - minutesAgo * 60_000);
    const own = await log.record(read(child, { agent: { kind: 'citizen', ref: `Patient/${child}`, name: 'Barn' }, recorded: at(1) }));
    const proxy = await log.record(read(child, { agent: { kind: 'citizen', ref: `Patient/${parent}`, name: 'Forælder' }, recorded: at(2) }));
    const byDoctor = await log.record(read(child, { recorded: at(3), patientIds: [child, other] }));
    const bySystem = await log.record(
      read(child, { agent: { kind: 'system', ref: 'Device/lab', clientId: 'lab' }, action: 'E', interaction: 'search-type', query: 'Observation?patient=x', recorded: at(4) }),
    );
    const hidden = await log.record(read(child, { hiddenFromCitizen: true, recorded: at(5) }));
    const failed = await log.record(read(child, { outcome: 8, outcomeText: 'Forbidden', recorded: at(6) }));
    const expired = await log.record(read(child, { recorded: new Date(retentionCutoff(new Date()).getTime() - 60_000) }));

    const page = await log.searchForPatient(child, { count: 10, offset: 0 });
    assert.deepEqual(
      page.rows.map((r) => r.id),
      [byDoctor, bySystem, failed],
      'newest first; own, proxy, hidden and expired entries left out',
    );
    assert.equal(page.total, 3);
    for (const id of [own, proxy, hidden, expired]) {
      assert.ok(!page.rows.some((r) => r.id === id));
    }
    // Paging and the time window.
    const second = await log.searchForPatient(child, { count: 2, offset: 2 });
    assert.deepEqual(
      second.rows.map((r) => r.id),
      [failed],
    );
    assert.equal(second.total, 3);
    const window = await log.searchForPatient(child, { since: at(4.5), until: at(2.5), count: 10, offset: 0 });
    assert.deepEqual(
      window.rows.map((r) => r.id),
      [byDoctor, bySystem],
    );
    // The other patient of the doctor's look-up sees it too; the parent sees nothing of the child's.
    assert.deepEqual(
      (await log.searchForPatient(other, { count: 10, offset: 0 })).rows.map((r) => r.id),
      [byDoctor],
    );
    assert.equal((await log.searchForPatient(parent, { count: 10, offset: 0 })).total, 0);
    await log.close();
  });

  test('every look-up by a professional is shown (completeness)', async () => {
    const log = new AuditLog(tdb.db);
    const patient = uniq('complete');
    const ids = new Set(await Promise.all(Array.from({ length: 150 }, () => log.record(read(patient)))));
    const seen = new Set<string>();
    for (let offset = 0; ; offset += 40) {
      const page = await log.searchForPatient(patient, { count: 40, offset });
      assert.equal(page.total, 150);
      if (page.rows.length === 0) {
        break;
      }
      for (const r of page.rows) {
        seen.add(r.id);
      }
    }
    assert.deepEqual(seen, ids);
    await log.close();
  });

  test('searchByParams: citizen view, paging links, date and agent filters', async () => {
    const log = new AuditLog(tdb.db);
    const patient = uniq('fhir');
    const other = uniq('fhir-other');
    for (let i = 0; i < 5; i++) {
      await log.record(read(patient, { recorded: new Date(Date.UTC(2026, 0, 10 + i, 12)), patientIds: [patient, other], resourceRefs: [`Patient/${other}`] }));
    }
    await log.record(read(patient, { agent: { ...doctor, ref: 'Practitioner/doc2' }, recorded: new Date(Date.UTC(2026, 0, 20, 12)) }));
    const base = 'https://dsd.example/fhir';
    const all = await log.searchByParams([['patient', `Patient/${patient}`], ['_count', '2'], ['_sort', '-date']], { baseUrl: base, viewer: 'citizen' });
    assert.equal(all.total, 6);
    assert.equal(all.entry?.length, 2);
    assert.ok(JSON.stringify(all).includes(patient));
    assert.ok(!JSON.stringify(all.entry).includes(other), 'no other patient in the citizen view');
    const next = all.link?.find((l) => l.relation === 'next')?.url;
    assert.ok(next?.startsWith(`${base}/AuditEvent?`) === true && next.includes('_offset=2'), next);
    const nextParams = [...new URL(next).searchParams];
    const page2 = await log.searchByParams(nextParams, { baseUrl: base, viewer: 'citizen' });
    assert.equal(page2.entry?.length, 2);
    assert.ok(page2.link?.some((l) => l.relation === 'previous'));

    const jan = await log.searchByParams([['patient', patient], ['date', 'ge2026-01-11'], ['date', 'lt2026-01-13']], { baseUrl: base, viewer: 'citizen' });
    assert.equal(jan.total, 2);
    const le = await log.searchByParams([['patient', patient], ['date', 'le2026-01-11']], { baseUrl: base, viewer: 'citizen' });
    assert.equal(le.total, 2);
    const gt = await log.searchByParams([['patient', patient], ['date', 'gt2026-01-14T12:00:00Z']], { baseUrl: base, viewer: 'citizen' });
    assert.equal(gt.total, 1);
    const byAgent = await log.searchByParams([['patient', patient], ['agent', 'Practitioner/doc2']], { baseUrl: base, viewer: 'citizen' });
    assert.equal(byAgent.total, 1);
    const operator = await log.searchByParams([['agent', 'Practitioner/doc2'], ['date', 'eq2026-01-20']], { baseUrl: base, viewer: 'operator' });
    assert.ok((operator.total ?? 0) >= 1);
    await log.close();
  });

  test('bad search parameters are a 400 naming the parameter', async () => {
    const log = new AuditLog(tdb.db);
    const opts = { baseUrl: 'http://x/fhir', viewer: 'citizen' } as const;
    const cases: [string, [string, string][]][] = [
      ['foo', [['patient', 'Patient/p'], ['foo', 'bar']]],
      ['_sort', [['patient', 'Patient/p'], ['_sort', 'date']]],
      ['patient', [['date', 'ge2020']]],
      ['date', [['patient', 'p'], ['date', 'yesterday']]],
      ['date', [['patient', 'p'], ['date', 'ge2020-13']]],
      ['_count', [['patient', 'p'], ['_count', '-1']]],
      ['_offset', [['patient', 'p'], ['_offset', 'x']]],
      ['patient', [['patient', 'p'], ['patient', 'q']]],
      ['_include', [['patient', 'p'], ['_include', 'AuditEvent:agent']]],
    ];
    for (const [name, params] of cases) {
      await assert.rejects(log.searchByParams(params, opts), (err: unknown) => {
        expectBadRequest(() => {
          throw err;
        }, name);
        return true;
      });
    }
    await log.close();
  });
});

describe('retention', () => {
  test('purges exactly what is older than two years, in batches, with patient rows and alerts', async () => {
    const log = new AuditLog(tdb.db, { purgeBatchSize: 3 });
    // Far in the future, so rows of the other tests in this file are never old enough.
    const now = new Date(Date.UTC(2090, 5, 15, 10, 0, 0));
    const cutoff = retentionCutoff(now);
    assert.equal(cutoff.toISOString(), '2088-06-15T10:00:00.000Z');
    const patient = uniq('ret');
    const old: string[] = [];
    for (let i = 0; i < 10; i++) {
      old.push(await log.record(read(patient, { recorded: new Date(cutoff.getTime() - 1 - i * 86_400_000), breakGlass: i === 0, interaction: i === 0 ? 'break-glass' : 'read' })));
    }
    const kept = [
      await log.record(read(patient, { recorded: cutoff })),
      await log.record(read(patient, { recorded: new Date(cutoff.getTime() + 1) })),
      await log.record(read(patient, { recorded: now })),
    ];
    assert.equal((await log.listAlerts({ unacknowledged: true })).filter((a) => a.patientId === patient).length, 1);
    const expected = await countEvents('recorded < $1', [cutoff.toISOString()]);
    assert.ok(expected >= 10);
    const deleted = await log.purgeExpired(now);
    assert.equal(deleted, expected);
    assert.equal(await countEvents('recorded < $1', [cutoff.toISOString()]), 0);
    assert.equal(await countEvents('id = ANY ($1::uuid[])', [old]), 0);
    assert.equal(await countEvents('id = ANY ($1::uuid[])', [kept]), 3);
    assert.equal(await countPatientRows(patient), 3);
    assert.equal((await log.listAlerts({})).filter((a) => a.patientId === patient).length, 0);
    assert.equal(await log.purgeExpired(now), 0);
    await log.close();
  });

  test('the retention job runs and is stopped by close()', async () => {
    const log = new AuditLog(tdb.db);
    const patient = uniq('job');
    await log.record(read(patient, { recorded: new Date(Date.now() - 3 * 366 * 86_400_000) }));
    let failed: unknown;
    log.startRetentionJob((err) => {
      failed = err;
    });
    await log.close();
    assert.equal(failed, undefined);
    assert.equal(await countPatientRows(patient), 0);
  });
});

describe('alerts', () => {
  test('break-glass raises one alert per patient; acknowledging closes it once', async () => {
    const log = new AuditLog(tdb.db);
    const a = uniq('btg-a');
    const b = uniq('btg-b');
    const id = await log.record({ action: 'E', interaction: 'break-glass', agent: doctor, patientIds: [a, b], outcomeText: 'Patienten bevidstløs' });
    const open = (await log.listAlerts({ unacknowledged: true })).filter((x) => x.eventId === id);
    assert.equal(open.length, 2);
    assert.deepEqual(new Set(open.map((x) => x.patientId)), new Set([a, b]));
    const first = await log.acknowledgeAlert(open[0]!.id, 'Practitioner/security-officer');
    assert.ok(first?.acknowledgedAt instanceof Date);
    const again = await log.acknowledgeAlert(open[0]!.id, 'Practitioner/someone-else');
    assert.equal(again?.acknowledgedBy, 'Practitioner/security-officer');
    assert.equal(again.acknowledgedAt?.getTime(), first.acknowledgedAt.getTime());
    const stillOpen = (await log.listAlerts({ unacknowledged: true })).filter((x) => x.eventId === id);
    assert.equal(stillOpen.length, 1);
    assert.equal(await log.acknowledgeAlert('00000000-0000-0000-0000-000000000000'), undefined);
    assert.equal(await log.acknowledgeAlert('not-a-uuid'), undefined);
    // A read under break-glass is flagged in the log but does not raise a second alert.
    await log.record(read(a, { breakGlass: true }));
    assert.equal((await log.listAlerts({})).filter((x) => x.patientId === a).length, 1);
    const [row] = (await log.searchForPatient(a, { count: 1, offset: 0 })).rows;
    assert.equal(row?.breakGlass, true);
    assert.equal(row.purpose, 'BTG');
    await log.close();
  });
});
