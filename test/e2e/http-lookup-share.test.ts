/**
 * A call's catalog lookups count against its principal's share of the read pool, as its
 * statement does, through the real HTTP transport with two OIDC principals and a real PostgreSQL
 * (pool_size 2, so max_per_principal 1). Under a column mask a read of a view has Warden read the
 * view's definition (pg_get_viewdef) before the statement; the test holds an ACCESS EXCLUSIVE lock
 * on the view, so that lookup waits. Alice floods reads of the view; Bob's plain read must still
 * be answered. Before, each of Alice's calls took a session for its lookup outside her share:
 * two of them held both sessions and Bob's call failed at the pool's wait. Ordered by events: Bob
 * calls once two of Alice's lookups wait on the lock (the old code) or one of her calls was
 * refused in her own queue (her share is held by the lookup on the lock).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { analystsReadPolicy, connectHttpAgent, type HttpAgent } from '../support/http-agent.js';
import { lockTable, lockWaiters, startHttpWarden, until, type HttpWarden } from '../support/http-warden.js';

let w: HttpWarden;
const agents: HttpAgent[] = [];

const MASKS = `
masking:
  columns:
    - { column: public.users.email, with: redact }
`;

before(async () => {
  w = await startHttpWarden({ 'base.yaml': analystsReadPolicy(['public.slow_view', 'public.fresh_view', 'public.users']) + MASKS }, '', {
    connection: 'pool_size: 2\nstatement_timeout: 60s',
  });
  await w.db.query('CREATE VIEW slow_view AS SELECT id FROM slow; CREATE VIEW fresh_view AS SELECT id FROM slow');
  await w.db.query(`GRANT SELECT ON slow_view, fresh_view TO ${w.db.role}`);
});

after(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await w?.stop();
});


test('Bob is answered while Alice\'s calls wait in catalog lookups (a view\'s definition behind a lock): lookups count against her share', async () => {
  const alice = await connectHttpAgent(w.url, await w.token('alice', ['analysts']));
  const bob = await connectHttpAgent(w.url, await w.token('bob', ['analysts']));
  agents.push(alice, bob);
  const release = await lockTable(w.db, 'slow_view');
  const ended: string[] = [];
  const aliceCalls = [1, 2, 3, 4].map((i) =>
    alice
      .call('query_database', { connection: 'analytics', sql: 'SELECT id FROM public.slow_view' })
      .catch((e: Error) => ({ isError: true, text: `client: ${e.message}`, structured: undefined }))
      .then((r) => {
        ended.push(r.text);
        return r;
      }),
  );
  let results: Awaited<(typeof aliceCalls)[number]>[];
  try {
    await until(async () => ended.length > 0 || (await lockWaiters(w.db)) >= 2, 30_000, 'alice\'s lookups to fill her share');
    const b = await bob.call('query_database', { connection: 'analytics', sql: 'SELECT name FROM public.users ORDER BY id' });
    assert.equal(b.isError, false, `bob was not served while alice's lookups waited: ${b.text}`);
    assert.deepEqual((b.structured as { rows: string[][] }).rows, [['Alice'], ['Bob']]);
    assert.ok((await lockWaiters(w.db)) <= 1, 'alice\'s lookups hold at most her share (1) of the pool\'s sessions');
    for (const t of ended) assert.match(t, /^WARDEN_RATE_LIMITED: .*max_per_principal: 1/, t);
  } finally {
    await release();
    results = await Promise.all(aliceCalls);
  }
  // One lookup held her share; it ran, then its statement (no self-deadlock at max_per_principal 1);
  // the others waited behind it in her queue: they ran, or were refused at the pool's wait.
  assert.ok(results.some((r) => !r.isError), results.map((r) => r.text).join(' | '));
  for (const r of results) if (r.isError) assert.match(r.text, /^WARDEN_RATE_LIMITED: .*max_per_principal: 1/, r.text);
  for (const r of results) if (!r.isError) assert.deepEqual((r.structured as { rows: number[][] }).rows, [[1]]);
});

test('at max_per_principal 1 a call with a cold lookup (a view\'s definition) runs its statement after it', async () => {
  const alice = await connectHttpAgent(w.url, await w.token('alice', ['analysts']));
  agents.push(alice);
  const r = await alice.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM public.fresh_view' });
  assert.equal(r.isError, false, r.text);
  assert.deepEqual((r.structured as { rows: number[][] }).rows, [[1]]);
});
