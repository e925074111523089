/**
 * One principal's slow reads cannot take a PostgreSQL connection's whole pool from the others,
 * through the real HTTP transport with two OIDC principals and a real PostgreSQL. Alice's reads
 * wait on a lock the test holds; she sends more of them than the pool has sessions (pool_size 3,
 * her share 2 by default); Bob's read is answered while hers still wait, and the lock is released
 * only after that (ordered by events, not by time; a statement_timeout of 60s keeps her reads
 * waiting meanwhile). Before the share, Alice's reads held every
 * session and Bob's call failed at the pool's wait ("the database is unreachable right now").
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { analystsReadPolicy, connectHttpAgent, type HttpAgent } from '../support/http-agent.js';
import { lockTable, lockWaiters, startHttpWarden, until, type HttpWarden } from '../support/http-warden.js';

let w: HttpWarden;
const agents: HttpAgent[] = [];

before(async () => {
  w = await startHttpWarden({ 'base.yaml': analystsReadPolicy(['public.slow', 'public.users']) }, '', { connection: 'pool_size: 3\nstatement_timeout: 60s' });
});

after(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await w?.stop();
});


test('Bob is answered while Alice\'s slow reads hold her share of the pool', async () => {
  const alice = await connectHttpAgent(w.url, await w.token('alice', ['analysts']));
  const bob = await connectHttpAgent(w.url, await w.token('bob', ['analysts']));
  agents.push(alice, bob);
  const events: string[] = [];
  const release = await lockTable(w.db, 'slow');
  let released = false;
  const aliceCalls = [1, 2, 3].map((i) =>
    alice
      .call('query_database', { connection: 'analytics', sql: 'SELECT id FROM public.slow' })
      .catch((e: Error) => ({ isError: true, text: `client: ${e.message}`, structured: undefined }))
      .then((r) => {
        events.push(`alice ${i}`);
        return r;
      }),
  );
  try {
    // Her share (pool_size - 1) of reads wait on the lock in PostgreSQL.
    await until(async () => (await lockWaiters(w.db)) >= 2, 20_000, 'two of alice\'s reads to wait on the lock');
    const b = await bob.call('query_database', { connection: 'analytics', sql: 'SELECT name FROM public.users ORDER BY id' });
    events.push('bob');
    assert.equal(b.isError, false, `bob was not served while alice held the pool: ${b.text}`);
    assert.deepEqual((b.structured as { rows: string[][] }).rows, [['Alice'], ['Bob']]);
    assert.deepEqual(events, ['bob'], 'none of alice\'s reads had ended');
  } finally {
    released = true;
    await release();
  }
  assert.ok(released);
  const results = await Promise.all(aliceCalls);
  // Two ran on her share; the third waited behind them: it ran, or was refused at the pool's wait.
  assert.ok(results.filter((r) => !r.isError).length >= 2, results.map((r) => r.text).join(' | '));
  for (const r of results) if (r.isError) assert.match(r.text, /^WARDEN_RATE_LIMITED: .*max_per_principal: 2/, r.text);
});
