import { Worker } from 'node:worker_threads';
import type { IngestJob, IngestProgress, IngestResult, Job, JobReply, JobRequest, JobResult, ReadJob, ReadResult, SearchJob, SearchResult } from './jobs.ts';

/** The load generator in its worker thread; one job at a time. */
export interface LoadClient {
  read(job: Omit<ReadJob, 'kind'>): Promise<ReadResult>;
  ingest(job: Omit<IngestJob, 'kind'>, onProgress: (p: IngestProgress) => void): Promise<IngestResult>;
  search(job: Omit<SearchJob, 'kind'>): Promise<SearchResult>;
  close(): Promise<void>;
}

/**
 * Starts a worker thread on a TypeScript module: the worker registers tsx itself before importing
 * it (Node 20 workers do not inherit the parent's `--import tsx` hooks).
 * @param module - the module's URL
 * @returns the worker
 */
export function startTypeScriptWorker(module: URL): Worker {
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const source = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(module.href)}); });`;
  return new Worker(source, { eval: true });
}

/**
 * Starts the load generator's worker.
 * @returns the client
 */
export function startLoadClient(): LoadClient {
  const worker = startTypeScriptWorker(new URL('./client-worker.ts', import.meta.url));
  let nextId = 1;
  const pending = new Map<number, { resolve: (r: JobResult) => void; reject: (e: Error) => void; progress?: (p: IngestProgress) => void }>();
  worker.on('message', (reply: JobReply) => {
    const p = pending.get(reply.id);
    if (p === undefined) {
      return;
    }
    switch (reply.type) {
      case 'progress':
        p.progress?.(reply.progress);
        break;
      case 'result':
        pending.delete(reply.id);
        p.resolve(reply.result);
        break;
      case 'error':
        pending.delete(reply.id);
        p.reject(new Error(`load worker: ${reply.message}`));
        break;
    }
  });
  worker.on('error', (err) => {
    for (const p of pending.values()) {
      p.reject(err);
    }
    pending.clear();
  });
  const run = (job: Job, progress?: (p: IngestProgress) => void): Promise<JobResult> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, progress === undefined ? { resolve, reject } : { resolve, reject, progress });
      const request: JobRequest = { id, job };
      worker.postMessage(request);
    });
  const expect = <K extends JobResult['kind']>(kind: K, r: JobResult): Extract<JobResult, { kind: K }> => {
    if (r.kind !== kind) {
      throw new Error(`load worker answered ${r.kind} to a ${kind} job`);
    }
    return r as Extract<JobResult, { kind: K }>;
  };
  return {
    async read(job) {
      return expect('read', await run({ kind: 'read', ...job }));
    },
    async ingest(job, onProgress) {
      return expect('ingest', await run({ kind: 'ingest', ...job }, onProgress));
    },
    async search(job) {
      return expect('search', await run({ kind: 'search', ...job }));
    },
    async close() {
      await worker.terminate();
    },
  };
}
