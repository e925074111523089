/**
 * The PostgreSQL store's schema and migrations (several replicas share one database). The same
 * tables as the SQLite file, plus `chain_head` (the one row every append locks, so that the hash
 * chain stays one chain whoever writes), `settings` (values all replicas must share) and
 * `replicas` (who is writing; liveness is an advisory lock each replica holds, and
 * `liveness_marks` when a free one was first seen, pg-liveness-sql.ts), and the rate-limit
 * counters every replica checks (pg-rate-sql.ts).
 */
import type pg from 'pg';
import { GENESIS_HASH, RECORD_KINDS } from './hash-chain.js';
import { PENDING_INDEX } from './approval-queue-sql.js';
import { PG_APPROVAL_CALL_INDEX, PG_EVENT_CALL } from './session-records-sql.js';
import { livenessMarksMigration } from './pg-liveness-sql.js';
import { rateCountersMigration, rateCountersV8Migration } from './pg-rate-sql.js';

/** The schema version this code writes; why: a newer database must not be written by older code. */
export const PG_SCHEMA_VERSION = 14;

/** Advisory lock class of Warden (ASCII "WARD"); why: migration and liveness locks never clash with the app's. */
export const LOCK_CLASS = 0x57415244;

const KINDS = RECORD_KINDS.map((k) => `'${k}'`).join(', ');

