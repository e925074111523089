/**
 * One agent identity calls the same UPDATE at the same moment through two `warden serve --http`
 * replicas of one PostgreSQL store: the reviewers see ONE request, one approval runs the call
 * once (the other call is refused: an approval is single use), and one denial refuses both calls.
 * Red-team: each replica made its own request, so the same call was asked twice; a reviewer who
 * approved what was listed ran it twice, and one who denied it left a twin for another to approve.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectHttpAgent, type HttpAgent } from '../support/http-agent.js';
import { startReplicaPair, wardenCli, type ReplicaPair } from './support.js';

let fleet: ReplicaPair;
let onA: HttpAgent;
let onB: HttpAgent;

before(async () => {
  fleet = await startReplicaPair('aprace');
  const token = await fleet.issuer.mint({ sub: 'alice', groups: ['dev'], scope: 'mcp' });
  onA = await connectHttpAgent(fleet.replicas[0].url, token);
  onB = await connectHttpAgent(fleet.replicas[1].url, token);
});

after(async () => {
  await onA?.close();
  await onB?.close();
  await fleet?.stop();
});

/** The pending requests for `needle` once both calls have had time to ask (from a third process). */
async function pendingFor(needle: string, settle = true): Promise<string[]> {
  const { dir, env } = fleet;
  const list = async () =>
    (JSON.parse((await wardenCli(['approvals', 'list', '--state', 'pending', '--json', '--config', dir.configPath], env)).out || '[]') as { id: string; call?: unknown; summary?: string }[])
      .filter((r) => JSON.stringify(r).includes(needle))
      .map((r) => r.id);
  for (let i = 0; settle && i < 100; i++) {
    if ((await list()).length) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (settle) await new Promise((r) => setTimeout(r, 1000));
  return list();
}

test('the same call through two replicas at once: one request, approved once, run once', async () => {
  const { target, dir, env } = fleet;
  const sql = 'UPDATE items SET n = n + 1 WHERE id = 7';
  const calls = Promise.all([onA.call('query_database', { connection: 'target', sql }), onB.call('query_database', { connection: 'target', sql })]);
  const pending = await pendingFor('id = 7');
  assert.equal(pending.length, 1, `the reviewers are asked once: ${pending.join(', ')}`);
  // The reviewer approves what is asked.
  for (const id of pending) assert.equal((await wardenCli(['approvals', 'approve', id, '--as', 'bob', '--groups', 'dba', '--config', dir.configPath], env)).code, 0);
  const done = await calls;
  assert.equal(done.filter((r) => !r.isError).length, 1, done.map((r) => r.text).join('\n'));
  assert.match(done.find((r) => r.isError)!.text, /WARDEN_APPROVAL_DENIED[\s\S]*already used by another call/);
  assert.equal((await target.query('SELECT n FROM items WHERE id = 7')).rows[0]?.n, 8, 'the update ran once');
});

test('the same call through two replicas at once, denied: neither runs', async () => {
  const { target, dir, env } = fleet;
  const sql = 'UPDATE items SET n = 0 WHERE id = 8';
  const calls = Promise.all([onA.call('query_database', { connection: 'target', sql }), onB.call('query_database', { connection: 'target', sql })]);
  const pending = await pendingFor('id = 8');
  assert.equal(pending.length, 1, `the reviewers are asked once: ${pending.join(', ')}`);
  assert.equal((await wardenCli(['approvals', 'deny', pending[0]!, '--as', 'dana', '--groups', 'dba', '--comment', 'no', '--config', dir.configPath], env)).code, 0);
  const done = await calls;
  for (const r of done) assert.match(r.text, /WARDEN_APPROVAL_DENIED[\s\S]*denied by dana/);
  assert.deepEqual(await pendingFor('id = 8', false), [], 'nothing is left for another reviewer to approve');
  assert.equal((await target.query('SELECT n FROM items WHERE id = 8')).rows[0]?.n, 8);
  const v = await wardenCli(['transcripts', 'verify', '--config', dir.configPath], env);
  assert.equal(v.code, 0, v.out + v.err);
});
