import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Poller } from './poller.ts';

/** A pass that reports each call and claims nothing, so the loop would wait `pollMs` after it. */
function idlePasses(): { pass: () => Promise<number>; calls: () => number; nth: (n: number) => Promise<void> } {
  let count = 0;
  const waiters = new Map<number, () => void>();
  return {
    pass: () => {
      count++;
      waiters.get(count)?.();
      return Promise.resolve(0);
    },
    calls: () => count,
    nth: (n) => (count >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.set(n, resolve))),
  };
}

/** Rejects when `p` has not settled within `ms` (the poll interval of these tests is an hour). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

const HOUR = 3_600_000;

describe('Poller', () => {
  it('an idle loop waits its poll interval, and wake() runs the next pass at once', async () => {
    const p = idlePasses();
    const poller = new Poller(p.pass, HOUR);
    poller.wake(); // before start: nothing happens
    assert.equal(p.calls(), 0);
    poller.start();
    await p.nth(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(p.calls(), 1, 'idle: no second pass before the interval');
    poller.wake();
    await within(p.nth(2), 5_000, 'the woken pass');
    await poller.close();
    poller.wake();
    assert.equal(p.calls(), 2, 'closed: wake does nothing');
  });

  it('a wake during a pass makes the next pass follow at once, even when the pass claimed nothing', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const p = idlePasses();
    const poller = new Poller(async () => {
      const n = await p.pass();
      if (n === 0 && p.calls() === 1) {
        await gate;
      }
      return n;
    }, HOUR);
    poller.start();
    await p.nth(1);
    poller.wake();
    release();
    await within(p.nth(2), 5_000, 'the pass after the wake');
    await poller.close();
  });
});
