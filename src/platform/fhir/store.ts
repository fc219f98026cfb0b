import type { Queryable } from '../../db/index.ts';
import type { Bind } from './access.ts';
import { toDbTime } from './search/dates.ts';
import type { IndexRows } from './search/extract.ts';

/**
 * The SQL of resource storage: current versions, history and the search index tables.
 * Everything here takes the Queryable to run on (the database or the caller's transaction).
 */

export interface StoredVersion {
  readonly rid: string;
  readonly versionId: number;
  readonly lastUpdated: number;
  readonly deleted: boolean;
  readonly content: string;
  /** Patient compartments of the current row (empty for history versions). */
  readonly compartments: readonly string[];
}

/** An access predicate over a `resource` row alias (see access.ts). */
export type RowFilter = (alias: string, bind: Bind) => string;

/** Builds bound-parameter SQL: the filter's values are appended after the caller's. */
function bindTo(params: unknown[]): Bind {
  return (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
}

/** One version to write. */
export interface VersionWrite {
  readonly resourceType: string;
  readonly id: string;
  readonly versionId: number;
  readonly lastUpdated: string;
  readonly deleted: boolean;
  readonly method: string;
  readonly content: string;
  readonly compartments: readonly string[];
  /** Index rows with parameter codes already mapped to ids (empty for deletes). */
  readonly index: IndexRows | undefined;
  /** Normalised text of the whole resource and of its narrative, for _content and _text. */
  readonly searchText?: string;
  readonly narrative?: string;
}

interface VersionRow extends Record<string, unknown> {
  rid: string;
  version_id: number;
  ms: number | string;
  deleted: boolean;
  content: string;
  compartments?: string[] | null;
}

function toVersion(r: VersionRow): StoredVersion {
  return { rid: String(r.rid), versionId: Number(r.version_id), lastUpdated: Number(r.ms), deleted: r.deleted, content: r.content, compartments: r.compartments ?? [] };
}

/**
 * Reads the current version of a resource.
 * @param q - database or transaction
 * @param resourceType - type
 * @param id - logical id
 * @param forUpdate - lock the row until the transaction ends
 * @param filter - access predicate: a row outside it is reported as not found
 * @returns the version, or undefined when the resource never existed
 */
export async function findCurrent(q: Queryable, resourceType: string, id: string, forUpdate = false, filter?: RowFilter): Promise<StoredVersion | undefined> {
  const params: unknown[] = [resourceType, id];
  const cond = filter === undefined ? '' : ` AND (${filter('r', bindTo(params))})`;
  const rows = await q.query<VersionRow>(
    `SELECT r.rid::text AS rid, r.version_id, (extract(epoch FROM r.last_updated) * 1000)::float8 AS ms, r.deleted, r.content, r.compartments
       FROM resource r WHERE r.resource_type = $1 AND r.id = $2${cond}${forUpdate ? ' FOR UPDATE' : ''}`,
    params,
  );
  return rows[0] === undefined ? undefined : toVersion(rows[0]);
}

/**
 * Reads one version from history.
 * @param q - database or transaction
 * @param resourceType - type
 * @param id - logical id
 * @param versionId - version
 * @param filter - access predicate on the resource's current row
 * @returns the version, or undefined
 */
export async function findVersion(q: Queryable, resourceType: string, id: string, versionId: number, filter?: RowFilter): Promise<StoredVersion | undefined> {
  const params: unknown[] = [resourceType, id, versionId];
  // History rows are judged by the resource's current row (its compartments and type).
  const cond = filter === undefined ? '' : ` AND EXISTS (SELECT 1 FROM resource r WHERE r.resource_type = h.resource_type AND r.id = h.id AND (${filter('r', bindTo(params))}))`;
  const rows = await q.query<VersionRow>(
    `SELECT '0' AS rid, h.version_id, (extract(epoch FROM h.last_updated) * 1000)::float8 AS ms, h.deleted, h.content
       FROM resource_history h WHERE h.resource_type = $1 AND h.id = $2 AND h.version_id = $3${cond}`,
    params,
  );
  return rows[0] === undefined ? undefined : toVersion(rows[0]);
}

/**
 * Writes new versions in one call: upserts the current rows, appends history, replaces the index
 * rows, then checks references. One call (not one statement per table) because every statement is
 * a round trip to the server, and a transaction Bundle of a patient's record writes into nine
 * tables. The SQL is the function fhir_write_versions (migration 0016), which keeps its plans.
 * @param q - the transaction
 * @param writes - versions to write (at most one per resource)
 * @param check - references that must point at a current resource once the versions are written
 * @returns the checked references that point at none, as Type/id
 */
export async function insertVersions(q: Queryable, writes: readonly VersionWrite[], check: readonly { type: string; id: string }[] = []): Promise<string[]> {
  if (writes.length === 0) {
    return findMissingTargets(q, check);
  }
  // Index rows name their resource by its position k (1-based) in `writes`; the function joins k
  // to the row id the upsert returns.
  const columns = indexColumns(writes.map((w, i) => ({ rid: String(i + 1), index: w.index, text: w.deleted ? undefined : w.searchText, narrative: w.narrative })));
  const rows = await q.query<{ missing: string }>(WRITE_VERSIONS_SQL, [
    writes.map((w) => w.resourceType),
    writes.map((w) => w.id),
    writes.map((w) => w.versionId),
    writes.map((w) => w.lastUpdated),
    writes.map((w) => w.deleted),
    writes.map((w) => w.method),
    writes.map((w) => w.content),
    writes.map((w) => w.compartments.join(' ')),
    ...INDEX_TABLE_COLUMNS.flatMap((t) => columns[t.table]),
    check.map((r) => r.type),
    check.map((r) => r.id),
  ]);
  return rows.map((r) => r.missing);
}

/** The index tables with their columns after `rid` and the element types of their unnest arrays. */
const INDEX_TABLE_COLUMNS = [
  { table: 'idx_token', columns: ['param', 'grp', 'system', 'code', 'text_norm', 'type_system', 'type_code'], types: ['int', 'int', 'text', 'text', 'text', 'text', 'text'] },
  { table: 'idx_string', columns: ['param', 'grp', 'norm', 'exact'], types: ['int', 'int', 'text', 'text'] },
  { table: 'idx_date', columns: ['param', 'grp', 'lo', 'hi'], types: ['int', 'int', 'timestamptz', 'timestamptz'] },
  { table: 'idx_number', columns: ['param', 'grp', 'value'], types: ['int', 'int', 'numeric'] },
  { table: 'idx_quantity', columns: ['param', 'grp', 'value', 'system', 'code', 'unit_norm'], types: ['int', 'int', 'numeric', 'text', 'text', 'text'] },
  { table: 'idx_reference', columns: ['param', 'grp', 'target_type', 'target_id', 'url'], types: ['int', 'int', 'text', 'text', 'text'] },
  { table: 'idx_uri', columns: ['param', 'grp', 'value'], types: ['int', 'int', 'text'] },
  { table: 'idx_text', columns: ['narrative', 'content'], types: ['text', 'text'] },
] as const;

type IndexTable = (typeof INDEX_TABLE_COLUMNS)[number]['table'];

/** `INSERT … SELECT * FROM unnest(…)` of one index table, its arrays bound from parameter `first` on. */
function unnestSelect(t: (typeof INDEX_TABLE_COLUMNS)[number], first: number): { list: string; args: string } {
  const types = ['bigint', ...t.types];
  return { list: ['rid', ...t.columns].join(', '), args: types.map((ty, i) => `$${first + i}::${ty}[]`).join(', ') };
}

/** The call of `insertVersions`: $1–$8 the versions, then each index table's arrays, then the references to check. */
const WRITE_VERSIONS_SQL = (() => {
  const count = 8 + INDEX_TABLE_COLUMNS.reduce((n, t) => n + t.columns.length + 1, 0) + 2;
  return `SELECT m AS missing FROM fhir_write_versions(${Array.from({ length: count }, (_, i) => `$${i + 1}`).join(', ')}) AS m`;
})();

/**
 * Removes the index rows of resources (before re-indexing them).
 * @param q - the transaction
 * @param rids - internal row ids
 */
export async function deleteIndexRows(q: Queryable, rids: readonly string[]): Promise<void> {
  for (const t of INDEX_TABLE_COLUMNS) {
    await q.query(`DELETE FROM ${t.table} WHERE rid = ANY($1::bigint[])`, [rids]);
  }
}

/** Index rows of one resource whose parameter codes were mapped to ids (the `code` fields hold ids as strings). */
export interface IndexedResource {
  readonly rid: string;
  readonly index: IndexRows | undefined;
  /** Normalised text for _content, undefined for deletes. */
  readonly text: string | undefined;
  readonly narrative?: string;
}

/** Each index table's rows as column arrays (`rid` first), in the order of INDEX_TABLE_COLUMNS. */
function indexColumns(items: readonly IndexedResource[]): Record<IndexTable, unknown[][]> {
  const cols = Object.fromEntries(INDEX_TABLE_COLUMNS.map((t) => [t.table, Array.from({ length: t.columns.length + 1 }, () => [] as unknown[])])) as Record<IndexTable, unknown[][]>;
  const push = (table: IndexTable, values: readonly unknown[]): void => {
    const c = cols[table];
    for (let i = 0; i < values.length; i++) {
      c[i]!.push(values[i]);
    }
  };
  for (const { rid, index, text, narrative } of items) {
    if (text !== undefined) {
      push('idx_text', [rid, narrative ?? '', text]);
    }
    if (index === undefined) {
      continue;
    }
    for (const t of index.token) {
      push('idx_token', [rid, t.code, t.grp, t.row.system, t.row.code, t.row.text, t.row.typeSystem ?? null, t.row.typeCode ?? null]);
    }
    for (const x of index.string) {
      push('idx_string', [rid, x.code, x.grp, x.row.norm, x.row.exact]);
    }
    for (const d of index.date) {
      push('idx_date', [rid, d.code, d.grp, toDbTime(d.row.lo), toDbTime(d.row.hi)]);
    }
    for (const n of index.number) {
      push('idx_number', [rid, n.code, n.grp, String(n.value)]);
    }
    for (const x of index.quantity) {
      push('idx_quantity', [rid, x.code, x.grp, String(x.row.value), x.row.system, x.row.code, x.row.unit]);
    }
    for (const r of index.reference) {
      push('idx_reference', [rid, r.code, r.grp, r.row.targetType, r.row.targetId, r.row.url]);
    }
    for (const u of index.uri) {
      push('idx_uri', [rid, u.code, u.grp, u.value]);
    }
  }
  return cols;
}

/**
 * Inserts index rows for many resources, one statement per table that has rows.
 * @param q - the transaction
 * @param items - resources with their rows (param codes already replaced by ids)
 */
export async function insertIndexRows(q: Queryable, items: readonly IndexedResource[]): Promise<void> {
  const cols = indexColumns(items);
  for (const t of INDEX_TABLE_COLUMNS) {
    const c = cols[t.table];
    if (c[0]!.length > 0) {
      const { list, args } = unnestSelect(t, 1);
      await q.query(`INSERT INTO ${t.table} (${list}) SELECT * FROM unnest(${args})`, c);
    }
  }
}

/**
 * Interns search parameter codes per resource type as small integer ids.
 * @param q - the database, or the transaction that registers new parameters
 * @param pairs - [resourceType, code] pairs
 * @returns the pairs with their ids
 */
export async function internParams(q: Queryable, pairs: readonly (readonly [string, string])[]): Promise<{ resourceType: string; code: string; id: number }[]> {
  if (pairs.length === 0) {
    return [];
  }
  const args = [pairs.map((p) => p[0]), pairs.map((p) => p[1])];
  // Sorted, so that concurrent transactions registering overlapping pairs lock them in one order.
  await q.query(`INSERT INTO search_param (resource_type, code) SELECT * FROM unnest($1::text[], $2::text[]) AS u(rt, code) ORDER BY rt, code ON CONFLICT DO NOTHING`, args);
  // Only the pairs asked for: re-reading the whole table made every SearchParameter write slow.
  const rows = await q.query<{ id: number; resource_type: string; code: string }>(
    'SELECT s.id, s.resource_type, s.code FROM search_param s JOIN unnest($1::text[], $2::text[]) AS u(rt, code) ON s.resource_type = u.rt AND s.code = u.code',
    args,
  );
  return rows.map((r) => ({ resourceType: r.resource_type, code: r.code, id: Number(r.id) }));
}

/**
 * @param q - database
 * @returns the internal row ids and contents of all current resources of a type, in pages
 * @param resourceType - type
 * @param afterRid - paging cursor
 * @param limit - page size
 */
export async function findResourcesForReindex(q: Queryable, resourceType: string, afterRid: string, limit: number): Promise<{ rid: string; content: string }[]> {
  return q.query<{ rid: string; content: string }>(
    `SELECT rid::text AS rid, content FROM resource WHERE resource_type = $1 AND NOT deleted AND rid > $2::bigint ORDER BY rid LIMIT $3`,
    [resourceType, afterRid, limit],
  );
}

/** A history entry. */
export interface HistoryRow {
  readonly resourceType: string;
  readonly id: string;
  readonly versionId: number;
  readonly lastUpdated: number;
  readonly deleted: boolean;
  readonly method: string;
  readonly content: string;
  /** Compartments of the resource's current row. */
  readonly compartments: readonly string[];
}

/**
 * Reads history newest first, at instance (type and id), type (type only) or system level.
 * @param q - database
 * @param filter - level and bounds
 * @param rowFilter - access predicate on each resource's current row
 * @returns one page of entries and whether more follow
 */
export async function findHistory(
  q: Queryable,
  filter: { resourceType?: string; id?: string; since?: string; at?: string; offset: number; count: number },
  rowFilter?: RowFilter,
): Promise<HistoryRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.resourceType !== undefined) {
    params.push(filter.resourceType);
    where.push(`h.resource_type = $${params.length}`);
  }
  if (filter.id !== undefined) {
    params.push(filter.id);
    where.push(`h.id = $${params.length}`);
  }
  if (filter.since !== undefined) {
    params.push(filter.since);
    where.push(`h.last_updated >= $${params.length}::timestamptz`);
  }
  if (filter.at !== undefined) {
    params.push(filter.at);
    where.push(`h.last_updated <= $${params.length}::timestamptz`);
  }
  if (rowFilter !== undefined) {
    where.push(`EXISTS (SELECT 1 FROM resource r WHERE r.resource_type = h.resource_type AND r.id = h.id AND (${rowFilter('r', bindTo(params))}))`);
  }
  params.push(filter.count + 1, filter.offset);
  const rows = await q.query<{ resource_type: string; id: string; version_id: number; ms: number; deleted: boolean; method: string; content: string; compartments: string[] | null }>(
    `SELECT h.resource_type, h.id, h.version_id, (extract(epoch FROM h.last_updated) * 1000)::float8 AS ms, h.deleted, h.method, h.content,
            (SELECT r.compartments FROM resource r WHERE r.resource_type = h.resource_type AND r.id = h.id) AS compartments
       FROM resource_history h ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY h.last_updated DESC, h.resource_type, h.id, h.version_id DESC
      LIMIT $${params.length - 1} OFFSET $${params.length}`,
    params,
  );
  return rows.map((r) => ({ resourceType: r.resource_type, id: r.id, versionId: Number(r.version_id), lastUpdated: Number(r.ms), deleted: r.deleted, method: r.method, content: r.content, compartments: r.compartments ?? [] }));
}

