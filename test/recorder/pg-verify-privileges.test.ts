/**
 * The PostgreSQL verify's index, privilege and ownership checks (pg-schema-catalog.ts indexes,
 * pg-verify-privileges.ts): an index dropped, replaced, made non-unique, partial, invalid or not
 * ready, an extra unique index, a write privilege granted to PUBLIC or another role (table or
 * column), and a table given to another owner are reported by the writer's verify; a SELECT grant
 * (an auditor's) is not. The auditor's side runs in test/cli/transcripts-pg-readonly.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { steps, withStore } from './pg-verify-steps.js';

test('PostgreSQL verify reports an index dropped, replaced, made non-unique, partial, invalid or not ready, and an extra unique index', async () => {
  await withStore('pgverifyidx', async (s, db) => {
    const flag = (column: string, value: boolean, index: string) => `UPDATE pg_index SET ${column} = ${value} WHERE indexrelid = '${index}'::regclass`;
    await steps(s, db, [
      ['DROP INDEX sessions_started_at', /schema differs.*sessions index sessions_started_at is missing/, 'CREATE INDEX sessions_started_at ON sessions (started_at, open_seq)'],
      ['DROP INDEX calls_session; CREATE INDEX calls_session ON calls (session_id)', /schema differs.*calls index calls_session is `index calls_session CREATE INDEX calls_session ON calls USING btree \(session_id\)`/,
        'DROP INDEX calls_session; CREATE INDEX calls_session ON calls (session_id, seq)'],
      ['DROP INDEX sessions_open; CREATE INDEX sessions_open ON sessions (open_seq) WHERE close_seq IS NOT NULL', /schema differs.*sessions index sessions_open is `.*WHERE \(close_seq IS NOT NULL\)`/,
        'DROP INDEX sessions_open; CREATE INDEX sessions_open ON sessions (open_seq) WHERE close_seq IS NULL'],
      ['CREATE UNIQUE INDEX calls_one_per_tool ON calls (tool)', /schema differs.*calls has `index calls_one_per_tool CREATE UNIQUE INDEX calls_one_per_tool ON calls USING btree \(tool\)`/, 'DROP INDEX calls_one_per_tool'],
      [flag('indisunique', false, 'records_pkey'), /schema differs.*records index records_pkey is `index records_pkey CREATE INDEX records_pkey ON records USING btree \(seq\)`/, flag('indisunique', true, 'records_pkey')],
      [flag('indisvalid', false, 'calls_pkey'), /schema differs.*calls index calls_pkey is `.* INVALID`/, flag('indisvalid', true, 'calls_pkey')],
      [flag('indisready', false, 'approvals_pkey'), /schema differs.*approvals index approvals_pkey is `.* NOT READY`/, flag('indisready', true, 'approvals_pkey')],
    ]);
  });
});

test('PostgreSQL verify reports write privileges granted to PUBLIC or another role, and a table given to another owner', async () => {
  await withStore('pgverifypriv', async (s, db, other) => {
    const o = pg.escapeIdentifier(other);
    // Reading is the auditor's right: not a finding.
    await db.query(`GRANT SELECT ON records, calls TO ${o}`);
    assert.equal((await s.verify()).ok, true);
    const priv = (who: string, what: string, on: string) => new RegExp(`privileges differ from what the store creates: ${who} holds ${what} on ${on} \\(only the owner ${db.role} may\\)`);
    await steps(s, db, [
      ['GRANT INSERT ON records TO PUBLIC', priv('PUBLIC', 'INSERT', 'records'), 'REVOKE INSERT ON records FROM PUBLIC'],
      [`GRANT UPDATE (body) ON records TO ${o}`, priv(other, 'UPDATE', 'records.body'), `REVOKE UPDATE (body) ON records FROM ${o}`],
      [`GRANT DELETE ON approvals TO ${o}`, priv(other, 'DELETE', 'approvals'), `REVOKE DELETE ON approvals FROM ${o}`],
      [`GRANT TRUNCATE ON settings TO ${o}`, priv(other, 'TRUNCATE', 'settings'), `REVOKE TRUNCATE ON settings FROM ${o}`],
      [`GRANT TRIGGER ON sessions TO ${o}`, priv(other, 'TRIGGER', 'sessions'), `REVOKE TRIGGER ON sessions FROM ${o}`],
      [`GRANT REFERENCES ON chain_head TO ${o}`, priv(other, 'REFERENCES', 'chain_head'), `REVOKE REFERENCES ON chain_head FROM ${o}`],
      // The tamperer keeps the writer working: it still holds every right, but no longer owns calls.
      [`ALTER TABLE calls OWNER TO ${o}; GRANT ALL ON calls TO ${pg.escapeIdentifier(db.role)}`, new RegExp(`privileges differ from what the store creates: calls is owned by ${other}, not ${db.role} \\(the store's role\\)`), `ALTER TABLE calls OWNER TO ${pg.escapeIdentifier(db.role)}`],
    ]);
  });
});
