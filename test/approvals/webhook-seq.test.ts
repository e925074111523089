/**
 * Every approval notice carries the transcript `seq` of the record it reports: one order that
 * holds across processes (replicas and reviewer CLIs on one store), so a receiver can order notices
 * and drop stale ones. Found: a notice carried no order but its arrival, and notices from two
 * processes about one request could arrive `approved` before `requested`. A real SQLite store, the
 * real approval service and webhook notifier, and a real receiver on loopback (signed notices).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createApprovalService, createWebhookNotifier } from '../../src/approvals/index.js';
import { compilePolicy } from '../../src/policy/load.js';
import type { Decision } from '../../src/policy/types.js';
import type { Principal } from '../../src/tool-api.js';
import { tempDir } from '../recorder/fixtures.js';
import { until } from './support.js';

const SECRET = 'whsec_' + Buffer.from('a-32-byte-signing-key-for-tests!').toString('base64');

async function receiver() {
  const hits: { body: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => (hits.push({ body, headers: req.headers }), res.writeHead(200).end()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, hits, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const p = (subject: string, groups: string[], authMethod: Principal['authMethod'] = 'local'): Principal => ({ subject, groups, claims: {}, authMethod });

test('each notice carries the seq of the transcript record it reports; seqs increase; signed bodies verify', async (t) => {
  const hook = await receiver();
  t.after(() => hook.close());
  const policy = compilePolicy(['p.yaml'], [], {
    'p.yaml': `rules:\n  - id: fix\n    effect: allow\n    who: { groups: [dev] }\n    tool: query_database\n    approval: { reviewers: { groups: [dba] }, approvals: 1, expires: 30m, notify: { webhook: "${hook.url}", secret: env:HOOK_SECRET } }\n`,
  });
  const store = openSqliteStore(join(tempDir(t), 't.db'));
  t.after(() => void store.close());
  const notifier = createWebhookNotifier({ resolve: async (ref) => (ref === 'env:HOOK_SECRET' ? SECRET : Promise.reject(new Error(ref))), baseDelayMs: 5 });
  const svc = createApprovalService(store.approvals, { policy: () => policy, notifier, pollMs: 5 });
  const rule = policy.rules.find((r) => r.id === 'fix')!;
  const decision = (wait: number, approvals = 1): Decision => ({ effect: 'allow', ruleIds: ['fix'], reason: 'x', trace: [], alternatives: [], approval: { ...rule.approval!, approvals, wait, ruleId: 'fix' } });
  const gate = (sql: string, wait = 0, recheck?: () => { code: string; message: string } | null, approvals = 1) =>
    svc.gate({
      callId: `call-${sql}`, sessionId: 's1', principal: p('sam', ['dev']), tool: 'query_database', connection: 'db', canonicalArgs: { connection: 'db', sql },
      decision: decision(wait, approvals), factsSummary: sql, signal: new AbortController().signal, ...(recheck ? { recheck } : {}),
    });
  const idOf = (r: Awaited<ReturnType<typeof gate>>) => (r as { approvalId: string }).approvalId;

  // requested, decision, approved
  const a = idOf(await gate('UPDATE t SET n = 1'));
  await svc.approve(a, p('dana', ['dba']), 'ok');
  // requested, decision, denied
  const b = idOf(await gate('UPDATE t SET n = 2'));
  await svc.deny(b, p('dana', ['dba']), 'no');
  // requested, decision (1 of 2), then withdrawn: dora's verified token no longer carries dba
  const c = idOf(await gate('UPDATE t SET n = 3', 0, undefined, 2));
  await svc.approve(c, p('dora', ['dba'], 'oidc'), 'ok');
  await assert.rejects(svc.approve(b, p('dora', [], 'oidc'), 'again'));
  // requested, decision, approved, then voided: the live policy refuses the waiting call
  const waiting = gate('UPDATE t SET n = 4', 20_000, () => ({ code: 'WARDEN_DENIED', message: 'incident freeze' }));
  const d = await until(async () => (await svc.list({ state: 'pending' })).find((v) => v.call?.args.sql === 'UPDATE t SET n = 4')?.id, 5000, 'the 4th request');
  await svc.approve(d, p('dana', ['dba']), 'ok');
  assert.equal((await waiting).granted, false);
  await notifier.drain(5000);

  const records = store.db.prepare(`SELECT seq, ref_id, body FROM records WHERE kind = 'approval_event' ORDER BY seq`).all() as { seq: number; ref_id: string; body: string }[];
  const bodies = hook.hits.map((h) => JSON.parse(h.body) as { event: string; seq: unknown; approval: { id: string } });
  const events = (id: string) => bodies.filter((x) => x.approval.id === id).map((x) => x.event);
  assert.deepEqual(events(a), ['requested', 'decision', 'approved']);
  assert.deepEqual(events(b), ['requested', 'decision', 'denied']);
  assert.deepEqual(events(c), ['requested', 'decision', 'withdrawn']);
  assert.deepEqual(events(d), ['requested', 'decision', 'approved', 'voided']);
  const seqs = bodies.map((x) => x.seq);
  assert.ok(seqs.every((s) => typeof s === 'number'), `every notice carries a numeric seq: ${JSON.stringify(seqs)}`);
  assert.deepEqual(seqs, [...(seqs as number[])].sort((x, y) => x - y), 'one process sends in the order of the records');
  assert.equal(new Set(seqs).size, seqs.length, 'each notice reports its own record');
  for (const n of bodies) {
    const r = records.find((x) => x.seq === n.seq);
    assert.ok(r, `no transcript record with seq ${String(n.seq)}`);
    assert.equal(r.ref_id, n.approval.id, `seq ${String(n.seq)} is a record of ${n.approval.id}`);
    const ev = (JSON.parse(r.body) as { event: string }).event;
    assert.equal(ev, n.event, `record ${r.seq} is the ${n.event} the notice reports`);
  }
  // The seq is signed with the rest of the body.
  for (const h of hook.hits) {
    const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
    const mac = (body: string) => 'v1,' + createHmac('sha256', key).update(`${String(h.headers['webhook-id'])}.${String(h.headers['webhook-timestamp'])}.${body}`).digest('base64');
    assert.equal(h.headers['webhook-signature'], mac(h.body));
    assert.notEqual(h.headers['webhook-signature'], mac(h.body.replace(/"seq":(\d+)/, (_m, n: string) => `"seq":${Number(n) + 1000}`)));
  }
});
