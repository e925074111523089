/**
 * Red team of the reviewer UI and the HTTP error paths, against a real `warden serve --http`
 * process (UI mounted) with real OIDC sign-ins, over raw HTTP:
 * - a link `/ui/approvals?done=approved` made the page say "The request was approved." with
 *   nothing decided: the confirmation is now a one-time notice kept in the reviewer's server-side
 *   session, set by the decision itself and naming the request and its state;
 * - the queue offered Approve/Deny on the reviewer's own requests and on requests they may not
 *   decide (not among the rule's reviewers, already decided), which the server then refused: the
 *   card now says why, from the same check approve and deny make;
 * - refusals written by the HTTP guards (Host, Origin, body size, media type), the token check,
 *   the 404 and the MCP answers themselves went out without the baseline security headers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectHttpAgent, rawRequest, type RawResponse } from '../support/http-agent.js';
import { spawnHttpWarden, startHttpWarden, type HttpWarden } from '../support/http-warden.js';

// sam (sre) asks for `slow` reads, which two of sre/dba approve; olga (ops) asks for `orders`
// reads, which only dba approves. sam is a reviewer (of the first rule), so he can sign in.
const POLICY = `
rules:
  - id: slow-two
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.slow] }
    approval: { reviewers: { groups: [sre, dba] }, approvals: 2, wait: 1s }
  - id: orders-dba
    effect: allow
    who: { groups: [ops] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.orders] }
    approval: { reviewers: { groups: [dba] }, wait: 1s }
`;

let base: HttpWarden;
let w: { url: string; stop(): Promise<void> };
let slowId = '';
let ordersId = '';

/** Ask for a call as an agent; the approval id its "pending" answer names. */
async function pending(sub: string, groups: string[], sql: string): Promise<string> {
  const agent = await connectHttpAgent(w.url, await base.token(sub, groups));
  try {
    const r = await agent.call('query_database', { connection: 'analytics', sql });
    const id = /approval id: ([\w-]+)/.exec(r.text)?.[1];
    assert.ok(id, r.text);
    return id;
  } finally {
    await agent.close();
  }
}

/** Sign in to the UI with an OIDC token (the form post a browser makes); the session cookie. */
async function signIn(sub: string, groups: string[]): Promise<string> {
  const token = await base.token(sub, groups);
  const r = await rawRequest(w.url, { path: '/ui/login', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: w.url }, body: `token=${encodeURIComponent(token)}` });
  assert.equal(r.status, 303, r.body);
  const cookie = String(r.headers['set-cookie'] ?? '').split(';')[0]!;
  assert.match(cookie, /^warden_ui=./);
  return cookie;
}

