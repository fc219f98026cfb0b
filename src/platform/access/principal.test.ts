import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseSmartScope, parseSmartScopes } from './principal.ts';

describe('SMART scope parsing', () => {
  it('reads v2 scopes with interactions and narrowing', () => {
    const s = parseSmartScope('patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory');
    assert.ok(s !== undefined);
    assert.equal(s.level, 'patient');
    assert.equal(s.resourceType, 'Observation');
    assert.deepEqual([...s.ops].sort(), ['r', 's']);
    assert.deepEqual(s.narrowing, [['category', 'http://terminology.hl7.org/CodeSystem/observation-category|laboratory']]);
    assert.deepEqual([...parseSmartScope('user/*.cruds')!.ops].sort(), ['c', 'd', 'r', 's', 'u']);
  });

  it('maps v1 read and write', () => {
    assert.deepEqual([...parseSmartScope('patient/*.read')!.ops].sort(), ['r', 's']);
    assert.deepEqual([...parseSmartScope('system/Observation.write')!.ops].sort(), ['c', 'd', 'u']);
    assert.deepEqual([...parseSmartScope('user/Patient.*')!.ops].sort(), ['c', 'd', 'r', 's', 'u']);
  });

  it('drops what it does not understand instead of guessing', () => {
    for (const bad of ['patient/Observation.', 'patient/Observation.x', 'patient/Observation.sr', 'admin/*.cruds', 'patient/observation.rs', 'patient/*.rs?category=x', 'patient/Observation.rs?', 'patient/Observation.rs?_id=1', 'patient/Observation.rs?category=', 'openid', 'launch/patient']) {
      assert.equal(parseSmartScope(bad), undefined, bad);
    }
    assert.deepEqual(parseSmartScopes('openid fhirUser launch/patient offline_access patient/Patient.r').map((s) => s.text), ['patient/Patient.r']);
  });

  it('never grants an interaction that is not written in the scope (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.constantFrom('patient', 'user', 'system', 'x'), fc.constantFrom('Observation', '*', 'bad'), (ops, level, type) => {
        const text = `${level}/${type}.${ops}`;
        const s = parseSmartScope(text);
        if (s === undefined) {
          return;
        }
        const letters = ops === 'read' ? 'rs' : ops === 'write' ? 'cud' : ops === '*' ? 'cruds' : ops.split('?')[0]!;
        for (const op of s.ops) {
          assert.ok(letters.includes(op), `${text} granted ${op}`);
        }
        assert.ok(['patient', 'user', 'system'].includes(s.level));
      }),
    );
  });
});
