/**
 * The reviewer UI over a real `warden serve --http` process with real OIDC sign-ins: a reviewer
 * whose token names them by an opaque `sub` and carries the requester's email is the requester.
 * Found: the agent asked as `sam@corp.example` and sam, signed in as the IdP's `00u9f3k` with
 * that email and group dba, was offered Approve and approved his own call. Now the card says
 * "your own request" and a forged form post is refused, as approvals/own-request-identities tests.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectHttpAgent, rawRequest } from '../support/http-agent.js';
import { spawnHttpWarden, startHttpWarden, type HttpWarden } from '../support/http-warden.js';

const POLICY = `
rules:
  - id: orders-dba
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.orders] }
    approval: { reviewers: { groups: [dba] }, wait: 1s }
`;

let base: HttpWarden;
let w: { url: string; stop(): Promise<void> };
let id = '';

before(async () => {
  base = await startHttpWarden({ 'base.yaml': 'rules: []\n' });
  w = await spawnHttpWarden(base, { 'base.yaml': POLICY }, '', { ui: true });
  const agent = await connectHttpAgent(w.url, await base.token('sam@corp.example', ['sre']));
  try {
    const r = await agent.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM orders' });
    id = /approval id: ([\w-]+)/.exec(r.text)?.[1] ?? '';
    assert.ok(id, r.text);
  } finally {
    await agent.close();
  }
});
after(async () => {
  await w?.stop();
  await base?.stop();
});

async function signIn(sub: string, extra: Record<string, unknown>): Promise<string> {
  const token = await base.token(sub, ['dba'], extra);
  const r = await rawRequest(w.url, { path: '/ui/login', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: w.url }, body: `token=${encodeURIComponent(token)}` });
  assert.equal(r.status, 303, r.body);
  return String(r.headers['set-cookie'] ?? '').split(';')[0]!;
}
const get = (cookie: string, path: string) => rawRequest(w.url, { method: 'GET', path, headers: { cookie } });

test("a reviewer whose token's email is the requester's subject sees 'your own request' and cannot approve", async () => {
  const sam = await signIn('00u9f3k', { email: 'Sam@Corp.Example', email_verified: true });
  const page = (await get(sam, '/ui/approvals')).body;
  const at = page.indexOf(`id="approval-${id}"`);
  assert.ok(at >= 0, 'the card is listed');
  const card = page.slice(at, page.indexOf('</section>', at));
  assert.ok(!card.includes(`action="/ui/approvals/${id}/approve"`), 'no Approve button on his own request');
  assert.match(card, /class="cannot-decide"[^>]*>[^<]*your own request/i);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
  const r = await rawRequest(w.url, { path: `/ui/approvals/${id}/approve`, headers: { cookie: sam, origin: w.url, 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${encodeURIComponent(csrf)}&decision=approve` });
  assert.match(r.body + (await get(sam, String(r.headers.location ?? '/ui/approvals'))).body, /requested this call/);
  // Another dba (another email) approves.
  const dana = await signIn('00u1dana', { email: 'dana@corp.example' });
  const dpage = (await get(dana, '/ui/approvals')).body;
  const d = await rawRequest(w.url, { path: `/ui/approvals/${id}/approve`, headers: { cookie: dana, origin: w.url, 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${encodeURIComponent(/name="csrf" value="([^"]+)"/.exec(dpage)?.[1] ?? '')}&decision=approve` });
  assert.equal(d.status, 303, d.body);
  assert.match((await get(dana, String(d.headers.location))).body, new RegExp(`You approved request ${id}\\b`));
});