/** Ordered migrations; index i migrates from version i to i + 1. */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE records (
    seq       BIGINT PRIMARY KEY,
    kind      TEXT NOT NULL CHECK (kind IN (${KINDS})),
    ref_id    TEXT NOT NULL,
    ts        TEXT NOT NULL,
    body      TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
  );
  CREATE FUNCTION warden_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $f$
    BEGIN RAISE EXCEPTION 'transcript records are append-only'; END $f$;
  CREATE TRIGGER records_append_only BEFORE UPDATE OR DELETE ON records
    FOR EACH ROW EXECUTE FUNCTION warden_records_append_only();
  CREATE TABLE chain_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
  );
  INSERT INTO chain_head (id, seq, hash) VALUES (1, 0, '${GENESIS_HASH}');
  CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    subject    TEXT,
    principal  TEXT NOT NULL,
    client     TEXT NOT NULL,
    transport  TEXT,
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    call_count INTEGER NOT NULL DEFAULT 0,
    open_seq   BIGINT NOT NULL,
    close_seq  BIGINT,
    owner      TEXT
  );
  CREATE INDEX sessions_started_at ON sessions (started_at, open_seq);
  CREATE INDEX sessions_subject ON sessions (subject, started_at, open_seq);
  CREATE INDEX sessions_open ON sessions (open_seq) WHERE close_seq IS NULL;
  CREATE TABLE calls (
    id             TEXT PRIMARY KEY,
    session_id     TEXT NOT NULL REFERENCES sessions (id),
    seq            BIGINT NOT NULL,
    tool           TEXT NOT NULL,
    connection     TEXT,
    args           TEXT NOT NULL,
    facts_summary  TEXT,
    facts          TEXT NOT NULL,
    decision       TEXT NOT NULL,
    rule_ids       TEXT NOT NULL,
    policy_version TEXT,
    started_at     TEXT NOT NULL,
    status         TEXT,
    error_code     TEXT,
    result         TEXT,
    masking        TEXT,
    duration_ms    DOUBLE PRECISION,
    ended_at       TEXT,
    outcome_seq    BIGINT
  );
  CREATE INDEX calls_session ON calls (session_id, seq);
  CREATE INDEX calls_tool ON calls (tool, started_at);
  CREATE INDEX calls_started_at ON calls (started_at);
  CREATE INDEX calls_without_outcome ON calls (seq) WHERE outcome_seq IS NULL;
  CREATE TABLE approvals (
    id                 TEXT PRIMARY KEY,
    state              TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'expired', 'used')),
    requester          TEXT NOT NULL,
    requester_groups   TEXT NOT NULL,
    requester_auth     TEXT NOT NULL,
    tool               TEXT NOT NULL,
    connection         TEXT,
    canonical_call     TEXT NOT NULL,
    call_hash          TEXT NOT NULL,
    summary            TEXT NOT NULL,
    rule_ids           TEXT NOT NULL,
    approval_rule      TEXT NOT NULL,
    approvals_required INTEGER NOT NULL,
    reviewers          TEXT NOT NULL,
    confirm            TEXT,
    call_id            TEXT,
    session_id         TEXT,
    used_by_call       TEXT,
    created_at         TEXT NOT NULL,
    expires_at         TEXT NOT NULL,
    decided_at         TEXT,
    used_at            TEXT,
    seq                BIGINT NOT NULL
  );
  CREATE INDEX approvals_lookup ON approvals (requester, call_hash, state);
  CREATE INDEX approvals_state ON approvals (state, created_at);
  CREATE TABLE approval_decisions (
    approval_id TEXT NOT NULL REFERENCES approvals (id),
    reviewer    TEXT NOT NULL,
    decision    TEXT NOT NULL CHECK (decision IN ('approve', 'deny')),
    comment     TEXT,
    at          TEXT NOT NULL,
    auth        TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    PRIMARY KEY (approval_id, reviewer)
  );
  CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
  `,
  // v2: the signed chain head (transcripts.signing_key), moved in the same transaction as the
  // head it signs; the SQLite store keeps it in a file beside the database instead.
  `
  CREATE TABLE signed_head (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    seq        BIGINT NOT NULL,
    hash       TEXT NOT NULL,
    signed_at  TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    signature  TEXT NOT NULL
  );
  `,
  // v3: retention checkpoints (transcripts purge), as in the SQLite store.
  `
  CREATE TABLE checkpoints (
    record_seq BIGINT PRIMARY KEY,
    cut_seq    BIGINT NOT NULL,
    cut_hash   TEXT NOT NULL,
    body       TEXT NOT NULL
  );
  `,
  // v4: approval requests linked into their combination, as in the SQLite store (v7).
  `
  ALTER TABLE approvals ADD COLUMN combination_id TEXT;
  CREATE INDEX approvals_combination ON approvals (combination_id) WHERE combination_id IS NOT NULL;
  `,
  // v5: the requester's delegation (actor) chain, as in the SQLite store (v8).
  `
  ALTER TABLE approvals ADD COLUMN requester_actors TEXT;
  `,
  // v6: the deny cooldown's hash of the call as it would run, as in the SQLite store (v9).
  `
  ALTER TABLE approvals ADD COLUMN cooldown_hash TEXT;
  CREATE INDEX approvals_cooldown ON approvals (requester, cooldown_hash, state);
  `,
  // v7: rate-limit counters shared by the replicas (pg-rate-sql.ts); SQLite has none (per process).
  rateCountersMigration(LOCK_CLASS),
  // v8: a grace before a replica whose liveness lock is free counts as dead (liveness_marks and
  // warden_owner_dead, pg-liveness-sql.ts), for recovery and rate limits alike; and rows and bytes
  // in 10 s buckets (the hour's sum reads a bounded number of rows; v7 charges summed into their
  // buckets), slots freed only once their replica is dead by that rule.
  livenessMarksMigration(LOCK_CLASS) + rateCountersV8Migration(),
  // v9: the `voided` state and its reason, as in the SQLite store (v10); PostgreSQL alters the
  // column's CHECK (named approvals_state_check by default) in place.
  `
  ALTER TABLE approvals DROP CONSTRAINT approvals_state_check;
  ALTER TABLE approvals ADD CONSTRAINT approvals_state_check CHECK (state IN ('pending', 'approved', 'denied', 'expired', 'used', 'voided'));
  ALTER TABLE approvals ADD COLUMN voided_reason TEXT;
  `,
  // v10: the reviewers' queue, read per requester from a partial index, as in the SQLite store (v11).
  PENDING_INDEX,
  // v11: bounded reviewer reads (pg-reads.ts): a session's records by its own calls' seqs and the
  // approval events naming them; the decision and connection filters from the newest matching calls.
  `
  CREATE INDEX IF NOT EXISTS calls_session_outcome ON calls (session_id, outcome_seq);
  CREATE INDEX IF NOT EXISTS calls_decision ON calls (decision, started_at);
  CREATE INDEX IF NOT EXISTS calls_connection ON calls (connection, started_at);
  CREATE INDEX IF NOT EXISTS approvals_session ON approvals (session_id);
  CREATE INDEX IF NOT EXISTS ${PG_APPROVAL_CALL_INDEX} ON records ((${PG_EVENT_CALL}), seq) WHERE kind = 'approval_event';
  `,
  // v12: the requester's person names, as in the SQLite store (v15).
  'ALTER TABLE approvals ADD COLUMN IF NOT EXISTS requester_names TEXT;',
  // v13: each decision's reviewer person names, as in the SQLite store (v16).
  'ALTER TABLE approval_decisions ADD COLUMN IF NOT EXISTS reviewer_names TEXT;',
  // v14: the approving rule's hash, as in the SQLite store (v17).
  'ALTER TABLE approvals ADD COLUMN IF NOT EXISTS rule_hash TEXT;',
];

/** The stored schema version (0 for an empty database). */
export async function pgSchemaVersion(c: pg.ClientBase): Promise<number> {
  const t = await c.query(`SELECT to_regclass('schema_version') IS NOT NULL AS present`);
  if (!(t.rows[0] as { present: boolean }).present) return 0;
  const r = await c.query('SELECT MAX(version) AS v FROM schema_version');
  return Number((r.rows[0] as { v: number | null }).v ?? 0);
}

/** Bring the database to PG_SCHEMA_VERSION; replicas starting together serialise on an advisory lock. */
export async function pgMigrate(c: pg.ClientBase): Promise<void> {
  await c.query('BEGIN');
  try {
    await c.query('SELECT pg_advisory_xact_lock($1, 0)', [LOCK_CLASS]);
    await c.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    const at = await pgSchemaVersion(c);
    if (at > PG_SCHEMA_VERSION) throw new Error(`schema is newer than this Warden (${PG_SCHEMA_VERSION})`);
    for (let v = at; v < PG_SCHEMA_VERSION; v++) {
      await c.query(MIGRATIONS[v] as string);
      await c.query('INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)', [v + 1, new Date().toISOString()]);
    }
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
