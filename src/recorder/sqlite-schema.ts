import type Database from 'better-sqlite3';
import { RECORD_KINDS } from './hash-chain.js';
import { PENDING_INDEX } from './approval-queue-sql.js';
import { importLegacyHead, SIGNED_HEAD_TABLE } from './sqlite-signed-head.js';
import { PG_APPROVAL_CALL_INDEX, SQLITE_EVENT_CALL } from './session-records-sql.js';
import { APPROVALS_V10 } from './sqlite-approvals-v10.js';

/** The schema version this code writes; why: a newer file must not be written by older code. */
export const SCHEMA_VERSION = 17;

const KINDS = RECORD_KINDS.map((k) => `'${k}'`).join(', ');
// v3 rebuilds `records` so that files created before the checkpoint kind accept it.
const KINDS_V3 = RECORD_KINDS.map((k) => `'${k}'`).join(', ');

/** The text a call contributes to the free-text index; why: writes and the v3 migration agree. */
export const FTS_TEXT_SQL = `coalesce(tool, '') || ' ' || coalesce(connection, '') || ' ' || coalesce(facts_summary, '') || ' ' || args`;


/** Ordered migrations; index i migrates from version i to i + 1. */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE records (
    seq       INTEGER PRIMARY KEY,
    kind      TEXT NOT NULL CHECK (kind IN (${KINDS})),
    ref_id    TEXT NOT NULL,
    ts        TEXT NOT NULL,
    body      TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
  );
  CREATE TRIGGER records_append_only_update BEFORE UPDATE ON records
    BEGIN SELECT RAISE(ABORT, 'transcript records are append-only'); END;
  CREATE TRIGGER records_append_only_delete BEFORE DELETE ON records
    BEGIN SELECT RAISE(ABORT, 'transcript records are append-only'); END;

  CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    subject    TEXT,
    principal  TEXT NOT NULL,
    client     TEXT NOT NULL,
    transport  TEXT,
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    call_count INTEGER NOT NULL DEFAULT 0,
    open_seq   INTEGER NOT NULL,
    close_seq  INTEGER,
    owner      TEXT
  );
  CREATE INDEX sessions_started_at ON sessions (started_at);
  CREATE INDEX sessions_subject ON sessions (subject, started_at);

  CREATE TABLE calls (
    id             TEXT PRIMARY KEY,
    session_id     TEXT NOT NULL REFERENCES sessions (id),
    seq            INTEGER NOT NULL,
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
    duration_ms    REAL,
    ended_at       TEXT,
    outcome_seq    INTEGER
  );
  CREATE INDEX calls_session ON calls (session_id, seq);
  CREATE INDEX calls_tool ON calls (tool, started_at);
  CREATE INDEX calls_started_at ON calls (started_at);
  CREATE INDEX calls_without_outcome ON calls (seq) WHERE outcome_seq IS NULL;
  `,
  // v2: approval requests and reviewer decisions (their state changes are approval_event records).
  `
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
    seq                INTEGER NOT NULL
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
    seq         INTEGER NOT NULL,
    PRIMARY KEY (approval_id, reviewer)
  );
  `,
  // v3 (transcripts issue): checkpoint records for retention, a free-text index, reviewer-UI indexes.
  `
  CREATE TABLE records_v3 (
    seq       INTEGER PRIMARY KEY,
    kind      TEXT NOT NULL CHECK (kind IN (${KINDS_V3})),
    ref_id    TEXT NOT NULL,
    ts        TEXT NOT NULL,
    body      TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
  );
  INSERT INTO records_v3 SELECT seq, kind, ref_id, ts, body, prev_hash, hash FROM records;
  DROP TABLE records;
  ALTER TABLE records_v3 RENAME TO records;
  CREATE TRIGGER records_append_only_update BEFORE UPDATE ON records
    BEGIN SELECT RAISE(ABORT, 'transcript records are append-only'); END;
  CREATE TRIGGER records_append_only_delete BEFORE DELETE ON records
    BEGIN SELECT RAISE(ABORT, 'transcript records are append-only'); END;
  CREATE TABLE checkpoints (
    record_seq INTEGER PRIMARY KEY,
    cut_seq    INTEGER NOT NULL,
    cut_hash   TEXT NOT NULL,
    body       TEXT NOT NULL
  );
  CREATE VIRTUAL TABLE calls_fts USING fts5 (text, content = '', contentless_delete = 1);
  INSERT INTO calls_fts (rowid, text) SELECT seq, ${FTS_TEXT_SQL} FROM calls;
  DROP INDEX sessions_started_at;
  DROP INDEX sessions_subject;
  CREATE INDEX sessions_started_at ON sessions (started_at, open_seq);
  CREATE INDEX sessions_subject ON sessions (subject, started_at, open_seq);
  CREATE INDEX calls_session_tool ON calls (session_id, tool);
  CREATE INDEX calls_tool_session ON calls (tool, session_id);
  CREATE INDEX calls_connection_session ON calls (connection, session_id);
  CREATE INDEX calls_decision_session ON calls (decision, session_id);
  `,
  // v4: free text is indexed behind the hot path (sqlite-text-index.ts); up to which calls row (rowid: insertion order) calls_fts is complete.
  `
  CREATE TABLE fts_progress (id INTEGER PRIMARY KEY CHECK (id = 1), call_rowid INTEGER NOT NULL);
  INSERT INTO fts_progress (id, call_rowid) SELECT 1, coalesce(MAX(rowid), 0) FROM calls;
  `,
  // v5: verify replays the approval tables from their records, found among millions by a partial index.
  `
  CREATE INDEX records_approval_events ON records (seq) WHERE kind = 'approval_event';
  `,
  // v6: the session filters (tool, connection, decision) probe call_facets, one row per distinct
  // combination in a session, instead of four more indexes on calls (an intent's commit wrote a leaf
  // page of each: 4 of its 13 WAL frames); a facet row is written only the first time a session
  // uses a combination. A NULL connection is stored as ''.
  `
  CREATE TABLE call_facets (
    session_id TEXT NOT NULL,
    tool       TEXT NOT NULL,
    connection TEXT NOT NULL,
    decision   TEXT NOT NULL,
    PRIMARY KEY (session_id, tool, connection, decision)
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO call_facets SELECT session_id, tool, coalesce(connection, ''), decision FROM calls;
  CREATE INDEX call_facets_tool ON call_facets (tool, session_id);
  CREATE INDEX call_facets_connection ON call_facets (connection, session_id);
  CREATE INDEX call_facets_decision ON call_facets (decision, session_id);
  DROP INDEX calls_session_tool;
  DROP INDEX calls_tool_session;
  DROP INDEX calls_connection_session;
  DROP INDEX calls_decision_session;
  `,
  // v7: the requests a call waits on together are linked when made (approvals/gate.ts); views
  // read the combination from the link. Older requests keep NULL, and views infer theirs.
  `
  ALTER TABLE approvals ADD COLUMN combination_id TEXT;
  CREATE INDEX approvals_combination ON approvals (combination_id) WHERE combination_id IS NOT NULL;
  `,
  // v8: the requester's delegation (actor) chain, JSON text; NULL when no agent acted for the
  // requester, as in every older row (approvals/gate.ts, approvals/decide.ts, identity/actors.ts).
  `
  ALTER TABLE approvals ADD COLUMN requester_actors TEXT;
  `,
  // v9: the deny cooldown's hash of the call as it would run (approvals/gate.ts, cooldown.ts);
  // NULL in every older row, whose denials then hold only their exact call_hash.
  `
  ALTER TABLE approvals ADD COLUMN cooldown_hash TEXT;
  CREATE INDEX approvals_cooldown ON approvals (requester, cooldown_hash, state);
  `,
  // v10: the `voided` approval state and its reason (sqlite-approvals-v10.ts).
  APPROVALS_V10,
  // v11: the reviewers' queue, read per requester from a partial index (approval-queue-sql.ts).
  PENDING_INDEX,
  // v12: a session's records read by its own seqs and the approval events naming its calls
  // (session-records-sql.ts), as in the PostgreSQL store (v11).
  `
  CREATE INDEX IF NOT EXISTS calls_session_outcome ON calls (session_id, outcome_seq);
  CREATE INDEX IF NOT EXISTS approvals_session ON approvals (session_id);
  CREATE INDEX IF NOT EXISTS ${PG_APPROVAL_CALL_INDEX} ON records ((${SQLITE_EVENT_CALL}), seq) WHERE kind = 'approval_event';
  `,
  // v13: the signed chain head, written in the commit of the records it covers (sqlite-signed-head.ts).
  SIGNED_HEAD_TABLE,
  // v14: a session's outcomes are indexed once they exist: every reader asks for outcome_seq > N
  // (session-records-sql.ts) or its MAX, so a call's intent need not put (session, NULL) in the
  // index for its outcome to move; the two commits of a call wrote ~2 of ~18 WAL pages for it.
  `
  DROP INDEX IF EXISTS calls_session_outcome;
  CREATE INDEX calls_session_outcome ON calls (session_id, outcome_seq) WHERE outcome_seq IS NOT NULL;
  `,
  // v15: the requester's person names, JSON text (approvals/subjects.ts requesterNames); NULL when
  // none, as in every older row (their requester is its subject and actors alone, as before).
  'ALTER TABLE approvals ADD COLUMN requester_names TEXT;',
  // v16: each decision's reviewer person names, JSON text (approvals/subjects.ts decisionNames);
  // NULL when none, as in every older row (one person counts once by its subject alone, as before).
  'ALTER TABLE approval_decisions ADD COLUMN reviewer_names TEXT;',
  // v17: the canonical hash of the approving rule's scope (approvals/rule-terms.ts); NULL in every
  // older row, which no call then takes up (asked anew once: fail closed).
  'ALTER TABLE approvals ADD COLUMN rule_hash TEXT;',
];

/** Read the stored schema version (0 for an empty file); why: read-only opens must not migrate. */
export function schemaVersion(db: Database.Database): number {
  const table = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`).get();
  if (!table) return 0;
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null } | undefined;
  return row?.v ?? 0;
}

/**
 * Bring the file to SCHEMA_VERSION (or `target`: verify's reference schema), one transaction per step; why: first open
 * creates, later opens upgrade. With `path`, v13 copies the head file beside it in: true when it did (the caller removes it).
 */
export function migrate(db: Database.Database, target = SCHEMA_VERSION, path?: string): boolean {
  let imported = false;
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
  const step = db.transaction((target: number, sql: string) => {
    // Re-read inside the write lock: another process may have migrated meanwhile.
    if (schemaVersion(db) >= target) return;
    db.exec(sql);
    if (target === 13 && path !== undefined) imported = importLegacyHead(db, path); // the head file a store before v13 kept
    db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(target, new Date().toISOString());
  });
  for (let v = schemaVersion(db); v < Math.min(target, SCHEMA_VERSION); v++) {
    step.immediate(v + 1, MIGRATIONS[v] as string);
  }
  return imported;
}