/**
 * Counts rows and versions (used by tests and operations to prove that nothing changed).
 * @param q - database
 * @returns resource and history row counts
 */
export async function countStored(q: Queryable): Promise<{ resources: number; versions: number }> {
  const rows = await q.query<{ r: number; v: number }>('SELECT (SELECT count(*) FROM resource)::int AS r, (SELECT count(*) FROM resource_history)::int AS v');
  return { resources: Number(rows[0]?.r ?? 0), versions: Number(rows[0]?.v ?? 0) };
}

/**
 * Of the given references, returns those that do not point at a current resource.
 * @param q - database or transaction
 * @param refs - type and id pairs
 * @returns the missing ones as 'Type/id'
 */
export async function findMissingTargets(q: Queryable, refs: readonly { type: string; id: string }[]): Promise<string[]> {
  if (refs.length === 0) {
    return [];
  }
  const rows = await q.query<{ rt: string; id: string }>(
    `SELECT u.rt, u.id FROM unnest($1::text[], $2::text[]) AS u(rt, id)
      WHERE NOT EXISTS (SELECT 1 FROM resource r WHERE r.resource_type = u.rt AND r.id = u.id AND NOT r.deleted)`,
    [refs.map((r) => r.type), refs.map((r) => r.id)],
  );
  return rows.map((r) => `${r.rt}/${r.id}`);
}
