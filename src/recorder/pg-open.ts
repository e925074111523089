/**
 * Opening the PostgreSQL store (pg-store.ts): the pool with the transcript session settings, the
 * schema migration, the first signed head, liveness and the recovery sweep (for an auditor, none
 * of them: pg-readonly.ts); and the types the server, CLI and UI use for any store.
 */
import { randomBytes } from 'node:crypto';
import '../pg-stream-probe.js'; // before pg: spares its probe loading Node's fetch
import pg from 'pg';
import { ErrorCode, WardenError } from '../errors.js';
import { pgUrlSessionParams } from '../tool-api.js';
import type { PgApprovalTables } from './pg-approvals.js';
import type { RateCounterStore } from './pg-rate-counters.js';
import { pgStoreError } from './pg-errors.js';
import { pgMigrate } from './pg-schema.js';
import { PG_READ_ONLY_SETTINGS, pgCheckReadableSchema } from './pg-readonly.js';
import { PgStore } from './pg-store.js';
import { pgRequireSignedHead } from './pg-signed-head.js';
import type { ChainSigner } from './signing.js';
import { HeadRefusal, type StoreWarning } from './head-refusal.js';
import type { ApprovalStore } from './approval-store.js';
import type { SqliteTranscriptStore } from './sqlite-open.js';

/** Any store the server, CLI and UI can run on; why: SQLite and PostgreSQL stores are interchangeable. */
export type WardenStore = Omit<SqliteTranscriptStore, 'db' | 'path' | 'readonly' | 'approvals'> & { readonly approvals: ApprovalStore };

/** Options for openPgStore. */
export interface PgStoreOptions {
  /** At open (and then every recoverEveryMs), mark calls of dead replicas as interrupted. */
  recoverInterrupted?: boolean;
  recoverEveryMs?: number;
  /** Pool bound (default 10). */
  poolSize?: number;
  /** Server-side statement_timeout and client-side query timeout (default 15 s). */
  statementTimeoutMs?: number;
  /** How long to wait for a connection (default 5 s). */
  connectTimeoutMs?: number;
  /** Sign the chain head after every write (private key) or check it on verify (public key). */
  signer?: ChainSigner;
  /**
   * How long another replica's liveness lock must stay free before it counts as dead: its calls
   * marked interrupted, its sessions closed, its rate-limit concurrency slots freed (default 5 s;
   * pg-liveness-sql.ts LIVENESS_GRACE_MS): a live replica reconnecting its liveness connection
   * keeps its calls, sessions and slots.
   */
  livenessGraceMs?: number;
  /** Told once when the key holder starts refusing to sign over the chain (head-refusal.ts); the server logs it. */
  onWarning?: StoreWarning;
  /** `warden transcripts adopt-head` only: a non-empty store without a signed head is opened, not refused (head-adopt.ts). */
  adoptingHead?: boolean;
  /**
   * Open for an auditor (pg-readonly.ts): no migration (the schema version checked instead), no
   * signing, no liveness, no recovery, and every connection read-only with `row_security = off`;
   * writes fail. Why: `warden transcripts verify|list|...` with a role that has only SELECT.
   */
  readOnly?: boolean;
  /** The role that must own every table of the store, for verify (transcripts.owner, pg-verify-privileges.ts); unset: see there. */
  tableOwner?: string;
  /** Roles verify trusts like the owner in its role and schema checks (transcripts.trusted_roles, pg-verify-roles.ts). */
  trustedRoles?: readonly string[];
}

