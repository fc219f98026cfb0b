import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';

// The PostgreSQL driver keeps its connections in queues (open, busy, full …) and moves each one
// between them on every query. Upstream, a queue that never runs empty kept every slot it ever
// shifted, so its array and each remove() grew with the number of queries the process had run:
// under steady load the pool got slower by the minute. patches/postgres+3.4.9.patch (applied by
// `npm install` through patch-package) compacts the array and searches only live entries.

const packageRoot = path.dirname(path.dirname(path.dirname(createRequire(import.meta.url).resolve('postgres'))));
const queueFile = path.join(packageRoot, 'src', 'queue.js');

interface DriverQueue<T> {
  readonly length: number;
  push(x: T): T;
  shift(): T | undefined;
  remove(x: T): T | null;
}

async function loadQueue(): Promise<<T>(initial?: T[]) => DriverQueue<T>> {
  const mod = (await import(pathToFileURL(queueFile).href)) as { default: <T>(initial?: T[]) => DriverQueue<T> };
  return mod.default;
}

describe('PostgreSQL driver connection queue', () => {
  it('is the patched queue (npm install applied patches/)', () => {
    const text = readFileSync(queueFile, 'utf8');
    assert.match(text, /xs\.indexOf\(x, index\)/, `${queueFile} is not patched: run npm install (postinstall applies patches/)`);
    assert.match(text, /xs = xs\.slice\(index\)/, `${queueFile} does not compact: run npm install`);
  });

  it('behaves as a FIFO queue with removal, for any sequence of operations', async () => {
    const Queue = await loadQueue();
    const op = fc.oneof(
      fc.constant({ kind: 'push' as const }),
      fc.constant({ kind: 'shift' as const }),
      fc.nat({ max: 300 }).map((n) => ({ kind: 'remove' as const, n })),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 600 }), (ops) => {
        const q = Queue<{ n: number }>();
        const model: { n: number }[] = [];
        const made: { n: number }[] = [];
        for (const o of ops) {
          if (o.kind === 'push') {
            const x = { n: made.length };
            made.push(x);
            model.push(x);
            assert.equal(q.push(x), x);
          } else if (o.kind === 'shift') {
            if (model.length === 0) {
              continue; // the driver checks length before shifting
            }
            assert.equal(q.shift(), model.shift());
          } else {
            const x = made[o.n];
            if (x === undefined) {
              continue;
            }
            const at = model.indexOf(x);
            const expected = at === -1 ? null : (model.splice(at, 1), x);
            assert.equal(q.remove(x), expected);
          }
          assert.equal(q.length, model.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps order when a connection cycles through a queue that never runs empty', async () => {
    const Queue = await loadQueue();
    const q = Queue<string>();
    q.push('a');
    q.push('b');
    // A connection taken from the front comes back at the end, many times over (the busy queue
    // under load); another one is removed from the middle now and then.
    for (let i = 0; i < 10_000; i++) {
      const x = q.shift();
      assert.ok(x !== undefined);
      q.push(x);
      if (i % 100 === 0) {
        q.push('c');
        assert.equal(q.remove('c'), 'c');
      }
    }
    assert.equal(q.length, 2);
    assert.deepEqual([q.shift(), q.shift()], ['a', 'b']);
    assert.equal(q.length, 0);
  });
});
