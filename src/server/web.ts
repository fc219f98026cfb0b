import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Serves the web front end (MinSundhed and Sundhedsjournalen, `src/web/`): the page at `/` and
 * `/app/...`, and its script and style sheet. The front end is bundled with esbuild in memory the
 * first time it is asked for (or when `buildWebBundle` is called at start), so `npm start` needs no
 * separate build step. The front end reaches data only through `/fhir` with the user's token.
 */

/** One built asset. */
export interface WebAsset {
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly etag: string;
  readonly type: string;
}

/** The built front end. */
export interface WebBundle {
  readonly js: WebAsset;
  readonly css: WebAsset;
  /** How long the bundling took. */
  readonly milliseconds: number;
}

const ENTRY = fileURLToPath(new URL('../web/main.tsx', import.meta.url));
let bundle: Promise<WebBundle> | undefined;

function asset(body: Buffer, type: string): WebAsset {
  return { body, gzip: gzipSync(body, { level: 9 }), etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`, type };
}

/**
 * Bundles the front end once per process (later calls share the result).
 * @returns the script and style sheet
 */
export function buildWebBundle(): Promise<WebBundle> {
  bundle ??= (async (): Promise<WebBundle> => {
    const started = performance.now();
    const out = await esbuild.build({
      entryPoints: [ENTRY],
      bundle: true,
      write: false,
      outdir: 'out',
      entryNames: 'app',
      format: 'esm',
      platform: 'browser',
      target: ['es2022'],
      minify: true,
      jsx: 'automatic',
      jsxImportSource: 'preact',
      legalComments: 'none',
      logLevel: 'silent',
    });
    const js = out.outputFiles.find((f) => f.path.endsWith('.js'));
    const css = out.outputFiles.find((f) => f.path.endsWith('.css'));
    if (js === undefined || css === undefined) {
      throw new Error('the front-end bundle has no script or no style sheet');
    }
    return {
      js: asset(Buffer.from(js.contents), 'text/javascript; charset=utf-8'),
      css: asset(Buffer.from(css.contents), 'text/css; charset=utf-8'),
      milliseconds: Math.round(performance.now() - started),
    };
  })();
  bundle.catch(() => {
    // A failed build is retried on the next request.
    bundle = undefined;
  });
  return bundle;
}

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/**
 * The HTML page every front-end URL answers with (the app routes in the browser).
 * @param baseUrl - the platform's public base URL (redirect URI and token audience follow it)
 * @param js - the script's ETag (cache busting)
 * @param css - the style sheet's ETag
 * @returns HTML
 */
function page(baseUrl: string, js: string, css: string): string {
  const v = (etag: string): string => encodeURIComponent(etag.replace(/"/g, ''));
  return `<!doctype html>
<html lang="da">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="dsd-base-url" content="${baseUrl.replace(/[&<>"]/g, '')}">
<title>MinSundhed – Digital Sundhed Danmark</title>
<link rel="stylesheet" href="/app/assets/app.css?v=${v(css)}">
<script type="module" src="/app/assets/app.js?v=${v(js)}"></script>
</head>
<body>
<div id="app"><main class="boot"><p>Indlæser MinSundhed …</p></main></div>
<noscript><p>MinSundhed kræver JavaScript. Slå JavaScript til i din browser, og genindlæs siden.</p></noscript>
</body>
</html>
`;
}

function sendAsset(req: FastifyRequest, reply: FastifyReply, a: WebAsset): void {
  void reply.header('content-type', a.type).header('etag', a.etag).header('cache-control', 'no-cache').header('vary', 'accept-encoding');
  if (req.headers['if-none-match'] === a.etag) {
    void reply.status(304).send('');
    return;
  }
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  if (gzip) {
    void reply.header('content-encoding', 'gzip');
  }
  void reply.send(gzip ? a.gzip : a.body);
}

/**
 * Mounts the front end on the app.
 * @param app - the Fastify app
 * @param opts - the public base URL
 * @param opts.baseUrl - `DSD_BASE_URL`
 */
export function mountWeb(app: FastifyInstance, opts: { baseUrl: string }): void {
  const html = async (_req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const b = await buildWebBundle();
    void reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', CSP)
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .header('x-content-type-options', 'nosniff')
      .send(page(opts.baseUrl, b.js.etag, b.css.etag));
  };
  app.get('/', html);
  app.get('/app', html);
  app.get('/app/*', async (req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    if (path === '/app/assets/app.js') {
      sendAsset(req, reply, (await buildWebBundle()).js);
      return;
    }
    if (path === '/app/assets/app.css') {
      sendAsset(req, reply, (await buildWebBundle()).css);
      return;
    }
    if (path.startsWith('/app/assets/')) {
      void reply.status(404).header('content-type', 'text/plain; charset=utf-8').send('Not found');
      return;
    }
    await html(req, reply);
  });
}
