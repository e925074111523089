/**
 * Two `warden serve --http` processes on one PostgreSQL store: agents on both, an approval
 * requested through replica A is granted through the reviewer CLI (a third process on the same
 * store, as a local reviewer and with an OIDC token), the waiting calls on A complete, and
 * `warden transcripts verify` passes on the shared chain afterwards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectHttpAgent } from '../support/http-agent.js';
import { startReplicaPair, wardenCli, type ReplicaPair } from './support.js';

let fleet: ReplicaPair;

before(async () => {
  fleet = await startReplicaPair('');
});

after(async () => {
  await fleet?.stop();
});

test('agents on both replicas; approvals granted on another replica; one chain verifies', async () => {
  const { storeDb, target, issuer, dir, env, replicas: [a, b] } = fleet;
  const token = (sub: string, groups: string[]) => issuer.mint({ sub, groups, scope: 'mcp' });
  const onA = await connectHttpAgent(a.url, await token('alice', ['dev']));
  const onB = await connectHttpAgent(b.url, await token('carol', ['dev']));
  try {
    const reads = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? onA : onB).call('query_database', { connection: 'target', sql: `SELECT name FROM items WHERE id = ${i + 1}` })));
    assert.ok(reads.every((r) => !r.isError), reads.find((r) => r.isError)?.text);

    // 1. A waits; the reviewer CLI (its own process, same PG store) approves.
    const waiting = onA.call('query_database', { connection: 'target', sql: `UPDATE items SET n = 1000 WHERE id = 1` });
    let id: string | undefined;
    for (let i = 0; i < 100 && !id; i++) {
      const l = await wardenCli(['approvals', 'list', '--state', 'pending', '--json', '--config', dir.configPath], env);
      id = (JSON.parse(l.out || '[]') as { id: string }[])[0]?.id;
      if (!id) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(id, 'the pending request is visible from another process');
    const self = await wardenCli(['approvals', 'approve', id, '--as', 'alice', '--groups', 'dba', '--config', dir.configPath], env);
    assert.equal(self.code, 1, 'the requester cannot approve');
    const ok = await wardenCli(['approvals', 'approve', id, '--as', 'bob', '--groups', 'dba', '--config', dir.configPath], env);
    assert.equal(ok.code, 0, ok.err);
    const done = await waiting;
    assert.equal(done.isError, false, done.text);
    assert.equal((await target.query('SELECT n FROM items WHERE id = 1')).rows[0]?.n, 1000);

    // 2. A waits again; another reviewer approves with a verified token.
    const waiting2 = onA.call('query_database', { connection: 'target', sql: `UPDATE items SET n = 2000 WHERE id = 2` });
    let id2: string | undefined;
    for (let i = 0; i < 100 && !id2; i++) {
      const l = await wardenCli(['approvals', 'list', '--state', 'pending', '--json', '--config', dir.configPath], env);
      id2 = (JSON.parse(l.out || '[]') as { id: string }[])[0]?.id;
      if (!id2) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(id2);
    // This time the reviewer proves who they are with an OIDC token, verified like any bearer token.
    const t = await wardenCli(['approvals', 'approve', id2, '--token', await token('dora', ['dba']), '--config', dir.configPath], env);
    assert.equal(t.code, 0, t.err);
    const done2 = await waiting2;
    assert.equal(done2.isError, false, done2.text);
    const callId = (done2.structured?.warden as { call_id?: string } | undefined)?.call_id;
    assert.ok(callId);

    const v = await wardenCli(['transcripts', 'verify', '--json', '--config', dir.configPath], env);
    assert.equal(v.code, 0, v.out + v.err);
    const result = JSON.parse(v.out) as { ok: boolean; records: number };
    assert.equal(result.ok, true);
    assert.ok(result.records > 40);
    const rows = await storeDb.query('SELECT DISTINCT owner FROM sessions');
    assert.ok(rows.rows.length >= 2, 'sessions from both replicas share the store');
    assert.equal((await storeDb.query('SELECT status FROM calls WHERE id = $1', [callId])).rows[0]?.status, 'ok');
  } finally {
    await onA.close();
    await onB.close();
  }
});
