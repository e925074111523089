import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { startStandaloneUi } from '../../src/cli/ui-serve.js';
import { CSP } from '../../src/ui/index.js';
import type { Principal } from '../../src/tool-api.js';
import { ErrorCode, WardenError } from '../../src/errors.js';
import { seedUi, XSS } from './fixtures.js';

async function setup(t: { after: (fn: () => unknown) => void }, verifyToken?: (tok: string) => Promise<{ principal: Principal; expiresAt: number }>) {
  const dir = mkdtempSync(join(tmpdir(), 'warden-ui-'));
  const store = openSqliteStore(join(dir, 'w.db'));
  await seedUi(store);
  const ui = await startStandaloneUi({ store, log: () => undefined, ...(verifyToken ? { verifyToken } : {}) }, { host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await ui.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const origin = new URL(ui.url).origin;
  const login = async (url = ui.loginUrl) => {
    const r = await fetch(url, { redirect: 'manual' });
    return { status: r.status, cookie: (r.headers.get('set-cookie') ?? '').split(';')[0] ?? '', setCookie: r.headers.get('set-cookie') ?? '' };
  };
  return { ui, origin, login, store };
}

test('pages need a session; the one-time link works once and sets a strict cookie', async (t) => {
  const { origin, login, ui } = await setup(t);
  const anon = await fetch(`${origin}/ui/`, { redirect: 'manual' });
  assert.equal(anon.status, 303);
  assert.equal(anon.headers.get('location'), '/ui/login');
  assert.equal((await fetch(`${origin}/ui/events`)).status, 401);
  const first = await login();
  assert.equal(first.status, 303);
  assert.match(first.setCookie, /HttpOnly/);
  assert.match(first.setCookie, /SameSite=Strict/);
  assert.equal((await login(ui.loginUrl)).status, 401, 'the same link is refused the second time');
  assert.equal((await login(`${origin}/ui/login?token=guess`)).status, 401);
  const page = await fetch(`${origin}/ui/`, { headers: { cookie: first.cookie } });
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-security-policy'), CSP);
  assert.match(CSP, /default-src 'none'; script-src 'self'; style-src 'self'/);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  const body = await page.text();
  assert.equal((body.match(/<script/g) ?? []).length, 1, 'one script element, the external app.js');
  assert.doesNotMatch(body, /<[a-z]+[^>]*\son[a-z]+=/i, 'no inline event handler');
});

test('transcript values are escaped everywhere', async (t) => {
  const { origin, login } = await setup(t);
  const { cookie } = await login();
  const list = await (await fetch(`${origin}/ui/?principal=agent-evil`, { headers: { cookie } })).text();
  assert.ok(!list.includes(XSS));
  const s = await (await fetch(`${origin}/ui/sessions/sess-evil`, { headers: { cookie } })).text();
  assert.ok(!s.includes('<img src=x'));
  assert.ok(!s.includes('<script>alert'));
  assert.ok(s.includes('&lt;img src=x onerror=alert(1)&gt;&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;'));
});

test('filters, large results truncated and paged, bad input refused', async (t) => {
  const { origin, login } = await setup(t);
  const { cookie } = await login();
  const get = async (p: string) => fetch(`${origin}${p}`, { headers: { cookie } });
  const filtered = await (await get('/ui/?principal=agent-alpha&decision=deny')).text();
  assert.match(filtered, /sess-alpha/);
  assert.doesNotMatch(filtered, /filler-/);
  const text = await (await get('/ui/?q=DROP')).text();
  assert.match(text, /sess-alpha/);
  assert.doesNotMatch(text, /sess-evil/);
  const session = await (await get('/ui/sessions/sess-alpha')).text();
  assert.match(session, /a\*\*\*@example\.com/);
  assert.match(session, /truncated, \d+ more characters/);
  assert.match(session, /\(\+19700 characters\)/);
  assert.ok(session.length < 60_000, 'the 20 kB value is not inlined whole');
  const full = await (await get('/ui/calls/call-alpha/result?page=1')).text();
  assert.match(full, /page 1 of 1/);
  assert.equal((await get('/ui/?decision=maybe')).status, 400);
  assert.equal((await get('/ui/?since=notadate')).status, 400);
  assert.equal((await get('/ui/?cursor=bad!cursor')).status, 400);
  assert.equal((await get('/ui/sessions/nope')).status, 404);
  assert.equal((await get('/ui/approvals')).status, 404, 'no approvals page without an approvals API');
});

test('POSTs need the CSRF token and the same origin; OIDC login uses verifyToken', async (t) => {
  const verify = async (tok: string) => {
    if (tok !== 'good-token') throw new Error('bad');
    return { principal: { subject: 'rita', groups: ['reviewers'], claims: {}, authMethod: 'oidc' } as Principal, expiresAt: Math.floor(Date.now() / 1000) + 3600 };
  };
  const { origin, login } = await setup(t, verify);
  const { cookie } = await login();
  const form = { 'content-type': 'application/x-www-form-urlencoded', cookie, origin };
  const wrong = await fetch(`${origin}/ui/logout`, { method: 'POST', headers: form, body: 'csrf=wrong', redirect: 'manual' });
  assert.equal(wrong.status, 403);
  assert.match(await wrong.text(), /CSRF/, 'this server\'s Origin, refused for the token');
  const cross = await fetch(`${origin}/ui/logout`, { method: 'POST', headers: { ...form, origin: 'http://evil.example' }, body: 'csrf=x', redirect: 'manual' });
  assert.equal(cross.status, 403);
  const bad = await fetch(`${origin}/ui/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=nope', redirect: 'manual' });
  assert.equal(bad.status, 401);
  const good = await fetch(`${origin}/ui/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=good-token', redirect: 'manual' });
  assert.equal(good.status, 303);
  const c2 = (good.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const home = await (await fetch(`${origin}/ui/`, { headers: { cookie: c2 } })).text();
  assert.match(home, /rita \(oidc\)/);
});

test('OIDC login: a token refused for a missing scope is a 403 with no session; other refusals a 401', async (t) => {
  const verify = async (tok: string): Promise<{ principal: Principal; expiresAt: number }> => {
    if (tok === 'not-reviewer') throw new WardenError(ErrorCode.UNAUTHENTICATED, 'this identity reviews nothing under the current policy', { reason: 'not_a_reviewer', subject: 'alice' });
    if (tok === 'short') return { principal: { subject: 'rita', groups: ['reviewers'], claims: {}, authMethod: 'oidc' }, expiresAt: Math.floor(Date.now() / 1000) + 2 };
    if (tok === 'no-scope') throw new WardenError(ErrorCode.UNAUTHENTICATED, 'the token lacks the required scope(s): warden.review', { reason: 'insufficient_scope', missing: ['warden.review'] });
    throw new WardenError(ErrorCode.UNAUTHENTICATED, 'the token has expired', { reason: 'expired' });
  };
  const { origin } = await setup(t, verify);
  const post = (token: string) => fetch(`${origin}/ui/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${token}`, redirect: 'manual' });
  const noScope = await post('no-scope');
  assert.equal(noScope.status, 403);
  assert.equal(noScope.headers.get('set-cookie'), null);
  assert.match(await noScope.text(), /lacks the scope/);
  const expired = await post('expired');
  assert.equal(expired.status, 401);
  assert.equal(expired.headers.get('set-cookie'), null);
  const agent = await post('not-reviewer');
  assert.equal(agent.status, 403, 'a valid token of a principal who reviews nothing');
  assert.equal(agent.headers.get('set-cookie'), null);
  assert.match(await agent.text(), /not a reviewer/);
  // The session ends with the token: a token with 2 s left gives a cookie of at most 2 s, and the
  // session is refused once it has passed.
  const short = await post('short');
  assert.equal(short.status, 303);
  const setCookie = short.headers.get('set-cookie') ?? '';
  const maxAge = Number(/Max-Age=(\d+)/.exec(setCookie)?.[1]);
  assert.ok(maxAge <= 2, `Max-Age ${maxAge}`);
  const cookie = setCookie.split(';')[0] ?? '';
  assert.equal((await fetch(`${origin}/ui/`, { headers: { cookie }, redirect: 'manual' })).status, 200);
  await new Promise((r) => setTimeout(r, 2100));
  assert.notEqual((await fetch(`${origin}/ui/`, { headers: { cookie }, redirect: 'manual' })).status, 200, 'the session ended with the token');
});

test('the standalone UI refuses a request whose Host or Origin is another name (DNS rebinding)', async (t) => {
  const { origin } = await setup(t);
  const port = new URL(origin).port;
  const { request } = await import('node:http');
  const status = (headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/ui/login', method: 'GET', headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
  assert.equal(await status({ host: `evil.example:${port}` }), 403, 'a rebound name');
  assert.equal(await status({ host: `127.0.0.1:${port}`, origin: 'http://evil.example' }), 403, 'a foreign origin');
  assert.equal(await status({ host: `127.0.0.1:${port}` }), 200, 'this address');
  assert.equal(await status({ host: `localhost:${port}` }), 200, 'localhost');
});

test('a malformed percent-escape in a path is a 400, not a 500', async (t) => {
  const { origin, login } = await setup(t);
  const { cookie } = await login();
  for (const p of ['/ui/sessions/%E0%A4%A', '/ui/calls/%E0%A4%A/result', '/ui/sessions/%ZZ']) {
    const r = await fetch(`${origin}${p}`, { headers: { cookie } });
    assert.equal(r.status, 400, p);
    assert.match(await r.text(), /percent|escape|encoded/i);
  }
  const form = { 'content-type': 'application/x-www-form-urlencoded', cookie, origin };
  const post = await fetch(`${origin}/ui/approvals/%E0%A4%A/approve`, { method: 'POST', headers: form, body: 'csrf=x', redirect: 'manual' });
  assert.notEqual(post.status, 500, 'a POST path is no 500 either');
});
