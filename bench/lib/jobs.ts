/** Messages between the benchmark (main thread, which also runs the server) and its load-generating worker. */

/** A failed request, kept for the report so the server author can see what went wrong. */
export interface ErrorSample {
  readonly path: string;
  readonly status: number;
  readonly body: string;
}

/** Fixed-duration closed-loop GETs of `pathPrefix + id` for random ids. */
export interface ReadJob {
  readonly kind: 'read';
  readonly port: number;
  readonly pathPrefix: string;
  /** Authorization header for every read (the access-controlled endpoint), if any. */
  readonly authorization?: string;
  readonly ids: readonly string[];
  readonly concurrency: number;
  readonly durationMs: number;
  readonly seed: number;
  readonly timeoutMs: number;
}

export interface ReadResult {
  readonly kind: 'read';
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  /** Latency of every successful request, ms. */
  readonly latencies: Float64Array<ArrayBuffer>;
  readonly errorSamples: readonly ErrorSample[];
}

/** Generate patient bundles from `firstIndex` on and POST them until `targetResources` or `maxMs`. */
export interface IngestJob {
  readonly kind: 'ingest';
  readonly port: number;
  readonly seed: number;
  readonly firstIndex: number;
  readonly targetResources: number;
  readonly concurrency: number;
  readonly maxMs: number;
  readonly timeoutMs: number;
  /** Keep (index, Patient id) of every n-th patient, for the search phase. */
  readonly sampleEvery: number;
  readonly maxSamples: number;
}

export interface IngestProgress {
  readonly bundles: number;
  readonly resources: number;
  readonly errors: number;
  readonly seconds: number;
}

export interface IngestResult {
  readonly kind: 'ingest';
  readonly bundles: number;
  readonly bundleErrors: number;
  /** Resources the server reported as created (2xx entry status). */
  readonly resources: number;
  readonly resourcesSent: number;
  readonly seconds: number;
  readonly stoppedByTime: boolean;
  readonly samples: readonly { readonly index: number; readonly id: string }[];
  /** Bundles whose response had no usable `response.location` for the Patient. */
  readonly missingLocations: number;
  readonly errorSamples: readonly ErrorSample[];
}

/** GET each path once (with `concurrency` in flight) until done or `maxMs` elapsed. */
export interface SearchJob {
  readonly kind: 'search';
  readonly port: number;
  readonly paths: readonly string[];
  readonly concurrency: number;
  readonly maxMs: number;
  readonly timeoutMs: number;
}

export interface SearchOutcome {
  readonly path: string;
  readonly status: number;
  readonly ms: number;
  /** Entries with search.mode 'match' (or no mode), -1 when the body was not a Bundle. */
  readonly matches: number;
  readonly total: number | undefined;
  readonly body: string | undefined;
}

export interface SearchResult {
  readonly kind: 'search';
  readonly outcomes: readonly SearchOutcome[];
  readonly seconds: number;
}

export type Job = ReadJob | IngestJob | SearchJob;
export type JobResult = ReadResult | IngestResult | SearchResult;

export interface JobRequest {
  readonly id: number;
  readonly job: Job;
}

export type JobReply =
  | { readonly id: number; readonly type: 'result'; readonly result: JobResult }
  | { readonly id: number; readonly type: 'progress'; readonly progress: IngestProgress }
  | { readonly id: number; readonly type: 'error'; readonly message: string };
