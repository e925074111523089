/**
 * The columns, constraints and indexes of the tables the PostgreSQL verify reads, as pg-schema.ts's
 * migrations leave them (PG_SCHEMA_VERSION 11), in the lines pg-schema-catalog.ts reads from the
 * catalog. Why a list and not the migrations run again: verify reads on the reviewer's snapshot
 * and must not need (or use) the right to create anything. The lists of record kinds and approval
 * states come from the code that writes them. test/recorder/pg-verify-columns.test.ts migrates a
 * fresh database and fails, printing its lines, when this list and what the store creates differ:
 * a migration that changes a verified table updates this list in the same change.
 */
import { APPROVAL_STATES } from './approval-store.js';
import { RECORD_KINDS } from './hash-chain.js';

const anyOf = (column: string, values: readonly string[]) => `CHECK ((${column} = ANY (ARRAY[${values.map((v) => `'${v}'::text`).join(', ')}])))`;
/** An index as pg_get_indexdef prints it (the table's schema dropped: pg-schema-catalog.ts). */
const index = (name: string, table: string, def: string, unique = false) => `index ${name} CREATE ${unique ? 'UNIQUE ' : ''}INDEX ${name} ON ${table} USING btree ${def}`;
const pkey = (table: string, cols: string) => index(`${table}_pkey`, table, `(${cols})`, true);
// Line by line, blank lines dropped: a split on `\s*\n\s*` is quadratic in a run of blanks.
const columns = (spec: string) => spec.split('\n').map((c) => c.trim()).filter((c) => c !== '').map((c) => `column ${c}`);

/** Table -> its lines as the store creates them (sorted when compared). */
export const EXPECTED_SHAPES: Readonly<Record<string, readonly string[]>> = {
  records: [
    ...columns(`seq bigint NOT NULL
      kind text NOT NULL
      ref_id text NOT NULL
      ts text NOT NULL
      body text NOT NULL
      prev_hash text NOT NULL
      hash text NOT NULL`),
    `constraint records_kind_check ${anyOf('kind', RECORD_KINDS)}`,
    'constraint records_pkey PRIMARY KEY (seq)',
    pkey('records', 'seq'),
    index('records_approval_call', 'records', "(COALESCE(((body)::jsonb ->> 'callId'::text), ((body)::jsonb ->> 'call_id'::text)), seq) WHERE (kind = 'approval_event'::text)"),
  ],
  chain_head: [
    ...columns(`id integer NOT NULL
      seq bigint NOT NULL
      hash text NOT NULL`),
    'constraint chain_head_id_check CHECK ((id = 1))',
    'constraint chain_head_pkey PRIMARY KEY (id)',
    pkey('chain_head', 'id'),
  ],
  sessions: [
    ...columns(`id text NOT NULL
      subject text
      principal text NOT NULL
      client text NOT NULL
      transport text
      started_at text NOT NULL
      ended_at text
      call_count integer NOT NULL DEFAULT 0
      open_seq bigint NOT NULL
      close_seq bigint
      owner text`),
    'constraint sessions_pkey PRIMARY KEY (id)',
    pkey('sessions', 'id'),
    index('sessions_started_at', 'sessions', '(started_at, open_seq)'),
    index('sessions_subject', 'sessions', '(subject, started_at, open_seq)'),
    index('sessions_open', 'sessions', '(open_seq) WHERE (close_seq IS NULL)'),
  ],
  calls: [
    ...columns(`id text NOT NULL
      session_id text NOT NULL
      seq bigint NOT NULL
      tool text NOT NULL
      connection text
      args text NOT NULL
      facts_summary text
      facts text NOT NULL
      decision text NOT NULL
      rule_ids text NOT NULL
      policy_version text
      started_at text NOT NULL
      status text
      error_code text
      result text
      masking text
      duration_ms double precision
      ended_at text
      outcome_seq bigint`),
    'constraint calls_pkey PRIMARY KEY (id)',
    'constraint calls_session_id_fkey FOREIGN KEY (session_id) REFERENCES sessions(id)',
    pkey('calls', 'id'),
    index('calls_session', 'calls', '(session_id, seq)'),
    index('calls_tool', 'calls', '(tool, started_at)'),
    index('calls_started_at', 'calls', '(started_at)'),
    index('calls_without_outcome', 'calls', '(seq) WHERE (outcome_seq IS NULL)'),
    index('calls_session_outcome', 'calls', '(session_id, outcome_seq)'),
    index('calls_decision', 'calls', '(decision, started_at)'),
    index('calls_connection', 'calls', '(connection, started_at)'),
  ],
  approvals: [
    ...columns(`id text NOT NULL
      state text NOT NULL
      requester text NOT NULL
      requester_groups text NOT NULL
      requester_auth text NOT NULL
      tool text NOT NULL
      connection text
      canonical_call text NOT NULL
      call_hash text NOT NULL
      summary text NOT NULL
      rule_ids text NOT NULL
      approval_rule text NOT NULL
      approvals_required integer NOT NULL
      reviewers text NOT NULL
      confirm text
      call_id text
      session_id text
      used_by_call text
      created_at text NOT NULL
      expires_at text NOT NULL
      decided_at text
      used_at text
      seq bigint NOT NULL
      combination_id text
      requester_actors text
      cooldown_hash text
      voided_reason text
      requester_names text
      rule_hash text`),
    'constraint approvals_pkey PRIMARY KEY (id)',
    `constraint approvals_state_check ${anyOf('state', APPROVAL_STATES)}`,
    pkey('approvals', 'id'),
    index('approvals_lookup', 'approvals', '(requester, call_hash, state)'),
    index('approvals_state', 'approvals', '(state, created_at)'),
    index('approvals_combination', 'approvals', '(combination_id) WHERE (combination_id IS NOT NULL)'),
    index('approvals_cooldown', 'approvals', '(requester, cooldown_hash, state)'),
    index('approvals_pending', 'approvals', "(requester, requester_auth, seq) WHERE (state = 'pending'::text)"),
    index('approvals_session', 'approvals', '(session_id)'),
  ],
  approval_decisions: [
    ...columns(`approval_id text NOT NULL
      reviewer text NOT NULL
      decision text NOT NULL
      comment text
      at text NOT NULL
      auth text NOT NULL
      seq bigint NOT NULL
      reviewer_names text`),
    'constraint approval_decisions_approval_id_fkey FOREIGN KEY (approval_id) REFERENCES approvals(id)',
    `constraint approval_decisions_decision_check ${anyOf('decision', ['approve', 'deny'])}`,
    'constraint approval_decisions_pkey PRIMARY KEY (approval_id, reviewer)',
    pkey('approval_decisions', 'approval_id, reviewer'),
  ],
  signed_head: [
    ...columns(`id integer NOT NULL
      seq bigint NOT NULL
      hash text NOT NULL
      signed_at text NOT NULL
      key_id text NOT NULL
      signature text NOT NULL`),
    'constraint signed_head_id_check CHECK ((id = 1))',
    'constraint signed_head_pkey PRIMARY KEY (id)',
    pkey('signed_head', 'id'),
  ],
  checkpoints: [
    ...columns(`record_seq bigint NOT NULL
      cut_seq bigint NOT NULL
      cut_hash text NOT NULL
      body text NOT NULL`),
    'constraint checkpoints_pkey PRIMARY KEY (record_seq)',
    pkey('checkpoints', 'record_seq'),
  ],
};
