/**
 * SQLite schema v10 (sqlite-schema.ts MIGRATIONS): the `voided` approval state (a request whose
 * waiting call a policy reload refused: approvals/gate.ts) and its reason (JSON: code, message,
 * ruleIds). Why a module of its own: the rebuild is the longest step, and the schema file stays readable.
 * SQLite cannot alter a CHECK: the table is rebuilt (as `records` in v3), approval_decisions first,
 * referencing the new table (renaming it renames the reference), so that dropping the old one
 * orphans no decision while foreign keys are enforced.
 */

// The approvals columns up to v9, copied by the v10 rebuild.
const APPROVAL_COLUMNS_V9 = `id, state, requester, requester_groups, requester_auth, tool, connection, canonical_call, call_hash, summary, rule_ids,
    approval_rule, approvals_required, reviewers, confirm, call_id, session_id, used_by_call, created_at, expires_at, decided_at, used_at, seq,
    combination_id, requester_actors, cooldown_hash`;

/** The v10 step. */
export const APPROVALS_V10 = `
  CREATE TABLE approvals_v10 (
    id                 TEXT PRIMARY KEY,
    state              TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'expired', 'used', 'voided')),
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
    seq                INTEGER NOT NULL,
    combination_id     TEXT,
    requester_actors   TEXT,
    cooldown_hash      TEXT,
    voided_reason      TEXT
  );
  INSERT INTO approvals_v10 (${APPROVAL_COLUMNS_V9}) SELECT ${APPROVAL_COLUMNS_V9} FROM approvals;
  CREATE TABLE approval_decisions_v10 (
    approval_id TEXT NOT NULL REFERENCES approvals_v10 (id),
    reviewer    TEXT NOT NULL,
    decision    TEXT NOT NULL CHECK (decision IN ('approve', 'deny')),
    comment     TEXT,
    at          TEXT NOT NULL,
    auth        TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    PRIMARY KEY (approval_id, reviewer)
  );
  INSERT INTO approval_decisions_v10 (approval_id, reviewer, decision, comment, at, auth, seq) SELECT approval_id, reviewer, decision, comment, at, auth, seq FROM approval_decisions;
  DROP TABLE approval_decisions;
  DROP TABLE approvals;
  ALTER TABLE approvals_v10 RENAME TO approvals;
  ALTER TABLE approval_decisions_v10 RENAME TO approval_decisions;
  CREATE INDEX approvals_lookup ON approvals (requester, call_hash, state);
  CREATE INDEX approvals_state ON approvals (state, created_at);
  CREATE INDEX approvals_combination ON approvals (combination_id) WHERE combination_id IS NOT NULL;
  CREATE INDEX approvals_cooldown ON approvals (requester, cooldown_hash, state);
`;
