/**
 * The reviewer UI's login under attack: the one-time link is for this machine only, so a request
 * that a reverse proxy forwarded (the listener then sees every client as 127.0.0.1) cannot use
 * it; a cookie value the attacker chose is never adopted as a session (fixation); logout ends the
 * session on the server, not just in the browser, and so does signing in again over it; a
 * cookie another port's page set beside the reviewer's neither signs them out nor picks whose
 * session a request acts under.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { startStandaloneUi } from '../../src/cli/ui-serve.js';
import { rawRequest } from '../support/http-agent.js';
import { seedUi } from './fixtures.js';
import { seededUi } from './seeded-ui.js';

async function setup(t: { after: (fn: () => unknown) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'warden-ui-login-'));
  const store = openSqliteStore(join(dir, 'w.db'));
  await seedUi(store);
  const ui = await startStandaloneUi({ store, log: () => undefined }, { host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await ui.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { ui, origin: new URL(ui.url).origin };
}

const cookieOf = (r: Response) => (r.headers.get('set-cookie') ?? '').split(';')[0] ?? '';

test('a login link arriving through a reverse proxy is refused, and stays usable locally', async (t) => {
  // As `serve --http` on loopback behind a TLS proxy: the public name passes the Host check (it
  // is the audience's), and every request's socket is 127.0.0.1.
  const { ui, base } = await seededUi(t, 'warden-ui-proxy-', { audience: 'https://warden.example.com/mcp', seed: false });

  const local = new URL(base).host;
  const proxied: Record<string, string>[] = [
    { host: 'warden.example.com', 'x-forwarded-for': '203.0.113.7' },
    { host: 'warden.example.com' },
    { host: local, 'x-forwarded-for': '203.0.113.7' },
    { host: local, forwarded: 'for=203.0.113.7;proto=https' },
    { host: local, 'x-real-ip': '203.0.113.7' },
  ];
  const link = new URL(ui.loginUrl());
  const linkPath = link.pathname + link.search;
  for (const headers of proxied) {
    const r = await rawRequest(base, { method: 'GET', path: linkPath, headers });
    assert.equal(r.status, 401, `${JSON.stringify(headers)}: a forwarded request is not this machine`);
    assert.equal(r.headers['set-cookie'], undefined);
  }
  const ok = await rawRequest(base, { method: 'GET', path: linkPath, headers: { host: local } });
  assert.equal(ok.status, 303, 'the refused attempts did not burn the link');
  assert.match(String(ok.headers['set-cookie']), /^warden_ui=.{40,}/);
});

test('a session cookie chosen before login is never adopted, and logout ends the session on the server', async (t) => {
  const { ui, origin } = await setup(t);
  const planted = 'warden_ui=attacker-chosen-value-0123456789abcdef0123456789';
  assert.equal((await fetch(`${origin}/ui/`, { headers: { cookie: planted }, redirect: 'manual' })).status, 303, 'an unknown id is no session');
  const r = await fetch(ui.loginUrl, { headers: { cookie: planted }, redirect: 'manual' });
  assert.equal(r.status, 303);
  const cookie = cookieOf(r);
  assert.notEqual(cookie, planted, 'login issues its own id');
  assert.equal((await fetch(`${origin}/ui/`, { headers: { cookie: planted }, redirect: 'manual' })).status, 303, 'the planted id is still no session');
  const home = await fetch(`${origin}/ui/`, { headers: { cookie } });
  assert.equal(home.status, 200);
  const csrf = /name="csrf" value="([^"]+)"/.exec(await home.text())?.[1];
  assert.ok(csrf, 'the page carries a CSRF token');
  const out = await fetch(`${origin}/ui/logout`, { method: 'POST', headers: { cookie, origin, 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${encodeURIComponent(csrf)}`, redirect: 'manual' });
  assert.equal(out.status, 303);
  assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
  const replay = await fetch(`${origin}/ui/`, { headers: { cookie }, redirect: 'manual' });
  assert.equal(replay.status, 303, 'the old cookie no longer opens a session');
  assert.equal(replay.headers.get('location'), '/ui/login');
});

test('several session cookies (one per Path, another port can set one): the one live session counts, two are none', async (t) => {
  const { ui, origin } = await setup(t);
  const page = (cookie: string) => fetch(`${origin}/ui/sessions/sess-alpha`, { headers: { cookie }, redirect: 'manual' }).then((r) => r.status);
  const mine = cookieOf(await fetch(ui.loginUrl, { redirect: 'manual' }));
  const tossed = 'warden_ui=tossed-by-another-port';
  assert.equal(await page(`${tossed}; ${mine}`), 200, 'a tossed value sent first does not sign the reviewer out');
  const theirs = cookieOf(await fetch(ui.ui.loginUrl(), { redirect: 'manual' }));
  assert.equal(await page(theirs), 200);
  assert.equal(await page(`${theirs}; ${mine}`), 303, 'two live sessions: Warden does not pick one');
  assert.equal(await page(mine), 200);
});

test('signing in again ends the session the browser held before', async (t) => {
  const { ui, origin } = await setup(t);
  const first = cookieOf(await fetch(ui.loginUrl, { redirect: 'manual' }));
  const again = await fetch(ui.ui.loginUrl(), { headers: { cookie: first }, redirect: 'manual' });
  assert.equal(again.status, 303);
  const second = cookieOf(again);
  assert.notEqual(second, first);
  assert.equal((await fetch(`${origin}/ui/`, { headers: { cookie: first }, redirect: 'manual' })).status, 303, 'the replaced session is over on the server');
  assert.equal((await fetch(`${origin}/ui/`, { headers: { cookie: second }, redirect: 'manual' })).status, 200);
});

test('a reviewer taken off the reviewers by a policy change loses the UI session at the next request', async (t) => {
  const { ui, base, setReviewer } = await seededUi(t, 'warden-ui-revoke-');

  const r = await fetch(ui.loginUrl(), { redirect: 'manual' });
  const cookie = cookieOf(r);
  const home = await fetch(`${base}/ui/`, { headers: { cookie } });
  assert.equal(home.status, 200, 'a reviewer reads the sessions');
  assert.match(await home.text(), /agent-alpha/);
  setReviewer(false);
  const after = await fetch(`${base}/ui/`, { headers: { cookie }, redirect: 'manual' });
  assert.equal(after.status, 403);
  assert.match(after.headers.get('set-cookie') ?? '', /Max-Age=0/);
  assert.doesNotMatch(await after.text(), /agent-alpha/, 'no transcript content');
  setReviewer(true);
  const again = await fetch(`${base}/ui/`, { headers: { cookie }, redirect: 'manual' });
  assert.equal(again.status, 303, 'the session was ended on the server, not only refused once');
  assert.equal(again.headers.get('location'), '/ui/login');
});
