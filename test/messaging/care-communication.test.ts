import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Communication, MessageHeader, OperationOutcome, Parameters, ParametersParameter, Patient, Provenance, Resource } from '@medplum/fhirtypes';
import { IdentifierSystem } from '../../src/platform/identifiers/systems.ts';
import { MessageDispatcher } from '../../src/platform/messaging/index.ts';
import { referenceData } from '../../src/platform/registers/index.ts';
import { professionalToken } from '../auth-support.ts';
import type { TestApp, TestResponse } from '../support.ts';
import { createTestApp, sharedValidator } from '../support.ts';
import type { Sender } from './messaging-support.ts';
import { createSender, headerOf, inboxBundles, messagingCounts, putReferenceUnits, putResources } from './messaging-support.ts';

/**
 * CareCommunication as a platform API: a hospital department and a municipal home nursing unit
 * (reference data) write, reply and read their threads through Organization/{id}/$care-communication
 * and $care-communication-threads, each through a backend client bound to it. The messages go
 * through $process-message and the outbox like any other, and are checked against the MedCom
 * CareCommunication 5.0.4 message profile.
 */

const HOSPITAL = 'hosp-auh-cardiology';
const HOME_NURSING = 'hjemmesygepleje-0751';
const OTHER_HOSPITAL = 'hosp-rh-cardiology';
const PHARMACY = 'apotek-0751-1'; // no Endpoint: receives no MedCom messages
const PATIENT: Patient = {
  resourceType: 'Patient',
  id: 'cc-patient',
  identifier: [{ use: 'official', system: IdentifierSystem.cpr, value: '0703921234' }],
  name: [{ use: 'official', family: 'Berggren', given: ['Birgit'] }],
};

/** A PDF-like file: the PDF signature, then random bytes (every byte value occurs). */
function pdf(size: number): Buffer {
  return Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(size - 9)]);
}

function param(name: string, value: Partial<ParametersParameter>): ParametersParameter {
  return { name, ...value };
}

function resources(b: Bundle): Resource[] {
  return (b.entry ?? []).map((e) => e.resource!);
}

function communicationOf(b: Bundle): Communication {
  return resources(b).find((r): r is Communication => r.resourceType === 'Communication')!;
}

/** The Provenance of the message itself (a reply also carries those of the earlier messages). */
function ownProvenance(b: Bundle): Provenance {
  const header = headerOf(b);
  return resources(b).find((r): r is Provenance => r.resourceType === 'Provenance' && r.target.some((x) => x.reference === `MessageHeader/${header.id!}`))!;
}

function out(res: TestResponse, name: string): ParametersParameter | undefined {
  return (res.body as Parameters).parameter?.find((p) => p.name === name);
}

