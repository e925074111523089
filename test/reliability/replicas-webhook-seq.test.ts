/**
 * Approval notices from several processes on one PostgreSQL store carry one order: the `seq` of
 * the transcript record each reports. Replica A makes a request, the reviewer CLI (another process)
 * approves it, and A's `requested` notice is held up by the receiver until after the CLI's
 * `decision` and `approved` arrived: by arrival, `approved` comes first; by seq, the receiver gets
 * the order the store recorded. A second request, made on replica B and denied, interleaves.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connectHttpAgent } from '../support/http-agent.js';
import { POLICY, startReplicaPair, wardenCli, type ReplicaPair } from './support.js';

interface Notice {
  event: string;
  seq: number;
  approval: { id: string };
}

let fleet: ReplicaPair;
let server: Server;
const delivered: Notice[] = [];
let approved = false;
let held = 0;
let release: () => void = () => undefined;
const approvedArrived = new Promise<void>((r) => (release = r));

before(async () => {
  // A `requested` notice that comes before any `approved` (A's, and A's retries of it should one
  // time out) is answered 503 only once an `approved` notice arrived (or 25 s passed): A retries
  // it, so it is delivered after the approval it preceded.
  const limit = setTimeout(release, 25_000);
  void approvedArrived.then(() => clearTimeout(limit));
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const n = JSON.parse(body) as Notice;
      if (n.event === 'requested' && !approved) {
        held++;
        void approvedArrived.then(() => res.writeHead(503).end());
        return;
      }
      delivered.push(n);
      if (n.event === 'approved') {
        approved = true;
        release();
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  const policy = POLICY.replace('approvals: 1, expires: 10m, wait: 30s }', `approvals: 1, expires: 10m, wait: 30s, notify: { webhook: "${url}", format: json } }`);
  assert.notEqual(policy, POLICY);
  fleet = await startReplicaPair('whseq', '', policy);
});

after(async () => {
  release();
  await fleet?.stop();
  await new Promise<void>((r) => server.close(() => r()));
});

async function pendingId(env: Record<string, string>, configPath: string, not: string[] = []): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const l = await wardenCli(['approvals', 'list', '--state', 'pending', '--json', '--config', configPath], env);
    const id = (JSON.parse(l.out || '[]') as { id: string }[]).find((x) => !not.includes(x.id))?.id;
    if (id) return id;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('no pending request');
}

test('notices from two replicas and a reviewer CLI carry the seq of their records: one order across processes', async () => {
  const { storeDb, issuer, dir, env, replicas: [a, b] } = fleet;
  const token = (sub: string) => issuer.mint({ sub, groups: ['dev'], scope: 'mcp' });
  const onA = await connectHttpAgent(a.url, await token('alice'));
  const onB = await connectHttpAgent(b.url, await token('carol'));
  try {
    const waiting = onA.call('query_database', { connection: 'target', sql: 'UPDATE items SET n = 1000 WHERE id = 1' });
    const first = await pendingId(env, dir.configPath);
    const ok = await wardenCli(['approvals', 'approve', first, '--as', 'bob', '--groups', 'dba', '--config', dir.configPath], env);
    assert.equal(ok.code, 0, ok.err);
    assert.equal((await waiting).isError, false);

    const waiting2 = onB.call('query_database', { connection: 'target', sql: 'UPDATE items SET n = 2000 WHERE id = 2' });
    const second = await pendingId(env, dir.configPath, [first]);
    const no = await wardenCli(['approvals', 'deny', second, '--as', 'bob', '--groups', 'dba', '--comment', 'no', '--config', dir.configPath], env);
    assert.equal(no.code, 0, no.err);
    assert.equal((await waiting2).isError, true);

    for (let i = 0; i < 150 && delivered.length < 6; i++) await new Promise((r) => setTimeout(r, 100));
    const arrival = (id: string) => delivered.filter((n) => n.approval.id === id).map((n) => n.event);
    assert.ok(held >= 1, 'A\'s `requested` was held back');
    assert.deepEqual(arrival(first), ['decision', 'approved', 'requested'], 'arrival order is not the order of events');
    assert.deepEqual(arrival(second).sort(), ['decision', 'denied', 'requested']);

    // Every notice's seq is the seq of the approval_event record it reports.
    const records = (await storeDb.query(`SELECT seq, ref_id, body FROM records WHERE kind = 'approval_event' ORDER BY seq`)).rows as { seq: string; ref_id: string; body: string }[];
    for (const n of delivered) {
      assert.equal(typeof n.seq, 'number', JSON.stringify(n));
      const r = records.find((x) => Number(x.seq) === n.seq);
      assert.ok(r, `no record with seq ${n.seq}`);
      assert.equal(r.ref_id, n.approval.id);
      assert.equal((JSON.parse(r.body) as { event: string }).event, n.event);
    }
    // Ordered by seq, the notices of both requests read as the store recorded them.
    const bySeq = [...delivered].sort((x, y) => x.seq - y.seq);
    assert.deepEqual(bySeq.filter((n) => n.approval.id === first).map((n) => n.event), ['requested', 'decision', 'approved']);
    assert.deepEqual(bySeq.filter((n) => n.approval.id === second).map((n) => n.event), ['requested', 'decision', 'denied']);
    assert.ok(bySeq.findIndex((n) => n.approval.id === second) > bySeq.findLastIndex((n) => n.approval.id === first), 'the second request came after the first was approved');
  } finally {
    await onA.close();
    await onB.close();
  }
});
