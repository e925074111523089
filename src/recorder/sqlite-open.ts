/**
 * Opening the SQLite transcript store: the options, the store's public type and the open itself
 * (create or migrate, or open read-only a file this process may not write). The store's logic is
 * in sqlite-store.ts.
 */
import { accessSync, constants, existsSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCode, WardenError } from '../errors.js';
import { migrate, SCHEMA_VERSION, schemaVersion } from './sqlite-schema.js';
import { openReadonly } from './readonly-open.js';
import { storeError } from './store-errors.js';
import { AtRestRefusal, createPrivateFile, makePrivateDir, refuseLink, storeModeWarnings } from './at-rest.js';
import type { ApprovalTables } from './sqlite-approvals.js';
import type { ChainSigner } from './signing.js';
import { HeadRefusal, type StoreWarning } from './head-refusal.js';
import { requireSqliteSignedHead } from './head-adopt.js';
import { removeLegacyHead } from './sqlite-signed-head.js';
import { SqliteStore } from './sqlite-store.js';
import type { CallPreview } from './call-previews.js';
import type {
  CallFilter, CallRecord, ChainHeadInfo, ChainRecord, PurgeResult, RecoveryResult, SessionPage, SessionRecord, SessionSearch, TranscriptStore, VerifyResult,
} from './types.js';

/** Options for openSqliteStore. */
export interface SqliteStoreOptions {
  /** FULL (default): an fsync per write, durable across power loss. NORMAL: durable across process crash only. */
  synchronous?: 'FULL' | 'NORMAL';
  /**
   * Open for reading only (`warden transcripts list|show|replay|verify|head|export`, `warden approvals
   * list|show`; also any open of a file this process may not write). Writes then throw TRANSCRIPT.
   * Nothing is created, migrated, signed, recovered or checkpointed: a missing file is an error naming
   * the path, a schema other than this version's is refused (sqliteCheckReadableSchema).
   */
  readonly?: boolean;
  /** How long a write waits for another process's lock before failing (default 5000 ms). */
  busyTimeoutMs?: number;
  /** At open, mark calls left without an outcome by a dead process as interrupted (see markInterrupted). */
  recoverInterrupted?: boolean;
  /** Sign the chain head in every write's commit (private key) or check it on verify (public key). */
  signer?: ChainSigner;
  /** Told once when the key holder starts refusing to sign over the chain (head-refusal.ts); the server logs it. */
  onWarning?: StoreWarning;
  /** The refusal state shared by a store's connections (worker-store.ts); else one made for onWarning. */
  headRefusal?: HeadRefusal;
  /** `warden transcripts adopt-head` only: a non-empty store without a signed head is opened, not refused (head-adopt.ts). */
  adoptingHead?: boolean;
}

/** The SQLite store with its extras; why: the CLI and startup use listCalls, markInterrupted, verifyRange. */
export interface SqliteTranscriptStore extends TranscriptStore {
  listCalls(f?: CallFilter): Promise<CallRecord[]>;
  verifyRange(fromSeq: number, toSeq: number): Promise<VerifyResult>;
  markInterrupted(now?: string): Promise<RecoveryResult>;
  readRecords(fromSeq: number, limit: number): Promise<ChainRecord[]>;
  /** Reviewer queries (UI, replay, export); see sqlite-search.ts. */
  searchSessions(f: SessionSearch): Promise<SessionPage>;
  sessionInfo(id: string): Promise<SessionRecord | null>;
  sessionCalls(sessionId: string, afterSeq: number, limit: number): Promise<CallRecord[]>;
  getCall(id: string): Promise<CallRecord | null>;
  headSeq(): Promise<number>;
  chainHead(): Promise<ChainHeadInfo>;
  sessionRecords(sessionId: string, afterSeq: number, limit: number): Promise<ChainRecord[]>;
  /** The UI timeline's reads: calls with their texts cut to `chars` in SQL, and the approval events alone (call-previews.ts). */
  sessionCallPreviews(sessionId: string, afterSeq: number, limit: number, chars: number): Promise<CallPreview[]>;
  sessionEventRecords(sessionId: string, afterSeq: number, limit: number): Promise<ChainRecord[]>;
  readRecordsBetween(fromSeq: number, limit: number, since?: string, until?: string): Promise<ChainRecord[]>;
  /** Retention: remove whole sessions that ended before `before`, leaving a checkpoint record at the cut. */
  purge(before: string, now?: string): Promise<PurgeResult>;
  readonly path: string;
  readonly readonly: boolean;
  /** The raw connection, for tests and diagnostics only: writing through it breaks the chain. */
  readonly db: Database.Database;
  /** Approval requests and decisions (approval_event records in the same chain). */
  readonly approvals: ApprovalTables;
  /** Why the key holder last left the signed head as it was (a cut or rewritten chain), or null. */
  readonly signingRefused: string | null;
  /**
   * Run the write path's signed-head check now (serve, at startup): a refusal is reported
   * (signingRefused, onWarning with `found: startup`) before any write. The reason, or null.
   */
  checkHead(): Promise<string | null>;
}

