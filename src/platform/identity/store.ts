import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Queryable } from '../../db/index.ts';

/**
 * The only file with SQL for the identity service: the oidc-provider adapter (one table for
 * every provider artefact), signing keys, revocations, operator-registered clients and our own
 * login state. PostgreSQL (or PGlite) is the only server: there is no Redis.
 */

/** Called when a grant is revoked through the adapter (refresh token revoked or reused, code replayed). */
export type GrantRevokedListener = (grantId: string) => void;

interface OidcRow {
  payload: AdapterPayload;
  consumed_at: Date | string | null;
  [key: string]: unknown;
}

function rowToPayload(row: OidcRow | undefined): AdapterPayload | undefined {
  if (row === undefined) {
    return undefined;
  }
  const payload = typeof row.payload === 'string' ? (JSON.parse(row.payload) as AdapterPayload) : row.payload;
  if (row.consumed_at !== null) {
    return { ...payload, consumed: Math.floor(new Date(row.consumed_at).getTime() / 1000) };
  }
  return payload;
}

const LIVE = '(expires_at IS NULL OR expires_at > now())';

/**
 * An oidc-provider adapter on the `identity_oidc` table.
 * See: https://github.com/panva/node-oidc-provider/blob/main/example/my_adapter.js
 */
export class PostgresOidcAdapter implements Adapter {
  private readonly db: Queryable;
  private readonly model: string;
  private readonly onGrantRevoked: GrantRevokedListener | undefined;

  /**
   * @param db - the database
   * @param model - the provider's model name
   * @param onGrantRevoked - told about grant revocations (Grant model only)
   */
  constructor(db: Queryable, model: string, onGrantRevoked?: GrantRevokedListener) {
    this.db = db;
    this.model = model;
    this.onGrantRevoked = onGrantRevoked;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    await this.db.query(
      `INSERT INTO identity_oidc (model, id, payload, grant_id, user_code, uid, expires_at)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, CASE WHEN $7::int IS NULL THEN NULL ELSE now() + make_interval(secs => $7::int) END)
       ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
         user_code = EXCLUDED.user_code, uid = EXCLUDED.uid, expires_at = EXCLUDED.expires_at`,
      [this.model, id, JSON.stringify(payload), payload.grantId ?? null, payload.userCode ?? null, payload.uid ?? null, expiresIn === undefined || expiresIn <= 0 ? null : Math.ceil(expiresIn)],
    );
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const rows = await this.db.query<OidcRow>(`SELECT payload, consumed_at FROM identity_oidc WHERE model = $1 AND id = $2 AND ${LIVE}`, [this.model, id]);
    return rowToPayload(rows[0]);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const rows = await this.db.query<OidcRow>(`SELECT payload, consumed_at FROM identity_oidc WHERE model = $1 AND user_code = $2 AND ${LIVE}`, [this.model, userCode]);
    return rowToPayload(rows[0]);
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const rows = await this.db.query<OidcRow>(`SELECT payload, consumed_at FROM identity_oidc WHERE model = $1 AND uid = $2 AND ${LIVE}`, [this.model, uid]);
    return rowToPayload(rows[0]);
  }

  async consume(id: string): Promise<void> {
    await this.db.query('UPDATE identity_oidc SET consumed_at = now() WHERE model = $1 AND id = $2', [this.model, id]);
  }

  async destroy(id: string): Promise<void> {
    await this.db.query('DELETE FROM identity_oidc WHERE model = $1 AND id = $2', [this.model, id]);
    if (this.model === 'Grant') {
      // Every JWT access token issued under the grant stops working too.
      this.onGrantRevoked?.(id);
    }
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.db.query('DELETE FROM identity_oidc WHERE model = $1 AND grant_id = $2', [this.model, grantId]);
    this.onGrantRevoked?.(grantId);
  }
}

/**
 * Reads one of our own records (login state, login context) kept in the provider table.
 * @param db - database
 * @param model - record kind
 * @param id - key
 * @returns the stored value or undefined when absent or expired
 */
export async function findRecord<T>(db: Queryable, model: string, id: string): Promise<T | undefined> {
  const rows = await db.query<{ payload: unknown }>(`SELECT payload FROM identity_oidc WHERE model = $1 AND id = $2 AND ${LIVE}`, [model, id]);
  const p = rows[0]?.payload;
  return (typeof p === 'string' ? JSON.parse(p) : p) as T | undefined;
}

/**
 * Stores one of our own records; a record keyed by a grant id is deleted with the grant.
 * @param db - database
 * @param model - record kind
 * @param id - key
 * @param value - JSON-serialisable value
 * @param expiresIn - seconds to keep it
 * @param grantId - the grant it belongs to, if any
 */