const get = (cookie: string, path: string) => rawRequest(w.url, { method: 'GET', path, headers: { cookie } });
const csrfOf = (page: string) => /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
const decide = (cookie: string, csrf: string, id: string, action: 'approve' | 'deny') =>
  rawRequest(w.url, { path: `/ui/approvals/${id}/${action}`, headers: { cookie, origin: w.url, 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${encodeURIComponent(csrf)}&decision=${action}` });
/** The card of one request on a queue page. */
const card = (page: string, id: string) => {
  const at = page.indexOf(`id="approval-${id}"`);
  assert.ok(at >= 0, `card ${id} on the page`);
  const end = page.indexOf('</section>', at);
  return page.slice(at, end);
};
const hasForm = (c: string, id: string, action: string) => c.includes(`action="/ui/approvals/${id}/${action}"`);

before(async () => {
  base = await startHttpWarden({ 'base.yaml': 'rules: []\n' });
  w = await spawnHttpWarden(base, { 'base.yaml': POLICY }, 'http: { max_body_bytes: 65536 }', { ui: true });
  slowId = await pending('sam', ['sre'], 'SELECT id FROM slow');
  ordersId = await pending('olga', ['ops'], 'SELECT id FROM orders');
});
after(async () => {
  await w?.stop();
  await base?.stop();
});

describe('reviewer UI over a real warden serve --http', () => {
  test('a link saying a decision happened shows nothing; the decision\'s own notice names the request, once', async () => {
    const rita = await signIn('rita', ['dba']);
    const forged = await get(rita, '/ui/approvals?done=approved');
    assert.equal(forged.status, 200);
    assert.doesNotMatch(forged.body, /was approved|approved request|You approved/i, 'a query parameter alone claims nothing');
    assert.doesNotMatch(forged.body, /id="decided"/);

    const r = await decide(rita, csrfOf(forged.body), slowId, 'approve');
    assert.equal(r.status, 303, r.body);
    assert.equal(r.headers.location, '/ui/approvals', 'the redirect carries no claim of its own');
    const shown = await get(rita, String(r.headers.location));
    const notice = /<p id="decided"[^>]*>([^<]*)</.exec(shown.body)?.[1] ?? '';
    // 1 of the 2 approvals the rule needs: the request is not approved yet, and the notice says so.
    assert.match(notice, new RegExp(`You approved request ${slowId}\\b.*still pending, 1 of 2 approvals`));
    const again = await get(rita, '/ui/approvals');
    assert.doesNotMatch(again.body, /id="decided"/, 'the notice is shown once');
    // Another reviewer's session never sees it.
    const tom = await signIn('tom', ['dba']);
    assert.doesNotMatch((await get(tom, '/ui/approvals')).body, /id="decided"/);
  });

  test('the queue says why a reviewer cannot decide instead of offering buttons the server refuses', async () => {
    // sam requested slowId: his own. ordersId needs dba, and sam is sre.
    const sam = await signIn('sam', ['sre']);
    const page = (await get(sam, '/ui/approvals')).body;
    const own = card(page, slowId);
    assert.ok(!hasForm(own, slowId, 'approve') && !hasForm(own, slowId, 'deny'), 'no buttons on his own request');
    assert.match(own, /class="cannot-decide"[^>]*>[^<]*your own request/i);
    const other = card(page, ordersId);
    assert.ok(!hasForm(other, ordersId, 'approve') && !hasForm(other, ordersId, 'deny'));
    assert.match(other, /class="cannot-decide"[^>]*>[^<]*needs dba/i);
    // And the server still refuses what the page no longer offers.
    assert.equal((await decide(sam, csrfOf(page), slowId, 'approve')).status, 403);

    // rita approved slowId in the test above (1 of 2): she cannot approve it twice; ordersId is hers to decide.
    const rita = await signIn('rita', ['dba']);
    const rp = (await get(rita, '/ui/approvals')).body;
    const decided = card(rp, slowId);
    assert.ok(!hasForm(decided, slowId, 'approve') && !hasForm(decided, slowId, 'deny'));
    assert.match(decided, /class="cannot-decide"[^>]*>[^<]*you already approved/i);
    const open = card(rp, ordersId);
    assert.ok(hasForm(open, ordersId, 'approve') && hasForm(open, ordersId, 'deny'), 'a request she may decide keeps both buttons');
    assert.doesNotMatch(open, /cannot-decide/);
  });
});

describe('every HTTP response carries the baseline security headers', () => {
  const baseline = (r: RawResponse, what: string) => {
    assert.equal(r.headers['x-content-type-options'], 'nosniff', what);
    assert.match(String(r.headers['content-security-policy']), /default-src 'none'/, what);
    assert.match(String(r.headers['cache-control']), /no-store/, what);
    assert.ok(r.headers['referrer-policy'], `${what}: Referrer-Policy`);
    assert.equal(r.headers['x-frame-options'], 'DENY', what);
  };

  test('guard refusals, token refusals, 404s and MCP answers', async () => {
    const json = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    const token = await base.token('sam', ['sre']);
    const cases: [string, () => Promise<RawResponse>, number][] = [
      ['foreign Host', () => rawRequest(w.url, { headers: { ...json, host: 'evil.example' }, body: init }), 403],
      ['foreign Origin', () => rawRequest(w.url, { headers: { ...json, origin: 'http://evil.example' }, body: init }), 403],
      ['no token', () => rawRequest(w.url, { headers: json, body: init }), 401],
      ['wrong media type', () => rawRequest(w.url, { headers: { ...json, 'content-type': 'text/plain', authorization: `Bearer ${token}` }, body: init }), 415],
      ['body too large', () => rawRequest(w.url, { headers: { ...json, authorization: `Bearer ${token}` }, body: JSON.stringify({ pad: 'x'.repeat(70_000) }) }), 413],
      ['malformed JSON', () => rawRequest(w.url, { headers: { ...json, authorization: `Bearer ${token}` }, body: '{"jsonrpc":' }), 400],
      ['unknown path', () => rawRequest(w.url, { method: 'GET', path: '/nope' }), 404],
      ['health probe', () => rawRequest(w.url, { method: 'GET', path: '/healthz' }), 200],
      ['MCP initialize', () => rawRequest(w.url, { headers: { ...json, authorization: `Bearer ${token}` }, body: init }), 200],
    ];
    for (const [what, send, status] of cases) {
      const r = await send();
      assert.equal(r.status, status, `${what}: ${r.body.slice(0, 200)}`);
      baseline(r, what);
    }
    // The UI keeps its own page policy (its script and stylesheet), and the baseline otherwise.
    const login = await rawRequest(w.url, { method: 'GET', path: '/ui/login' });
    assert.match(String(login.headers['content-security-policy']), /script-src 'self'/);
    baseline(login, 'UI page');
  });
});
