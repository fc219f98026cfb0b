// The senders of the MedCom messaging benchmark: run in a worker thread, so that building and
// posting the messages does not share the event loop with the server under test (bench/messaging.ts).
import { randomUUID } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { Bundle, MessageHeader } from '@medplum/fhirtypes';

/** The sender's and receivers' identifiers as a message names them (GLN, SOR). */
export type Address = readonly { readonly system: string; readonly value: string }[];

interface Common {
  readonly id: number;
  readonly port: number;
  readonly token: string;
  /** The published HospitalNotification the messages are made from. */
  readonly template: Bundle;
  readonly sender: Address;
  readonly receivers: readonly Address[];
  /** Message i goes to receiver i mod receivers; indices start here. */
  readonly firstIndex: number;
  readonly messages: number;
}

/** Send `messages` messages from `concurrency` clients as fast as they go. */
export interface ThroughputJob extends Common {
  readonly kind: 'throughput';
  readonly concurrency: number;
}

/** Send `messages` messages at `rate` per second, each on its schedule whatever the answers. */
export interface RateJob extends Common {
  readonly kind: 'rate';
  readonly rate: number;
}

export type SenderJob = ThroughputJob | RateJob;

export interface SenderResult {
  readonly id: number;
  /** MessageHeader ids of the accepted messages, with when each was sent (ms since the epoch). */
  readonly accepted: readonly (readonly [headerId: string, sentAt: number])[];
  readonly refused: number;
  readonly seconds: number;
  readonly error?: string;
}

/**
 * A copy of the template with new Bundle and MessageHeader ids, addressed to one receiver.
 * @param job - the job
 * @param i - message index
 * @returns the message
 */
function makeMessage(job: Common, i: number): Bundle {
  const b = structuredClone(job.template);
  const h = b.entry![0]!.resource as MessageHeader;
  const oldHeader = h.id!;
  h.id = randomUUID();
  b.id = randomUUID();
  b.entry![0]!.fullUrl = b.entry![0]!.fullUrl!.replace(oldHeader, h.id);
  for (const e of b.entry!) {
    const r = e.resource!;
    if (r.resourceType === 'Organization') {
      const isSender = e.fullUrl!.endsWith(`/${h.sender!.reference!}`);
      r.identifier = (isSender ? job.sender : job.receivers[i % job.receivers.length]!).map((x) => ({ ...x }));
    }
    if (r.resourceType === 'Provenance') {
      r.target = r.target.map((t) => (t.reference === `MessageHeader/${oldHeader}` ? { reference: `MessageHeader/${h.id!}` } : t));
    }
  }
  return b;
}

async function post(job: Common, body: Bundle): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${job.port}/fhir/$process-message`, {
    method: 'POST',
    headers: { authorization: `Bearer ${job.token}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

const headerOf = (b: Bundle): string => (b.entry![0]!.resource as MessageHeader).id!;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function run(job: SenderJob): Promise<Omit<SenderResult, 'id'>> {
  const accepted: [string, number][] = [];
  let refused = 0;
  const start = performance.now();
  const send = async (i: number): Promise<void> => {
    const m = makeMessage(job, job.firstIndex + i);
    const sentAt = Date.now();
    if ((await post(job, m)) === 200) {
      accepted.push([headerOf(m), sentAt]);
    } else {
      refused++;
    }
  };
  if (job.kind === 'throughput') {
    let next = 0;
    await Promise.all(
      Array.from({ length: job.concurrency }, async () => {
        for (let i = next++; i < job.messages; i = next++) {
          await send(i);
        }
      }),
    );
  } else {
    const inFlight: Promise<void>[] = [];
    const t0 = Date.now();
    for (let i = 0; i < job.messages; i++) {
      const wait = t0 + (i * 1000) / job.rate - Date.now();
      if (wait > 0) {
        await sleep(wait);
      }
      inFlight.push(send(i));
    }
    await Promise.all(inFlight);
  }
  return { accepted, refused, seconds: (performance.now() - start) / 1000 };
}

parentPort?.on('message', (job: SenderJob) => {
  run(job).then(
    (r) => parentPort?.postMessage({ id: job.id, ...r } satisfies SenderResult),
    (err: unknown) => parentPort?.postMessage({ id: job.id, accepted: [], refused: 0, seconds: 0, error: err instanceof Error ? err.message : String(err) } satisfies SenderResult),
  );
});
