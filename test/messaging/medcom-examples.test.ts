import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Bundle, OperationOutcome, Organization, Resource } from '@medplum/fhirtypes';
import { IdentifierSystem } from '../../src/platform/identifiers/systems.ts';
import { GLN_HTTPS_MISSPELLING } from '../../src/platform/identifiers/systems.ts';
import { MessageDispatcher } from '../../src/platform/messaging/index.ts';
import type { TestApp, TestResponse } from '../support.ts';
import { createTestApp } from '../support.ts';
import type { Example, Sender } from './messaging-support.ts';
import { ALL_EVENTS, bundledOrganization, copy, createSender, headerOf, inboxBundles, makeUnit, medcomExamples, messagingCounts, putResources } from './messaging-support.ts';

/**
 * Every example message of the MedCom packages (Acknowledgement 2.0.3, CareCommunication 5.0.4,
 * HospitalNotification 3.0.2, Messaging 4.0.1) through POST /fhir/$process-message. The units
 * the examples name (by SOR code and GLN) are registered on the platform with an Endpoint that
 * accepts every MedCom message type, and the sending client is bound to the senders.
 *
 * Each message is validated with the profile versions its own package depends on (CareCommunication
 * 5.0.4: MedCom core 3.0.1 and DK-core 3.4.0, not the newest loaded, 4.0.0 and 3.8.0). So the
 * examples are accepted as published, except those with a fault of their own (KNOWN_FAULTS): the
 * test asserts that each of those is refused for exactly that reason and stores nothing. Corrected
 * (CORRECTIONS, applied to a copy), they are accepted too. Every accepted example is delivered to
 * its receiver's inbox in the order sent, and acknowledged to its sender. The three acknowledgement
 * examples acknowledge messages that never went through the platform, so they are refused as
 * acknowledgements of an unknown message, storing nothing.
 */

/** The examples' own faults: every error issue of a refused example must match one of these. */
const KNOWN_FAULTS: readonly { readonly pattern: RegExp; readonly why: string; readonly examples: readonly string[] }[] = [
  {
    pattern: /Ingen Provenance har denne MessageHeader som target/,
    why: 'the Acknowledgement package\'s copy of the empty-message example (Bundle eb26be85) has its only Provenance target MessageHeader/42cb9200…, not its own MessageHeader/3881874e…; MedComMessagingProvenance.target is "the MessageHeader from the current message" (the Messaging package\'s copy is right)',
    examples: ['medcom.fhir.dk.acknowledgement#2.0.3/Bundle-eb26be85-fdb7-454d-a980-95cba6d1745b.json'],
  },
];

/**
 * Corrects a copy of an example for the faults above.
 * @param b - the example (changed)
 * @returns what was corrected
 */
function correct(b: Bundle): string[] {
  const done: string[] = [];
  const header = headerOf(b);
  const provenances = (b.entry ?? []).map((e) => e.resource).filter((r) => r?.resourceType === 'Provenance');
  if (!provenances.some((p) => p.target.some((x) => x.reference === `MessageHeader/${header.id!}`))) {
    provenances[0]!.target = [{ reference: `MessageHeader/${header.id!}` }];
    done.push('Provenance.target');
  }
  return done;
}

function unitId(sor: string): string {
  return `ex-${sor}`;
}

function sorOf(o: Organization): string | undefined {
  return o.identifier?.find((i) => i.system === IdentifierSystem.sor)?.value;
}

