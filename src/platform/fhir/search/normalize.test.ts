import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { normalizeString } from './normalize.ts';

// The search form of a string, written out step by step as the module's comment states it.
function reference(s: string): string {
  const danish: Record<string, string> = { æ: 'ae', ø: 'oe', å: 'aa', ǿ: 'oe', ǻ: 'aa' };
  return s
    .normalize('NFC')
    .toLowerCase()
    .replace(/[æøåǿǻ]/g, (c) => danish[c] ?? c)
    .replace(/ß/g, 'ss')
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .normalize('NFC')
    .replace(/\s+/g, ' ')
    .trim();
}

const unit = fc.oneof(
  fc.constantFrom(' ', '  ', '\t', '\n', '\u00a0', 'A', 'z', 'Æ', 'ø', 'Å', 'é', 'e\u0301', 'ß', 'Ü', '-', '"', '{'),
  fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0, max: 0x2fff }).map((c) => String.fromCharCode(c)),
);

describe('normalizeString', () => {
  it('gives the search form for any text, printable ASCII or not', () => {
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 30 }), (s) => {
        assert.equal(normalizeString(s), reference(s));
      }),
      { numRuns: 3000 },
    );
  });

  it('folds case, Danish letters and accents, and white space', () => {
    assert.equal(normalizeString('  Søren   ÅBY\tHansen '), 'soeren aaby hansen');
    assert.equal(normalizeString('Ole  Olsen'), 'ole olsen');
    assert.equal(normalizeString(' Müller-Lüdenscheidt'), 'muller-ludenscheidt');
  });
});