/** The PostgreSQL store with its extras. */
export interface PgTranscriptStore extends WardenStore {
  readonly kind: 'postgres';
  readonly approvals: PgApprovalTables;
  /** A value every replica shares (created by the first one); why: one masking hash key for all. */
  sharedSetting(name: string, create: () => string): Promise<string>;
  /** The cluster's system identifier (null: the store's role may not read it); why: a connection on this cluster must not reach the store (tools/postgres/outbound-reach.ts). */
  clusterId(): Promise<string | null>;
  /** This replica's owner tag (host, pid, instance, lock key). */
  readonly owner: string;
  /** Rate-limit counters every replica shares (pg-rate-counters.ts). */
  readonly rateCounters: RateCounterStore;
  /** How long another replica's lock must stay free before it counts as dead (transcripts.liveness_grace). */
  readonly livenessGraceMs: number;
}

const INT8 = 20;
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser,
};

/** Whether a store spec names PostgreSQL; why: runtime and CLI choose the store by its URL. */
export function isPgUrl(spec: string): boolean {
  return /^postgres(ql)?:\/\//i.test(spec);
}

/** Open (migrating on first use) the PostgreSQL store; why: several replicas share one chain. */
export async function openPgStore(url: string, opts: PgStoreOptions = {}): Promise<PgTranscriptStore> {
  // pg would read these over `options` below: synchronous_commit=on, the timeouts, an auditor's read-only session (src/pg-url-params.ts).
  const session = pgUrlSessionParams(url);
  if (session.length) {
    throw new WardenError(ErrorCode.CONFIG, `transcript store URL carries session parameters (${session.join(', ')}); pg would apply them over the settings Warden gives every store session (synchronous_commit, statement_timeout, an auditor's read-only); a URL holds the address, login and TLS only: remove them`, { reason: 'session parameters in the store URL' });
  }
  const timeout = Math.max(1000, opts.statementTimeoutMs ?? 15_000);
  const clientConfig: pg.ClientConfig = {
    connectionString: url,
    types: TYPES,
    application_name: 'warden-transcripts',
    keepAlive: true,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
    query_timeout: timeout + 5000,
    // synchronous_commit on whatever the server default: a write returns only once it is in the WAL on disk.
    options: `-c statement_timeout=${timeout} -c idle_in_transaction_session_timeout=${timeout * 2} -c synchronous_commit=on${opts.readOnly ? ` ${PG_READ_ONLY_SETTINGS}` : ''}`,
  };
  const pool = new pg.Pool({ ...clientConfig, max: Math.max(2, opts.poolSize ?? 10), idleTimeoutMillis: 30_000 });
  pool.on('error', () => undefined); // an idle connection died; the next checkout opens a new one
  // A checked-out connection that dies emits 'error' after failing its query; unheard, that ended
  // the process. The query's failure fails the write (fail closed) and the client is not reused.
  pool.on('connect', (client) => client.on('error', () => undefined));
  let store: PgStore | undefined;
  try {
    const c = await pool.connect();
    try {
      await (opts.readOnly ? pgCheckReadableSchema(c) : pgMigrate(c));
    } finally {
      c.release();
    }
    store = new PgStore(pool, clientConfig, opts.signer, opts.livenessGraceMs, new HeadRefusal(opts.onWarning), opts);
    if (opts.readOnly) return store; // reads only: nothing to sign, no liveness to hold, no one else's calls to settle
    // A key holder writes only a chain that is empty or has a signed head (head-adopt.ts).
    if (opts.signer && !opts.adoptingHead) await pgRequireSignedHead(pool, opts.signer);
    await store.holdLiveness();
    if (opts.recoverInterrupted) {
      await store.markInterrupted();
      await store.rateCounters.sweep().catch(() => undefined);
      store.startSweeps(opts.recoverEveryMs ?? 15_000);
    }
    return store;
  } catch (e) {
    if (store) await store.close();
    else await pool.end().catch(() => undefined);
    throw pgStoreError('open', e instanceof Error && /newer than this Warden/.test(e.message) ? new WardenError(ErrorCode.TRANSCRIPT, `transcript store cannot open: ${e.message}`) : e);
  }
}

/** A fresh random hex key; why: the shared masking key's first value. */
export function randomKey(): string {
  return randomBytes(32).toString('hex');
}
