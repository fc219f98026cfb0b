import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { successor } from './search.store.ts';

// A string search by prefix runs as the key range [prefix, successor(prefix)) on a column in the
// "C" collation, which PostgreSQL compares byte by byte in UTF-8: that is code point order.

function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) {
      return x[i]! - y[i]!;
    }
  }
  return x.length - y.length;
}

const codePoint = fc
  .integer({ min: 0, max: 0x10ffff })
  .filter((c) => c < 0xd800 || c > 0xdfff)
  .map((c) => String.fromCodePoint(c));
const text = fc.string({ unit: fc.oneof(fc.constantFrom('a', 'b', 'æ', 'ø', 'å', '\uffff', '\ud7ff', '\ue000', '\u{10ffff}'), codePoint), maxLength: 6 });

describe('prefix as a key range', () => {
  it('a string starts with the prefix exactly when it lies in [prefix, successor(prefix))', () => {
    fc.assert(
      fc.property(text.filter((p) => p !== '' && !p.endsWith('\u{10ffff}')), text, text, (prefix, tail, other) => {
        const above = successor(prefix);
        assert.ok(above !== undefined);
        for (const t of [prefix + tail, other, prefix.slice(0, -1) + other]) {
          const inRange: boolean = compareCodePoints(t, prefix) >= 0 && compareCodePoints(t, above) < 0;
          assert.equal(inRange, t.startsWith(prefix), `${JSON.stringify(t)} and prefix ${JSON.stringify(prefix)}`);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('has no bound for the empty prefix or one ending in the last code point', () => {
    assert.equal(successor(''), undefined);
    assert.equal(successor('a\u{10ffff}'), undefined);
    assert.equal(successor('hansen'), 'hanseo');
    assert.equal(successor('s\ud7ff'), 's\ue000', 'skips the surrogate range, which holds no code points');
  });
});