describe('CareCommunication', () => {
  let t: TestApp;
  let hospital: Sender;
  let nursing: Sender;
  let threadId: string;
  let first: Bundle;
  let reply: Bundle;
  const attachment = pdf(200_000);
  const image = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(5000)]);

  const send = (client: Sender, organizationId: string, parameter: ParametersParameter[]): Promise<TestResponse> =>
    t.request('POST', `/fhir/Organization/${organizationId}/$care-communication`, { resourceType: 'Parameters', parameter }, { authorization: `Bearer ${client.token}` });
  const threads = (token: string, organizationId: string, query = ''): Promise<TestResponse> =>
    t.request('GET', `/fhir/Organization/${organizationId}/$care-communication-threads${query}`, undefined, { authorization: `Bearer ${token}` });
  const counts = async (): Promise<unknown> => {
    const rows = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM care_communication');
    return { ...(await messagingCounts(t)), threads: Number(rows[0]!.n) };
  };
  const validate = async (b: Bundle): Promise<void> => {
    const issues = (await sharedValidator()).validate(b).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    assert.deepEqual(issues, [], 'valid against medcom-careCommunication-message');
  };

  before(async () => {
    t = await createTestApp();
    await putReferenceUnits(t, [HOSPITAL, HOME_NURSING, OTHER_HOSPITAL, PHARMACY]);
    await putResources(t, [PATIENT]);
    hospital = await createSender(t);
    await hospital.bind(HOSPITAL);
    nursing = await createSender(t);
    await nursing.bind(HOME_NURSING);
  });
  after(async () => {
    await t.close();
  });

  it('writes a new CareCommunication with attachments, valid against the profile, delivered to the receiver\'s inbox byte for byte', async () => {
    const before = await counts();
    const res = await send(hospital, HOSPITAL, [
      param('receiver', { valueReference: { reference: `Organization/${HOME_NURSING}` } }),
      param('patient', { valueReference: { reference: `Patient/${PATIENT.id!}` } }),
      param('category', { valueCode: 'examination-results' }),
      param('topic', { valueString: 'Blodprøver' }),
      param('text', { valueString: 'Vi sender svar på blodprøverne.\nVenlig hilsen afdelingen' }),
      param('authorName', { valueString: 'Michael Burns' }),
      param('authorRole', { valueString: 'Sygeplejerske' }),
      param('attachment', { valueAttachment: { contentType: 'application/pdf', data: attachment.toString('base64'), title: 'Blodprøvesvar' } }),
      param('attachment', { valueAttachment: { contentType: 'image/png', data: image.toString('base64'), title: 'Billede' } }),
    ]);
    assert.equal(res.status, 200, res.text.slice(0, 1000));
    first = out(res, 'message')!.resource as Bundle;
    threadId = out(res, 'threadId')!.valueString!;
    assert.equal(communicationOf(first).identifier?.[0]?.value, threadId);
    assert.match(threadId, /^urn:uuid:[0-9a-f-]{36}$/);
    assert.equal(headerOf(out(res, 'acknowledgement')!.resource as Bundle).response?.code, 'ok');
    assert.equal(headerOf(out(res, 'acknowledgement')!.resource as Bundle).response?.identifier, headerOf(first).id);
    assert.equal(ownProvenance(first).activity?.coding?.[0]?.code, 'new-message');
    assert.equal(headerOf(first).destination?.[0]?.receiver?.reference, `Organization/${HOME_NURSING}`);
    await validate(first);
    const after = (await counts()) as Record<string, number>;
    const was = before as Record<string, number>;
    assert.deepEqual([after['messages']! - was['messages']!, after['outbox']! - was['outbox']!, after['threads']! - was['threads']!, after['resources']! - was['resources']!], [1, 1, 1, 0], 'one message, one outbox row, one thread row, no FHIR resources');

    const result = await new MessageDispatcher(t.db).drain();
    assert.equal(result.delivered, 2, 'the message and its acknowledgement');
    const received = (await inboxBundles(t, HOME_NURSING)).filter((b) => b.id === first.id);
    assert.equal(received.length, 1);
    assert.deepEqual(received[0], first, 'delivered as sent');
    const files = communicationOf(received[0]).payload!.filter((p) => p.contentAttachment !== undefined).map((p) => p.contentAttachment!);
    assert.deepEqual(files.map((f) => f.contentType), ['application/pdf', 'image/png']);
    assert.ok(Buffer.from(files[0]!.data!, 'base64').equals(attachment), 'the PDF arrives byte for byte');
    assert.ok(Buffer.from(files[1]!.data!, 'base64').equals(image), 'the image arrives byte for byte');
  });

  it('a reply keeps the thread id, references the message answered and goes to its sender; both units see the thread in order', async () => {
    const res = await send(nursing, HOME_NURSING, [param('replyTo', { valueString: headerOf(first).id! }), param('text', { valueString: 'Tak, vi har modtaget svarene.' }), param('authorName', { valueString: 'Emma Hansen' })]);
    assert.equal(res.status, 200, res.text.slice(0, 1000));
    reply = out(res, 'message')!.resource as Bundle;
    assert.equal(out(res, 'threadId')!.valueString, threadId);
    assert.equal(communicationOf(reply).identifier?.[0]?.value, threadId, 'MedCom: the thread id is kept');
    assert.equal(headerOf(reply).sender?.reference, `Organization/${HOME_NURSING}`);
    assert.equal(headerOf(reply).destination?.[0]?.receiver?.reference, `Organization/${HOSPITAL}`, 'to the original sender');
    const prov = ownProvenance(reply);
    assert.equal(prov.activity?.coding?.[0]?.code, 'reply-message');
    assert.deepEqual(prov.entity?.filter((e) => e.role === 'revision').map((e) => e.what.reference), [`MessageHeader/${headerOf(first).id!}`]);
    const payloads = communicationOf(reply).payload!;
    assert.equal(payloads.length, 4, 'the earlier text and two attachments, then the reply');
    assert.equal(payloads[3]!.contentString, 'Tak, vi har modtaget svarene.');
    assert.ok(Buffer.from(payloads[1]!.contentAttachment!.data!, 'base64').equals(attachment));
    assert.equal(resources(reply).filter((r) => r.resourceType === 'Provenance').length, 2, 'the earlier Provenance is carried along');
    await validate(reply);
    await new MessageDispatcher(t.db).drain();
    assert.equal((await inboxBundles(t, HOSPITAL)).filter((b) => b.id === reply.id).length, 1, 'the reply reached the original sender');

    // The hospital answers the reply: a third message in the same thread.
    const third = await send(hospital, HOSPITAL, [param('replyTo', { valueString: headerOf(reply).id! }), param('text', { valueString: 'Godt.' }), param('authorName', { valueString: 'Michael Burns' })]);
    assert.equal(third.status, 200, third.text.slice(0, 500));
    const thirdMessage = out(third, 'message')!.resource as Bundle;
    await validate(thirdMessage);
    await new MessageDispatcher(t.db).drain();

    for (const [unit, client, directions] of [
      [HOSPITAL, hospital, ['sent', 'received', 'sent']],
      [HOME_NURSING, nursing, ['received', 'sent', 'received']],
    ] as const) {
      const listed = await threads(client.token, unit);
      assert.equal(listed.status, 200, listed.text.slice(0, 300));
      const all = (listed.body as Parameters).parameter ?? [];
      assert.equal(all.length, 1, `${unit}: one thread`);
      const thread = all[0]!.part!;
      assert.equal(thread.find((p) => p.name === 'id')?.valueString, threadId);
      assert.equal(thread.find((p) => p.name === 'category')?.valueCoding?.code, 'examination-results');
      assert.equal(thread.find((p) => p.name === 'topic')?.valueString, 'Blodprøver');
      assert.equal(thread.find((p) => p.name === 'patient')?.valueIdentifier?.value, '0703921234');
      assert.equal(thread.find((p) => p.name === 'otherParty')?.valueReference?.reference, `Organization/${unit === HOSPITAL ? HOME_NURSING : HOSPITAL}`);
      const messages = thread.filter((p) => p.name === 'message');
      assert.deepEqual(
        messages.map((m) => (m.part!.find((x) => x.name === 'bundle')!.resource as Bundle).id),
        [first.id, reply.id, thirdMessage.id],
        `${unit}: the messages in the order sent`,
      );
      assert.deepEqual(messages.map((m) => m.part!.find((x) => x.name === 'direction')!.valueCode), directions);
      assert.deepEqual(messages.map((m) => m.part!.find((x) => x.name === 'activity')!.valueCode), ['new-message', 'reply-message', 'reply-message']);
    }
    const one = await threads(hospital.token, HOSPITAL, `?thread=${encodeURIComponent(threadId)}`);
    assert.equal(((one.body as Parameters).parameter ?? []).length, 1);
    const none = await threads(hospital.token, HOSPITAL, '?thread=urn:uuid:00000000-0000-4000-8000-000000000000');
    assert.equal(((none.body as Parameters).parameter ?? []).length, 0);
  });

  it('refuses attachments too large or of the wrong type, receivers that do not accept CareCommunication and bad replies, storing nothing', async () => {
    const base = (extra: ParametersParameter[], receiver = HOME_NURSING): ParametersParameter[] => [
      param('receiver', { valueReference: { reference: `Organization/${receiver}` } }),
      param('patient', { valueReference: { reference: `Patient/${PATIENT.id!}` } }),
      param('category', { valueCode: 'carecoordination' }),
      param('text', { valueString: 'Tekst' }),
      param('authorName', { valueString: 'Michael Burns' }),
      ...extra,
    ];
    const file = (contentType: string, data: Buffer, title = 'Bilag'): ParametersParameter => param('attachment', { valueAttachment: { contentType, data: data.toString('base64'), title } });
    const cases: { name: string; parameter: ParametersParameter[]; status: number; text: RegExp; client?: Sender; as?: string }[] = [
      { name: 'an attachment over 8 MiB', parameter: base([file('application/pdf', pdf(8 * 1024 * 1024 + 1))]), status: 413, text: /højst 8388608 byte pr\. vedhæftning/ },
      { name: 'attachments over 10 MiB together', parameter: base([file('application/pdf', pdf(6 * 1024 * 1024)), file('application/pdf', pdf(5 * 1024 * 1024))]), status: 413, text: /tilsammen over/ },
      { name: 'a Word document', parameter: base([file('application/msword', Buffer.from('PK\u0003\u0004 not allowed'))]), status: 400, text: /filtypen application\/msword er ikke tilladt/ },
      { name: 'a PDF sent as a PNG', parameter: base([file('image/png', pdf(1000))]), status: 400, text: /ikke en image\/png-fil/ },
      { name: 'a title with a file extension', parameter: base([file('application/pdf', pdf(1000), 'svar.pdf')]), status: 400, text: /filtypen \(MedCom\)/ },
      { name: 'data that is not base64', parameter: base([param('attachment', { valueAttachment: { contentType: 'application/pdf', data: '%%%%', title: 'x' } })]), status: 400, text: /ikke gyldig base64/ },
      { name: 'a receiver without CareCommunication', parameter: base([], PHARMACY), status: 422, text: /modtager ikke korrespondancemeddelelser/ },
      { name: 'an unknown category', parameter: base([param('topic', { valueString: 'x' })]).map((p) => (p.name === 'category' ? param('category', { valueCode: 'gossip' }) : p)), status: 400, text: /Kategorien skal være en af/ },
      { name: 'category other without a topic', parameter: base([]).map((p) => (p.name === 'category' ? param('category', { valueCode: 'other' }) : p)), status: 400, text: /kræver et emne/ },
      { name: 'a reply to a message the unit did not receive', parameter: [param('replyTo', { valueString: headerOf(reply).id! }), param('text', { valueString: 'x' }), param('authorName', { valueString: 'A B' })], status: 422, text: /har ikke modtaget en korrespondancemeddelelse/, client: nursing, as: HOME_NURSING },
      { name: 'a reply naming a receiver', parameter: [param('replyTo', { valueString: headerOf(first).id! }), param('receiver', { valueReference: { reference: `Organization/${OTHER_HOSPITAL}` } }), param('text', { valueString: 'x' }), param('authorName', { valueString: 'A B' })], status: 400, text: /kan ikke angives sammen med replyTo/, client: nursing, as: HOME_NURSING },
      { name: 'a system without an author', parameter: base([]).filter((p) => p.name !== 'authorName'), status: 400, text: /authorName/ },
    ];
    for (const c of cases) {
      const before = await counts();
      const res = await send(c.client ?? hospital, c.as ?? HOSPITAL, c.parameter);
      assert.equal(res.status, c.status, `${c.name}: ${res.text.slice(0, 300)}`);
      const texts = ((res.body as OperationOutcome).issue ?? []).map((i) => i.details?.text ?? i.diagnostics ?? '');
      assert.ok(texts.some((x) => c.text.test(x)), `${c.name}: ${texts.join(' | ')}`);
      assert.deepEqual(await counts(), before, `${c.name}: nothing stored or queued`);
    }
  });

  it('lets only the unit\'s own professionals and systems read and write its threads', async () => {
    const ref = referenceData();
    const login = async (unit: string): Promise<string> => {
      const role = ref.roles.find((r) => r.organization?.reference === `Organization/${unit}`)!;
      const practitioner = ref.practitioners.find((p) => `Practitioner/${p.id!}` === role.practitioner?.reference)!;
      await putResources(t, [practitioner, role]);
      const authorisationId = practitioner.identifier!.find((i) => i.system === IdentifierSystem.authorization)!.value!;
      return professionalToken(t, authorisationId, { roleId: role.id!, scope: 'openid fhirUser user/Bundle.cr user/Patient.r' });
    };
    const own = await login(HOSPITAL);
    const foreign = await login(OTHER_HOSPITAL);
    const mine = await threads(own, HOSPITAL);
    assert.equal(mine.status, 200, mine.text.slice(0, 300));
    assert.equal(((mine.body as Parameters).parameter ?? []).length, 1, 'a professional of the unit reads its thread');
    assert.equal((await threads(foreign, HOSPITAL)).status, 403, 'a professional of another unit cannot list the threads');
    assert.equal((await threads(foreign, HOSPITAL, `?thread=${encodeURIComponent(threadId)}`)).status, 403, 'nor read the thread');
    assert.equal(((await threads(foreign, OTHER_HOSPITAL)).body as Parameters).parameter, undefined, 'and its own unit has no part in it');
    assert.equal((await threads(nursing.token, HOSPITAL)).status, 403, 'a system bound to another unit cannot read it');
    const before = await counts();
    const write = await t.request(
      'POST',
      `/fhir/Organization/${HOSPITAL}/$care-communication`,
      { resourceType: 'Parameters', parameter: [param('replyTo', { valueString: headerOf(reply).id! }), param('text', { valueString: 'x' })] },
      { authorization: `Bearer ${foreign}` },
    );
    assert.equal(write.status, 403, 'nor write as it');
    assert.deepEqual(await counts(), before);
    const header: MessageHeader = headerOf(reply);
    assert.equal(header.eventCoding?.code, 'care-communication-message');

    // A professional writes as their own unit, about a patient they have a treatment relation
    // with (an Encounter at the unit), and is the author of the segment.
    const role = ref.roles.find((r) => r.organization?.reference === `Organization/${HOSPITAL}`)!;
    const practitioner = ref.practitioners.find((p) => `Practitioner/${p.id!}` === role.practitioner?.reference)!;
    const newMessage = [
      param('receiver', { valueReference: { reference: `Organization/${HOME_NURSING}` } }),
      param('patient', { valueReference: { reference: `Patient/${PATIENT.id!}` } }),
      param('category', { valueCode: 'discharge' }),
      param('text', { valueString: 'Patienten udskrives i morgen.' }),
    ];
    const asProfessional = (token: string): Promise<TestResponse> =>
      t.request('POST', `/fhir/Organization/${HOSPITAL}/$care-communication`, { resourceType: 'Parameters', parameter: newMessage }, { authorization: `Bearer ${token}` });
    const noRelation = await asProfessional(own);
    assert.ok(noRelation.status === 403 || noRelation.status === 404, `no treatment relation, no message about the patient: ${noRelation.status}`);
    await putResources(t, [
      {
        resourceType: 'Encounter',
        id: 'cc-encounter',
        status: 'in-progress',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
        subject: { reference: `Patient/${PATIENT.id!}` },
        serviceProvider: { reference: `Organization/${HOSPITAL}` },
        period: { start: new Date(Date.now() - 86_400_000).toISOString() },
      },
    ]);
    const written = await asProfessional(own);
    assert.equal(written.status, 200, written.text.slice(0, 500));
    const message = out(written, 'message')!.resource as Bundle;
    await validate(message);
    const authorRef = communicationOf(message).payload![0]!.extension!.find((e) => e.url.endsWith('medcom-core-practitioner-extension'))!.valueReference!.reference;
    assert.equal(authorRef, `PractitionerRole/${role.id!}`, 'the professional\'s own PractitionerRole is the author');
    const bundled = resources(message).find((r) => r.resourceType === 'Practitioner' && r.id === practitioner.id) as { name?: { family?: string }[] } | undefined;
    assert.equal(bundled?.name?.[0]?.family, practitioner.name?.[0]?.family);
  });
});
