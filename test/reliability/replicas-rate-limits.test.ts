/**
 * Rate limits across two `warden serve --http` processes on one PostgreSQL store: a principal's
 * calls per minute hold across both (three calls on each, the sixth refused), a call waiting for
 * approval on one replica holds the principal's one concurrency slot on the other, and when that
 * replica is SIGKILLed its slot is freed for the survivor (once its lock has stayed free for the
 * grace, transcripts.liveness_grace, set to 1 s here).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectHttpAgent } from '../support/http-agent.js';
import { startReplicaPair, type ReplicaPair } from './support.js';

let fleet: ReplicaPair;

before(async () => {
  // liveness_grace 1s (the least allowed; 5s by default): how long the killed replica's lock must
  // stay free before its slot is freed is not what is tested, that it is freed then is.
  fleet = await startReplicaPair('rl', 'rate_limits: { calls_per_minute: 5, concurrent: 1 }\n', undefined, { livenessGrace: '1s' });
});

after(async () => {
  await fleet?.stop();
});

test('calls per minute hold across replicas; a killed replica frees its concurrency slot', async () => {
  const { storeDb, issuer, replicas: [a, b] } = fleet;
  const token = (sub: string) => issuer.mint({ sub, groups: ['dev'], scope: 'mcp' });
  const read = { connection: 'target', sql: 'SELECT name FROM items WHERE id = 1' };

  // 1. Limit 5 per minute: three calls on A, then three on B; the sixth is refused (on B).
  const aliceA = await connectHttpAgent(a.url, await token('alice'));
  const aliceB = await connectHttpAgent(b.url, await token('alice'));
  try {
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await aliceA.call('query_database', read));
    for (let i = 0; i < 3; i++) results.push(await aliceB.call('query_database', read));
    assert.deepEqual(results.map((r) => r.isError), [false, false, false, false, false, true], results.map((r) => r.text).join('\n'));
    assert.match(results[5]!.text, /^WARDEN_RATE_LIMITED: rate limit for alice: 5 calls per minute reached; retry in \d+s/);
    assert.equal((await aliceA.call('query_database', read)).isError, true, 'and on A');
  } finally {
    await Promise.all([aliceA.close(), aliceB.close()]);
  }
  const refused = await storeDb.query(`SELECT count(*) AS n FROM calls WHERE error_code = 'WARDEN_RATE_LIMITED'`);
  assert.equal(Number(refused.rows[0]?.n), 2, 'refusals are recorded');

  // 2. Concurrency 1: carol's update waits for approval on A, holding her slot on both replicas.
  const carolA = await connectHttpAgent(a.url, await token('carol'));
  const carolB = await connectHttpAgent(b.url, await token('carol'));
  try {
    const waiting = carolA.call('query_database', { connection: 'target', sql: 'UPDATE items SET n = 7 WHERE id = 3' }).catch((e: unknown) => e);
    for (let i = 0; i < 100; i++) {
      if (Number((await storeDb.query('SELECT count(*) AS n FROM approvals')).rows[0]?.n) > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const busy = await carolB.call('query_database', read);
    assert.equal(busy.isError, true);
    assert.match(busy.text, /^WARDEN_RATE_LIMITED: rate limit for carol: 1 concurrent call\(s\) already running/);

    // 3. A dies mid-call: its liveness lock goes, and B's next admission frees the slot.
    await a.kill('SIGKILL');
    // Carol's client on A gives up on the call A took down with it (closing it ends the wait at
    // once; left alone it would sit out the client library's 60 s request timeout).
    await carolA.close();
    await waiting;
    // (Once PostgreSQL has seen the dead connection go and its lock has stayed free for the grace
    // a reconnecting replica gets, 1 s here; a refused call counts nothing.)
    let after = await carolB.call('query_database', read);
    for (let i = 0; i < 75 && after.isError && /concurrent/.test(after.text); i++) {
      await new Promise((r) => setTimeout(r, 200));
      after = await carolB.call('query_database', read);
    }
    assert.equal(after.isError, false, after.text);
    assert.equal(Number((await storeDb.query('SELECT count(*) AS n FROM rate_inflight')).rows[0]?.n), 0);
  } finally {
    await Promise.all([carolA.close().catch(() => undefined), carolB.close()]);
  }
});
