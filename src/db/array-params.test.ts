import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { TestDatabase } from '../../test/support.ts';
import { createTestDatabase } from '../../test/support.ts';

// Array parameters (the columns of a multi-row write) reach the server unchanged, whatever the
// text holds: quotes and backslashes (resource JSON), control characters, the word NULL, braces,
// commas, any Unicode but U+0000 (which PostgreSQL text cannot hold). On PostgreSQL they travel
// as array literals (db/postgres.ts). The server answers them as JSON, so that what is compared is
// what it stored, not how the driver parses arrays it reads.

let tdb: TestDatabase;

before(async () => {
  tdb = await createTestDatabase();
});

after(async () => {
  await tdb.close();
});

const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', 'NULL', 'null', ' x ', '{a,b}', '"', '\\', '\\"', '\n', '\u0001', 'æøå ÆØÅ', '𝄞'),
  fc.json({ maxDepth: 2 }),
).map((s) => s.replaceAll('\u0000', ''));

describe('array parameters', () => {
  it('text[] arrives as sent, nulls included', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(text, { nil: null }), { maxLength: 12 }), async (values) => {
        const rows = await tdb.db.query<{ a: string }>('SELECT array_to_json($1::text[])::text AS a', [values]);
        assert.deepEqual(JSON.parse(rows[0]!.a), values);
      }),
      { numRuns: 300 },
    );
  });

  it('int[], bool[] and float8[] arrive as sent', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(fc.integer(), { nil: null }), { maxLength: 8 }),
        fc.array(fc.boolean(), { maxLength: 8 }),
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 8 }),
        async (ints, bools, doubles) => {
          const rows = await tdb.db.query<{ j: string }>('SELECT json_build_array(array_to_json($1::int[]), array_to_json($2::bool[]), array_to_json($3::float8[]))::text AS j', [ints, bools, doubles]);
          const [i, b, d] = JSON.parse(rows[0]!.j) as [(number | null)[], boolean[], number[]];
          assert.deepEqual(i, ints);
          assert.deepEqual(b, bools);
          assert.deepEqual(d, doubles.map((x) => (Object.is(x, -0) ? 0 : x)));
        },
      ),
      { numRuns: 100 },
    );
  });
});
