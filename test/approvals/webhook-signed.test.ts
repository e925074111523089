/**
 * Approval webhooks a receiver can trust and read in order. A receiver that acts on notices (a
 * bot that pages, a ticket that closes on `approved`) must be able to tell Warden's notices from
 * anyone's who learnt the URL, and must not see `approved` before the `decision` that made it.
 * Found: notices were unsigned (no secret, no signature header) and delivered concurrently, so a
 * retried `decision` arrived after the `approved` it caused. Real HTTP receivers on loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createWebhookNotifier, type ApprovalNotice } from '../../src/approvals/index.js';
import { compilePolicy } from '../../src/policy/load.js';

interface Hit {
  status: number;
  body: string;
  headers: IncomingHttpHeaders;
}

/** A receiver on loopback; `status(n)` answers the n-th request (0-based). */
async function receiver(status: (n: number) => number = () => 200): Promise<{ url: string; hits: Hit[]; close(): Promise<void> }> {
  const hits: Hit[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const s = status(hits.length);
      hits.push({ status: s, body, headers: req.headers });
      res.writeHead(s).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, hits, close: () => new Promise((r) => server.close(() => r())) };
}

const notice = (event: ApprovalNotice['event'], state: 'pending' | 'approved' = 'pending'): ApprovalNotice => ({
  event,
  seq: event === 'requested' ? 1 : event === 'decision' ? 2 : 3,
  approval: { id: 'req-1', state, requester: 'sam', tool: 'query_database', connection: 'db', summary: 'UPDATE orders', rule_ids: ['fix'], approvals_required: 1, approvals: 0, created_at: '', expires_at: '', call_id: 'c1', session_id: 's1', decisions: [] },
  call: { tool: 'query_database', connection: 'db', args: { sql: 'UPDATE orders SET paid = true WHERE id = 7' } },
  ...(event === 'decision' || event === 'approved' ? { reviewer: { subject: 'dana', decision: 'approve' as const, comment: null } } : {}),
});

// Standard Webhooks (standardwebhooks.com): a `whsec_` secret's key is its base64 part.
const SECRET = 'whsec_' + Buffer.from('a-32-byte-signing-key-for-tests!').toString('base64');
const resolve = async (ref: string) => {
  if (ref === 'env:HOOK_SECRET') return SECRET;
  throw new Error(`cannot resolve ${ref}`);
};

function expectedSignature(h: Hit): string {
  const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
  return 'v1,' + createHmac('sha256', key).update(`${String(h.headers['webhook-id'])}.${String(h.headers['webhook-timestamp'])}.${h.body}`).digest('base64');
}

test('a rule with notify.secret signs each notice (Standard Webhooks headers); a retry resends the same id', async () => {
  const r = await receiver((n) => (n === 0 ? 503 : 200));
  const n = createWebhookNotifier({ resolve, attempts: 3, baseDelayMs: 5 });
  try {
    const before = Math.floor(Date.now() / 1000);
    n.notify({ webhook: r.url, format: 'json', secret: 'env:HOOK_SECRET' }, notice('requested'));
    await n.drain(5000);
    assert.equal(r.hits.length, 2, 'one failed attempt and one delivery');
    for (const h of r.hits) {
      assert.match(String(h.headers['webhook-id']), /^msg_[0-9a-f-]{36}$/);
      const ts = Number(h.headers['webhook-timestamp']);
      assert.ok(ts >= before && ts <= Math.floor(Date.now() / 1000) + 1, `timestamp ${ts}`);
      assert.equal(h.headers['webhook-signature'], expectedSignature(h));
      assert.ok(!h.body.includes(SECRET) && !JSON.stringify(h.headers).includes(SECRET.slice(6)), 'the secret itself is never sent');
    }
    assert.equal(r.hits[0]!.headers['webhook-id'], r.hits[1]!.headers['webhook-id'], 'a retry is the same message (receivers deduplicate by id)');
    // A forged body does not verify with the signature Warden sent.
    const forged = { ...r.hits[1]!, body: r.hits[1]!.body.replace('id = 7', 'id > 0') };
    assert.notEqual(forged.headers['webhook-signature'], expectedSignature(forged));
  } finally {
    await r.close();
  }
});

test('a configured secret that cannot be resolved sends nothing (never an unsigned notice) and logs no secret', async () => {
  const r = await receiver();
  const logs: string[] = [];
  const n = createWebhookNotifier({ resolve, attempts: 2, baseDelayMs: 1, log: (_l, msg, data) => logs.push(msg + JSON.stringify(data ?? {})) });
  try {
    n.notify({ webhook: r.url, format: 'json', secret: 'env:MISSING_SECRET' }, notice('requested'));
    await n.drain(5000);
    assert.equal(r.hits.length, 0, 'an unsigned notice went out although the rule asks for signed ones');
    assert.ok(logs.some((l) => /signing secret/.test(l)), logs.join('\n'));
  } finally {
    await r.close();
  }
});

test('notices to one webhook arrive in the order they happened, even when the first is retried', async () => {
  const r = await receiver((n) => (n === 0 ? 503 : 200));
  const n = createWebhookNotifier({ attempts: 3, baseDelayMs: 50 });
  try {
    n.notify({ webhook: r.url, format: 'json' }, notice('decision'));
    n.notify({ webhook: r.url, format: 'json' }, notice('approved', 'approved'));
    await n.drain(5000);
    const delivered = r.hits.filter((h) => h.status === 200).map((h) => (JSON.parse(h.body) as { event: string }).event);
    assert.deepEqual(delivered, ['decision', 'approved']);
  } finally {
    await r.close();
  }
});

test('notify.secret takes a secret reference only (an inline secret in a policy file is refused)', () => {
  const rule = (secret: string) => `rules:\n  - id: fix\n    effect: allow\n    who: { groups: [dev] }\n    tool: query_database\n    approval: { reviewers: { groups: [dba] }, notify: { webhook: "https://hooks.example/x", secret: "${secret}" } }\n`;
  const p = compilePolicy(['p.yaml'], [], { 'p.yaml': rule('env:HOOK_SECRET') });
  assert.equal(p.rules.find((x) => x.id === 'fix')?.approval?.notify?.secret, 'env:HOOK_SECRET');
  assert.throws(() => compilePolicy(['p.yaml'], [], { 'p.yaml': rule('whsec_inline') }), /secret reference/);
  // A relative file: reference is read from the policy file's folder, as a file: webhook is.
  const f = '/srv/warden/policies/p.yaml';
  assert.equal(compilePolicy([f], [], { [f]: rule('file:keys/hook.secret') }).rules.find((x) => x.id === 'fix')?.approval?.notify?.secret, 'file:/srv/warden/policies/keys/hook.secret');
});