export async function upsertRecord(db: Queryable, model: string, id: string, value: unknown, expiresIn: number, grantId?: string): Promise<void> {
  await db.query(
    `INSERT INTO identity_oidc (model, id, payload, grant_id, expires_at) VALUES ($1, $2, $3::jsonb, $4, now() + make_interval(secs => $5::int))
     ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id, expires_at = EXCLUDED.expires_at`,
    [model, id, JSON.stringify(value), grantId ?? null, Math.ceil(expiresIn)],
  );
}

/**
 * Inserts or replaces a client (operator registration and the seeded first-party clients).
 * @param db - database
 * @param metadata - the client metadata (RFC 7591 names), with client_id
 */
export async function upsertClient(db: Queryable, metadata: AdapterPayload & { client_id: string }): Promise<void> {
  await db.query(
    `INSERT INTO identity_oidc (model, id, payload) VALUES ('Client', $1, $2::jsonb)
     ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, expires_at = NULL`,
    [metadata.client_id, JSON.stringify(metadata)],
  );
}

/**
 * Reads a client's metadata.
 * @param db - database
 * @param clientId - the client id
 * @returns the metadata or undefined
 */
export async function findClient(db: Queryable, clientId: string): Promise<AdapterPayload | undefined> {
  return findRecord<AdapterPayload>(db, 'Client', clientId);
}

/**
 * Returns the named key material, creating it with `make` when absent. Concurrent first starts
 * of several nodes agree: the first insert wins and every node reads it back.
 * @param db - database
 * @param name - key name
 * @param make - generates the material
 * @returns the stored material
 */
export async function ensureKey<T>(db: Queryable, name: string, make: () => Promise<T>): Promise<T> {
  const existing = await db.query<{ material: unknown }>('SELECT material FROM identity_key WHERE name = $1', [name]);
  if (existing[0] === undefined) {
    const material = await make();
    await db.query('INSERT INTO identity_key (name, material) VALUES ($1, $2::jsonb) ON CONFLICT (name) DO NOTHING', [name, JSON.stringify(material)]);
  }
  const rows = await db.query<{ material: unknown }>('SELECT material FROM identity_key WHERE name = $1', [name]);
  const m = rows[0]!.material;
  return (typeof m === 'string' ? JSON.parse(m) : m) as T;
}

/** A revocation: a JWT access token id or a grant id. */
export interface Revocation {
  readonly seq: number;
  readonly kind: 'jti' | 'grant';
  readonly value: string;
  readonly expiresAt: number;
}

/**
 * Records a revocation (idempotent).
 * @param db - database
 * @param kind - `jti` or `grant`
 * @param value - the token id or grant id
 * @param expiresAt - epoch seconds after which no affected token can be valid anyway
 */
export async function insertRevocation(db: Queryable, kind: Revocation['kind'], value: string, expiresAt: number): Promise<void> {
  await db.query(
    `INSERT INTO identity_revocation (kind, value, expires_at) VALUES ($1, $2, to_timestamp($3))
     ON CONFLICT (kind, value) DO UPDATE SET expires_at = GREATEST(identity_revocation.expires_at, EXCLUDED.expires_at)`,
    [kind, value, expiresAt],
  );
}

/**
 * Revocations recorded after `afterSeq` that have not yet expired.
 * @param db - database
 * @param afterSeq - the last sequence number seen
 * @returns the new revocations, in order
 */
export async function findRevocationsAfter(db: Queryable, afterSeq: number): Promise<Revocation[]> {
  const rows = await db.query<{ seq: string | number; kind: string; value: string; exp: string | number }>(
    'SELECT seq, kind, value, extract(epoch FROM expires_at)::float8 AS exp FROM identity_revocation WHERE seq > $1 AND expires_at > now() ORDER BY seq',
    [afterSeq],
  );
  return rows.map((r) => ({ seq: Number(r.seq), kind: r.kind === 'grant' ? 'grant' : 'jti', value: r.value, expiresAt: Number(r.exp) }));
}

/**
 * The highest revocation sequence number (0 when none).
 * @param db - database
 * @returns the sequence number
 */
export async function findMaxRevocationSeq(db: Queryable): Promise<number> {
  const rows = await db.query<{ seq: string | number | null }>('SELECT max(seq) AS seq FROM identity_revocation');
  return Number(rows[0]?.seq ?? 0);
}

/**
 * Deletes expired provider artefacts and revocations.
 * @param db - database
 */
export async function deleteExpired(db: Queryable): Promise<void> {
  await db.query('DELETE FROM identity_oidc WHERE expires_at < now()');
  await db.query('DELETE FROM identity_revocation WHERE expires_at < now()');
}