/** Open (creating on first use) the SQLite transcript store; why: the default for one Warden host. */
export function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): SqliteTranscriptStore {
  let readonly = opts.readonly === true;
  let createdDir = false;
  if (path !== ':memory:') {
    try {
      if (!readonly && !existsSync(path)) {
        // Created here 0600 in a 0700 folder (at-rest.ts), exclusively: SQLite then gives its
        // -wal and -shm the store file's mode, whatever the umask. A dangling link is refused.
        createdDir = makePrivateDir(dirname(path));
        createPrivateFile(path, 'the transcript store path');
      }
      // SQLite opens -wal, -shm and -journal with O_CREAT, following a link planted there.
      const real = existsSync(path) ? realpathSync(path) : path;
      for (const suffix of ['-wal', '-shm', '-journal']) refuseLink(real + suffix, `the transcript store's ${suffix} file`);
    } catch (err) {
      throw storeError('open', err instanceof AtRestRefusal ? new WardenError(ErrorCode.TRANSCRIPT, `transcript store cannot open: ${err.message}`) : err);
    }
    if (!readonly) {
      try {
        accessSync(path, constants.W_OK);
      } catch {
        readonly = true; // a file we may not write: open it for reading, writes will throw
      }
    }
    for (const w of storeModeWarnings(path, createdDir)) opts.onWarning?.(w.message, w.fields);
  }
  let db: Database.Database | undefined;
  let store: SqliteStore | undefined;
  try {
    if (readonly && !existsSync(path)) {
      // A reader's wrong path or config must not leave an empty store (and its folder) behind.
      throw new WardenError(ErrorCode.TRANSCRIPT, `transcript store cannot open read-only: no transcript store at ${path} (check transcripts.store; \`warden serve\` creates the store, a read command never does)`, { path });
    }
    db = readonly ? openReadonly(path) : new Database(path);
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
    if (!readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${opts.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
      db.pragma('foreign_keys = ON');
      if (schemaVersion(db) > SCHEMA_VERSION) {
        throw new WardenError(ErrorCode.TRANSCRIPT, `transcript store cannot open: schema is newer than this Warden (${SCHEMA_VERSION})`);
      }
      // A store before v13 kept its signed head in a file beside it: copied in, then removed.
      if (migrate(db, SCHEMA_VERSION, path)) removeLegacyHead(path);
    } else sqliteCheckReadableSchema(db, path);
    store = new SqliteStore(path, readonly, db, opts.signer, opts.headRefusal ?? new HeadRefusal(opts.onWarning));
    store.synchronous = opts.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL';
    // A key holder writes only a store that is empty or has a signed head at its end (head-adopt.ts):
    // else refused here, before recovery writes anything, naming `warden transcripts adopt-head`.
    // Records beyond the signed head are never signed here: the head is signed in each commit.
    if (!readonly && !opts.adoptingHead) requireSqliteSignedHead(db, path, opts.signer);
    if (opts.recoverInterrupted && !readonly) store.recover(new Date().toISOString());
    return store;
  } catch (err) {
    void store?.close();
    if (db?.open) db.close();
    throw storeError('open', err);
  }
}

/**
 * Check, without writing, that a store opened read-only is at this Warden's schema version; why: a
 * reader cannot migrate, and reads (verify above all) expect this version's tables, so an older or
 * newer file is refused with what to do, as pgCheckReadableSchema does for PostgreSQL.
 */
function sqliteCheckReadableSchema(db: Database.Database, path: string): void {
  const at = schemaVersion(db);
  const refuse = (why: string) => new WardenError(ErrorCode.TRANSCRIPT, `transcript store cannot open read-only: ${why}`, { path, schemaVersion: at, reads: SCHEMA_VERSION });
  if (at === 0) throw refuse(`${path} is not a transcript store`);
  if (at < SCHEMA_VERSION) throw refuse(`schema version ${at}, older than the version ${SCHEMA_VERSION} this Warden reads: migrate with \`warden serve\` first (this version, as a user who may write the store)`);
  if (at > SCHEMA_VERSION) throw refuse(`schema version ${at}, newer than the version ${SCHEMA_VERSION} this Warden reads: upgrade Warden`);
}
