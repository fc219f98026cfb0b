import http from 'node:http';

/** The outcome of one HTTP exchange; status 0 means no response (connection error or timeout). */
export interface HttpResult {
  readonly status: number;
  readonly ms: number;
  /** The body, when it was asked for (see `keepBody`). */
  readonly body: string | undefined;
  readonly error: string | undefined;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: string;
  /** 'always' keeps every body, 'error' only bodies of non-2xx responses (cheapest for load loops). */
  readonly keepBody: 'always' | 'error';
  readonly timeoutMs: number;
}

/** A keep-alive HTTP client for one server (host 127.0.0.1). */
export interface HttpClient {
  send(request: HttpRequest): Promise<HttpResult>;
  close(): void;
}

/**
 * Creates a keep-alive client with at most `maxSockets` connections.
 * @param port - the server's port on 127.0.0.1
 * @param maxSockets - connection pool size (the load's concurrency)
 * @param authorization - Authorization header sent with every request (e.g. `Bearer …`)
 * @returns the client
 */
export function createHttpClient(port: number, maxSockets: number, authorization?: string): HttpClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  return {
    send(request: HttpRequest): Promise<HttpResult> {
      return new Promise((resolve) => {
        const started = performance.now();
        let settled = false;
        const finish = (status: number, body: string | undefined, error: string | undefined): void => {
          if (!settled) {
            settled = true;
            resolve({ status, ms: performance.now() - started, body, error });
          }
        };
        const headers: Record<string, string | number> = { accept: 'application/fhir+json', ...(authorization === undefined ? {} : { authorization }) };
        if (request.body !== undefined) {
          headers['content-type'] = 'application/fhir+json';
          headers['content-length'] = Buffer.byteLength(request.body);
        }
        const req = http.request({ host: '127.0.0.1', port, method: request.method, path: request.path, agent, headers }, (res) => {
          const status = res.statusCode ?? 0;
          const keep = request.keepBody === 'always' || status < 200 || status > 299;
          if (!keep) {
            res.on('end', () => finish(status, undefined, undefined));
            res.on('error', (err) => finish(0, undefined, err.message));
            res.resume();
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => finish(status, Buffer.concat(chunks).toString('utf8'), undefined));
          res.on('error', (err) => finish(0, undefined, err.message));
        });
        req.setTimeout(request.timeoutMs, () => {
          req.destroy(new Error(`timeout after ${request.timeoutMs} ms`));
        });
        req.on('error', (err) => finish(0, undefined, err.message));
        if (request.body !== undefined) {
          req.end(request.body);
        } else {
          req.end();
        }
      });
    },
    close(): void {
      agent.destroy();
    },
  };
}
