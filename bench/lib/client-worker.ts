// The load generator: runs in a worker thread so that it does not share the event loop with
// the server under test (which runs in the main thread).
import { parentPort } from 'node:worker_threads';
import { createdIds, generatePatientBundle } from './generate.ts';
import { createHttpClient } from './http.ts';
import type {
  ErrorSample,
  IngestJob,
  IngestProgress,
  IngestResult,
  JobReply,
  JobRequest,
  JobResult,
  ReadJob,
  ReadResult,
  SearchJob,
  SearchOutcome,
  SearchResult,
} from './jobs.ts';
import { createRng } from './prng.ts';

const MAX_ERROR_SAMPLES = 10;
const BODY_SAMPLE_CHARS = 600;

function sample(samples: ErrorSample[], path: string, status: number, body: string | undefined, error: string | undefined): void {
  if (samples.length < MAX_ERROR_SAMPLES) {
    samples.push({ path, status, body: (body ?? error ?? '').slice(0, BODY_SAMPLE_CHARS) });
  }
}

async function runRead(job: ReadJob): Promise<ReadResult> {
  const client = createHttpClient(job.port, job.concurrency, job.authorization);
  const rng = createRng(job.seed);
  const latencies: number[] = [];
  const errorSamples: ErrorSample[] = [];
  let requests = 0;
  let errors = 0;
  const started = performance.now();
  const end = started + job.durationMs;
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      const path = job.pathPrefix + rng.pick(job.ids);
      const r = await client.send({ method: 'GET', path, keepBody: 'error', timeoutMs: job.timeoutMs });
      requests++;
      if (r.status === 200) {
        latencies.push(r.ms);
      } else {
        errors++;
        sample(errorSamples, path, r.status, r.body, r.error);
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, loop));
  const seconds = (performance.now() - started) / 1000;
  client.close();
  return { kind: 'read', requests, errors, seconds, latencies: Float64Array.from(latencies), errorSamples };
}

async function runIngest(job: IngestJob, progress: (p: IngestProgress) => void): Promise<IngestResult> {
  const client = createHttpClient(job.port, job.concurrency);
  const errorSamples: ErrorSample[] = [];
  const samples: { index: number; id: string }[] = [];
  let next = job.firstIndex;
  let sent = 0;
  let resources = 0;
  let bundles = 0;
  let bundleErrors = 0;
  let missingLocations = 0;
  let stoppedByTime = false;
  const started = performance.now();
  const seconds = (): number => (performance.now() - started) / 1000;
  const timer = setInterval(() => progress({ bundles, resources, errors: bundleErrors, seconds: seconds() }), 5000);
  const loop = async (): Promise<void> => {
    for (;;) {
      if (sent >= job.targetResources) {
        return;
      }
      if (performance.now() - started > job.maxMs) {
        stoppedByTime = true;
        return;
      }
      const index = next++;
      const generated = generatePatientBundle(job.seed, index);
      sent += generated.resources;
      const r = await client.send({ method: 'POST', path: '/fhir', body: JSON.stringify(generated.bundle), keepBody: 'always', timeoutMs: job.timeoutMs });
      bundles++;
      if (r.status !== 200) {
        bundleErrors++;
        sample(errorSamples, `POST /fhir (transaction, patient #${index}, ${generated.resources} entries)`, r.status, r.body, r.error);
        continue;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(r.body ?? '');
      } catch {
        bundleErrors++;
        sample(errorSamples, `POST /fhir (transaction, patient #${index})`, r.status, `unparseable response: ${r.body ?? ''}`, undefined);
        continue;
      }
      const { ids, created } = createdIds(parsed);
      resources += created;
      if (created < generated.resources) {
        sample(errorSamples, `POST /fhir (transaction, patient #${index})`, r.status, `only ${created} of ${generated.resources} entries reported 2xx: ${(r.body ?? '').slice(0, 300)}`, undefined);
      }
      const patientId = ids[0];
      if (patientId === undefined) {
        missingLocations++;
      } else if ((index - job.firstIndex) % job.sampleEvery === 0 && samples.length < job.maxSamples) {
        samples.push({ index, id: patientId });
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: job.concurrency }, loop));
  } finally {
    clearInterval(timer);
    client.close();
  }
  return { kind: 'ingest', bundles, bundleErrors, resources, resourcesSent: sent, seconds: seconds(), stoppedByTime, samples, missingLocations, errorSamples };
}

function countMatches(body: string | undefined): { matches: number; total: number | undefined } {
  try {
    const parsed = JSON.parse(body ?? '') as { resourceType?: unknown; entry?: unknown; total?: unknown };
    if (parsed.resourceType !== 'Bundle') {
      return { matches: -1, total: undefined };
    }
    const entries = Array.isArray(parsed.entry) ? (parsed.entry as { search?: { mode?: unknown } }[]) : [];
    const matches = entries.filter((e) => e.search?.mode === undefined || e.search.mode === 'match').length;
    return { matches, total: typeof parsed.total === 'number' ? parsed.total : undefined };
  } catch {
    return { matches: -1, total: undefined };
  }
}

async function runSearch(job: SearchJob): Promise<SearchResult> {
  const client = createHttpClient(job.port, job.concurrency);
  const outcomes: SearchOutcome[] = [];
  let next = 0;
  const started = performance.now();
  const loop = async (): Promise<void> => {
    while (next < job.paths.length && performance.now() - started < job.maxMs) {
      const path = job.paths[next++]!;
      const r = await client.send({ method: 'GET', path, keepBody: 'always', timeoutMs: job.timeoutMs });
      const { matches, total } = r.status === 200 ? countMatches(r.body) : { matches: -1, total: undefined };
      const body = r.status === 200 ? undefined : (r.body ?? r.error ?? '').slice(0, BODY_SAMPLE_CHARS);
      outcomes.push({ path, status: r.status, ms: r.ms, matches, total, body });
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, loop));
  client.close();
  return { kind: 'search', outcomes, seconds: (performance.now() - started) / 1000 };
}

async function handle(request: JobRequest): Promise<JobResult> {
  const { job } = request;
  switch (job.kind) {
    case 'read':
      return runRead(job);
    case 'ingest':
      return runIngest(job, (progress) => post({ id: request.id, type: 'progress', progress }));
    case 'search':
      return runSearch(job);
  }
}

function post(reply: JobReply): void {
  if (reply.type === 'result' && reply.result.kind === 'read') {
    parentPort?.postMessage(reply, [reply.result.latencies.buffer]);
  } else {
    parentPort?.postMessage(reply);
  }
}

parentPort?.on('message', (request: JobRequest) => {
  handle(request).then(
    (result) => post({ id: request.id, type: 'result', result }),
    (err: unknown) => post({ id: request.id, type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
