import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { JWK } from 'jose';
import type { Config } from '../config/load.ts';
import { openDatabase } from '../db/index.ts';
import type { ClientKey } from '../platform/identity/index.ts';
import { DEV_SYSTEM_CLIENT_ID, DEV_SYSTEM_KEY_FILE, clientCredentialsToken, registerBackendClient } from '../platform/identity/index.ts';

/** `dsd token` and `dsd client` (see docs/identity.md). */

/**
 * `dsd token --client ID --key FILE --scope S [--url U]` or `dsd token --dev-system [--scope S]`:
 * client_credentials with a signed assertion against a running server; prints the access token.
 * @param argv - arguments after `token`
 * @param config - configuration
 * @param out - stdout and stderr writers
 * @param out.stdout - writes to stdout
 * @param out.stderr - writes to stderr
 * @returns the exit code
 */
export async function tokenCommand(argv: readonly string[], config: Config, out: { stdout: (s: string) => void; stderr: (s: string) => void }): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: { client: { type: 'string' }, key: { type: 'string' }, scope: { type: 'string' }, url: { type: 'string' }, 'dev-system': { type: 'boolean' }, json: { type: 'boolean' } },
  });
  let clientId: string;
  let jwk: JWK;
  if (values['dev-system'] === true) {
    if (config.production) {
      out.stderr('dsd token --dev-system is a development tool and is refused when NODE_ENV=production.\n');
      return 1;
    }
    const file = path.join(config.dataDir, DEV_SYSTEM_KEY_FILE);
    try {
      ({ jwk } = JSON.parse(readFileSync(file, 'utf8')) as ClientKey);
    } catch {
      out.stderr(`No development client key at ${file}: start the server once (npm start) with this DSD_DATA_DIR; it creates the key.\n`);
      return 1;
    }
    clientId = DEV_SYSTEM_CLIENT_ID;
  } else {
    if (values.client === undefined || values.key === undefined || values.scope === undefined) {
      out.stderr('dsd token needs --client ID --key JWK-FILE --scope "system/…" (or --dev-system).\n');
      return 2;
    }
    clientId = values.client;
    const parsed = JSON.parse(readFileSync(values.key, 'utf8')) as JWK | ClientKey | { keys: JWK[] };
    jwk = 'jwk' in parsed ? parsed.jwk : 'keys' in parsed ? parsed.keys[0]! : parsed;
  }
  const base = (values.url ?? config.baseUrl).replace(/\/$/, '');
  try {
    const res = await clientCredentialsToken(`${base}/auth/token`, clientId, jwk, values.scope ?? 'system/*.rs');
    out.stdout(values.json === true ? `${JSON.stringify(res, null, 2)}\n` : `${res.access_token}\n`);
    return 0;
  } catch (err) {
    out.stderr(`${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/**
 * `dsd client add --id ID --jwks-file FILE --scope "system/…" [--name N]`: registers a backend
 * client (SMART Backend Services) directly in the database.
 * @param argv - arguments after `client`
 * @param config - configuration
 * @param out - writers
 * @param out.stdout - writes to stdout
 * @param out.stderr - writes to stderr
 * @returns the exit code
 */
export async function clientCommand(argv: readonly string[], config: Config, out: { stdout: (s: string) => void; stderr: (s: string) => void }): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'add') {
    out.stderr('Usage: dsd client add --id ID --jwks-file FILE --scope "system/Observation.rs …" [--name NAME]\n');
    return 2;
  }
  const { values } = parseArgs({ args: rest, options: { id: { type: 'string' }, 'jwks-file': { type: 'string' }, scope: { type: 'string' }, name: { type: 'string' } } });
  if (values.id === undefined || values['jwks-file'] === undefined || values.scope === undefined) {
    out.stderr('dsd client add needs --id, --jwks-file and --scope.\n');
    return 2;
  }
  const parsed = JSON.parse(readFileSync(values['jwks-file'], 'utf8')) as { keys?: JWK[] } & JWK;
  const jwks = { keys: parsed.keys ?? [parsed] };
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const meta = await registerBackendClient(db, { clientId: values.id, jwks, scope: values.scope, ...(values.name === undefined ? {} : { name: values.name }) });
    out.stdout(`Registered backend client ${meta.client_id} with scopes: ${meta.dsd_scope ?? ''}\n`);
    return 0;
  } catch (err) {
    out.stderr(`dsd client add: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  } finally {
    await db.close();
  }
}