describe('MedCom example messages', () => {
  let t: TestApp;
  let sender: Sender;
  const examples = medcomExamples();
  const accepted: { ex: Example; sent: Bundle; res: TestResponse; receiver: string; sender: string }[] = [];
  const accept = (ex: Example, sent: Bundle, res: TestResponse): void => {
    const h = headerOf(sent);
    assert.equal(headerOf(res.body as Bundle).response?.identifier, h.id);
    assert.equal(headerOf(res.body as Bundle).response?.code, 'ok');
    const receiver = unitId(sorOf(bundledOrganization(sent, h.destination![0]!.receiver!.reference!))!);
    accepted.push({ ex, sent, res, receiver, sender: unitId(sorOf(bundledOrganization(sent, h.sender!.reference!))!) });
  };

  before(async () => {
    t = await createTestApp();
    sender = await createSender(t);
    // One platform unit per SOR code the examples use, with the first GLN they give it.
    const units = new Map<string, { gln: string; name: string }>();
    const senders = new Set<string>();
    for (const { bundle } of examples) {
      const h = headerOf(bundle);
      for (const ref of [h.sender!.reference!, ...h.destination!.map((d) => d.receiver!.reference!)]) {
        const o = bundledOrganization(bundle, ref);
        const sor = sorOf(o)!;
        const gln = o.identifier?.find((i) => i.system === GLN_HTTPS_MISSPELLING || i.system === IdentifierSystem.gln)?.value;
        if (!units.has(sor) && gln !== undefined) {
          units.set(sor, { gln, name: o.name ?? sor });
        }
        if (ref === h.sender!.reference) {
          senders.add(sor);
        }
      }
    }
    await putResources(t, [...units].flatMap(([sor, u]) => makeUnit(unitId(sor), sor, u.gln, u.name, ALL_EVENTS)));
    for (const sor of senders) {
      if (units.has(sor)) {
        await sender.bind(unitId(sor));
      }
    }
  });
  after(async () => {
    await t.close();
  });

  it('finds the example messages of all four packages', () => {
    const byPackage = new Map<string, number>();
    for (const e of examples) {
      byPackage.set(e.pkg, (byPackage.get(e.pkg) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(byPackage), {
      'medcom.fhir.dk.acknowledgement#2.0.3': 4,
      'medcom.fhir.dk.carecommunication#5.0.4': 8,
      'medcom.fhir.dk.hospitalnotification#3.0.2': 12,
      'medcom.fhir.dk.messaging#4.0.1': 1,
    });
  });

  const isAcknowledgement = (ex: Example): boolean => headerOf(ex.bundle).eventCoding?.code === 'acknowledgement-message';
  const acknowledgements = examples.filter(isAcknowledgement).length;

  it('accepts each example as published, except those with a known fault, which are refused for it alone, storing nothing', async () => {
    assert.equal(acknowledgements, 3, 'the three acknowledgement examples (ok, transient-error, fatal-error)');
    for (const ex of examples) {
      const before = await messagingCounts(t);
      const res = await sender.post(ex.bundle);
      if (isAcknowledgement(ex)) {
        // They acknowledge messages that never went through the platform (acknowledgement.test.ts
        // has acknowledgements of delivered messages).
        assert.equal(res.status, 422, `${ex.file}: ${res.text.slice(0, 500)}`);
        assert.match((res.body as OperationOutcome).issue?.[0]?.details?.text ?? '', /^Kvitteringen gælder en ukendt meddelelse/, ex.file);
        assert.deepEqual(await messagingCounts(t), before, `${ex.file}: nothing stored`);
        continue;
      }
      const faults = KNOWN_FAULTS.filter((k) => k.examples.includes(`${ex.pkg}/${ex.file}`));
      if (faults.length === 0) {
        assert.equal(res.status, 200, `${ex.pkg} ${ex.file}: ${res.text.slice(0, 500)}`);
        accept(ex, ex.bundle, res);
        continue;
      }
      // 400: refused on the message structure before profile validation; 422: by the profiles.
      assert.ok(res.status === 400 || res.status === 422, `${ex.pkg} ${ex.file}: ${res.status} ${res.text.slice(0, 300)}`);
      const outcome = res.body as OperationOutcome;
      const texts = (outcome.issue ?? []).map((i) => i.details?.text ?? i.diagnostics ?? '');
      assert.ok(texts.length > 0);
      assert.deepEqual(texts.filter((x) => !faults.some((k) => k.pattern.test(x))), [], `${ex.pkg} ${ex.file}`);
      assert.deepEqual(await messagingCounts(t), before, `${ex.file}: nothing stored`);
    }
    assert.equal(accepted.length, examples.length - 1 - acknowledgements, 'all but the Acknowledgement package\'s empty-message example and the acknowledgements');
  });

  it('accepts each corrected example; sent again, every example gets the same answer', async () => {
    for (const ex of examples.filter((e) => KNOWN_FAULTS.some((k) => k.examples.includes(`${e.pkg}/${e.file}`)))) {
      const sent = copy(ex.bundle);
      assert.deepEqual(correct(sent), ['Provenance.target'], ex.file);
      const res = await sender.post(sent);
      assert.equal(res.status, 200, `${ex.pkg} ${ex.file}: ${res.text.slice(0, 500)}`);
      accept(ex, sent, res);
    }
    assert.equal(accepted.length, examples.length - acknowledgements);
    const answered = new Map<string, string>();
    for (const a of accepted) {
      const h = headerOf(a.sent);
      // De-duplication is per sender: Bundle eb26be85 (MessageHeader 3881874e) is in both the
      // Acknowledgement and the Messaging package, from two different senders, so it is two messages.
      const senderSor = sorOf(bundledOrganization(a.sent, h.sender!.reference!))!;
      const key = `${senderSor}|${a.sent.id!}|${h.id!}`;
      assert.equal(answered.get(key), undefined, `${a.ex.file}: no example repeats another from the same sender`);
      answered.set(key, a.res.text);
      assert.equal((await sender.post(copy(a.sent))).text, a.res.text, `${a.ex.file}: sent again, the same answer`);
    }
  });

  it('refuses a CareCommunication example whose GLN is written as DK-core 3.5.0 and later write it: its package depends on DK-core 3.4.0', async () => {
    const ex = examples.find((e) => e.pkg.startsWith('medcom.fhir.dk.carecommunication#'))!;
    const sent = copy(ex.bundle);
    sent.id = randomUUID();
    headerOf(sent).id = randomUUID();
    for (const e of sent.entry ?? []) {
      for (const i of (e.resource as Resource & { identifier?: { system?: string }[] }).identifier ?? []) {
        if (i.system === GLN_HTTPS_MISSPELLING) {
          i.system = IdentifierSystem.gln;
        }
      }
    }
    const before = await messagingCounts(t);
    const res = await sender.post(sent);
    assert.equal(res.status, 422, res.text.slice(0, 300));
    assert.match(res.text, /requires at least 1 value\(s\) for slice 'EAN-ID' of identifier/);
    assert.deepEqual(await messagingCounts(t), before);
  });

  it('delivers every accepted example once to its receiver, in the order sent, and acknowledges it to its sender', async () => {
    assert.ok(accepted.length > 0);
    const result = await new MessageDispatcher(t.db).drain();
    assert.equal(result.delivered, 2 * accepted.length, 'each message and its acknowledgement');
    assert.equal(result.dead + result.failed, 0);
    for (const receiver of new Set(accepted.map((a) => a.receiver))) {
      const inbox = await inboxBundles(t, receiver);
      const expected = accepted.filter((a) => a.receiver === receiver).map((a) => a.sent.id);
      assert.deepEqual(
        inbox.filter((b) => headerOf(b).eventCoding?.code !== 'acknowledgement-message' || expected.includes(b.id)).map((b) => b.id),
        expected,
        `${receiver}: each message once, in the order sent`,
      );
    }
    for (const a of accepted) {
      const h = headerOf(a.sent);
      // The acknowledgements the platform wrote for this message.
      const got = (await inboxBundles(t, a.sender)).filter((b) => headerOf(b).response?.identifier === h.id && headerOf(b).sender?.reference === `Organization/${a.receiver}`);
      assert.equal(got.length, 1, `${a.ex.file}: acknowledged once`);
      assert.equal(JSON.stringify(got[0]), a.res.text, `${a.ex.file}: the acknowledgement delivered is the one answered`);
    }
  });
});
