/**
 * A call's session open record is queued, not awaited, before the call (it commits in the same
 * batch as the call's intent). If the session cannot be recorded, the intent is refused and
 * nothing runs: here the store refuses every session open, and an allowed UPDATE must neither
 * run nor leave a call behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, WardenError } from '../../src/errors.js';
import { connectHttpAgent } from '../support/http-agent.js';
import { startHttpWarden } from '../support/http-warden.js';

const POLICY = `
rules:
  - id: fix-names
    effect: allow
    who: { groups: [ops] }
    tool: query_database
    on: [analytics]
    sql: { statements: [update], write: [public.users] }
`;

test('a session that cannot be recorded runs no call: the intent is refused, the UPDATE never happens', async (t) => {
  const w = await startHttpWarden({ 'p.yaml': POLICY });
  t.after(() => w.stop());
  await w.db.query(`GRANT UPDATE ON users TO ${w.db.role}`);
  w.rt.store.openSession = () => Promise.reject(new WardenError(ErrorCode.TRANSCRIPT, 'transcript store cannot write: test refuses sessions'));
  const agent = await connectHttpAgent(w.url, await w.token('oscar', ['ops']));
  t.after(() => agent.close());
  const r = await agent.call('query_database', { connection: 'analytics', sql: `UPDATE users SET name = 'Mallory' WHERE id = 1` });
  assert.equal(r.isError, true);
  assert.match(r.text, /WARDEN_TRANSCRIPT_UNAVAILABLE/);
  assert.equal((await w.db.query('SELECT name FROM users WHERE id = 1')).rows[0]?.name, 'Alice', 'the statement did not run');
  assert.deepEqual(w.calls(), [], 'no call row without its session');
});
