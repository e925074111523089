/**
 * Origins are compared whole: scheme, host and port. Cookies are not port-scoped and SameSite
 * ignores ports, so a page on another port of the same host (http://localhost:3000, any local dev
 * server) is same-site with the reviewer UI; a review found the Host/Origin guard comparing
 * hostnames only, so such a page passed it. Also here: `http.allowed_origins` entries are full
 * origins or bare hostnames (this server's own scheme and port), anything else is refused at
 * load; and a cookie-carrying UI POST without an Origin header (or with `Origin: null`) is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostPolicy, originAllowed } from '../../src/server/http-origins.js';
import { loadServerConfig } from '../../src/config/server-config.js';
import { ConfigError } from '../../src/config/yaml-source.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import { startStandaloneUi } from '../../src/cli/ui-serve.js';
import type { Principal } from '../../src/tool-api.js';
import type { Decision } from '../../src/policy/types.js';
import { families } from '../../tools/index.js';
import { startReviewUi } from '../ui/fixtures.js';

const NO_CONF = { allowed_hosts: [], allowed_origins: [] };

test('the Origin allowlist holds full origins: the bind address and port, the public resource, configured entries', () => {
  const p = hostPolicy('127.0.0.1', 8080, { allowed_hosts: [], allowed_origins: ['https://ui.internal', 'tools.internal', 'http://localhost:5173/'] }, 'https://warden.example.com/mcp');
  const allowed = [
    'http://127.0.0.1:8080',
    'http://localhost:8080',
    'HTTP://LocalHost:8080', // normalised like a URL
    'https://warden.example.com', // the public resource URI (a TLS proxy in front)
    'https://warden.example.com:443',
    'https://ui.internal',
    'http://localhost:5173',
    'http://tools.internal:8080', // a bare hostname: this listener's scheme and port
    'https://tools.internal', // ... or the public resource's scheme and port
  ];
  for (const o of allowed) assert.equal(originAllowed(p, o), true, o);
  const refused = [
    'http://localhost:3000', // another port on the same host: the attack
    'http://127.0.0.1:3000',
    'http://localhost', // port 80
    'https://localhost:8080', // another scheme
    'http://[::1]:8080', // this listener is on 127.0.0.1 only; another program may own [::1]:8080
    'http://warden.example.com', // the public name over plain http
    'https://warden.example.com:8443',
    'https://ui.internal:8443',
    'http://ui.internal',
    'http://tools.internal:3000',
    'https://tools.internal:8443',
    'http://localhost:8080.evil.example',
    'http://evil.example',
    'null',
    'garbage',
    'file:///etc/passwd',
  ];
  for (const o of refused) assert.equal(originAllowed(p, o), false, o);
  assert.equal(originAllowed(p, undefined), true, 'no Origin header: not a browser request (the caller decides what else it needs)');
  // Host stays a hostname check (a proxy may forward its own name without this port).
  assert.ok(p.hosts.includes('localhost') && p.hosts.includes('127.0.0.1') && p.hosts.includes('warden.example.com'));
});

test('a wildcard bind has no own origin; a bare-hostname entry without an https resource means http on this port only', () => {
  const wide = hostPolicy('0.0.0.0', 9000, { allowed_hosts: ['mcp.internal'], allowed_origins: ['ui.internal'] }, 'urn:warden');
  assert.deepEqual(wide.hosts, ['mcp.internal']);
  assert.deepEqual(wide.origins, ['http://ui.internal:9000']);
  assert.equal(originAllowed(wide, 'http://mcp.internal:9000'), false, 'an allowed Host is not an allowed Origin by itself');
  const v6 = hostPolicy('::1', 9000, NO_CONF, '');
  assert.deepEqual([...v6.origins].sort(), ['http://[::1]:9000', 'http://localhost:9000']);
  const port80 = hostPolicy('10.0.0.5', 80, NO_CONF, '');
  assert.deepEqual(port80.origins, ['http://10.0.0.5']);
});

test('allowed_origins entries must be an origin or a bare hostname; anything else is refused at load', () => {
  const load = (entry: string) => loadServerConfig('/x/warden.yaml', families, `http: { allowed_origins: [${JSON.stringify(entry)}] }\npolicies: []\n`);
  for (const ok of ['https://ui.example.com', 'http://localhost:5173', 'https://ui.example.com/', 'ui.internal', 'localhost', '10.0.0.5', '[::1]']) {
    assert.doesNotThrow(() => load(ok), ok);
  }
  for (const bad of ['localhost:3000', 'https://ui.example.com/app', '*', 'http://*', 'https://*.example.com', 'ftp://files.example.com', 'https://user@ui.example.com', 'https://ui.example.com?x=1', 'chrome-extension://abc', 'ui example']) {
    assert.throws(
      () => load(bad),
      (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.path.startsWith('http.allowed_origins') && /origin/.test(p.message)),
      bad,
    );
  }
});

/** One raw request (fetch cannot set Host, and adds headers of its own). */
function raw(port: number, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers ?? {} }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

test('standalone UI (demo --serve): a cross-port page cannot approve; cookie POSTs need this server\'s Origin', async (t) => {
  const { approvals, ui } = await startReviewUi(t, { pollMs: 20 });
  const port = Number(new URL(ui.url).port);
  const decision: Decision = {
    effect: 'allow', ruleIds: ['fix'], reason: 'x', trace: [], alternatives: [],
    approval: { reviewers: { groups: ['dba'] }, approvals: 1, expires: 600_000, wait: 0, ruleId: 'fix' },
  };
  const held = (await approvals.gate({
    callId: 'c1', sessionId: 's1', principal: { subject: 'sam', groups: ['sre'], claims: {}, authMethod: 'oidc' }, tool: 'query_database', connection: 'db',
    canonicalArgs: { connection: 'db', sql: 'UPDATE orders SET total = 0' }, decision, factsSummary: 'update; writes public.orders', signal: new AbortController().signal,
  })) as { approvalId?: string };
  const id = held.approvalId;
  assert.ok(id, 'a pending request');

  const link = await fetch(ui.loginUrl, { redirect: 'manual' });
  const cookie = (link.headers.get('set-cookie') ?? '').split(';')[0]!;
  assert.match(cookie, /^warden_ui=/);
  const page = await raw(port, { path: '/ui/approvals', headers: { host: `127.0.0.1:${port}`, cookie } });
  assert.equal(page.status, 200);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
  assert.ok(csrf, 'the page carries the CSRF token');

  const self = `http://127.0.0.1:${port}`;
  const approve = (headers: Record<string, string>) =>
    raw(port, { method: 'POST', path: `/ui/approvals/${id}/approve`, headers: { host: `127.0.0.1:${port}`, cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: `csrf=${encodeURIComponent(csrf)}&decision=approve` });

  // Every refusal below carries the real cookie and the real CSRF token (as a page that learnt
  // the token would): only the Origin check stands between them and the approval.
  const refusals: [string, Record<string, string>][] = [
    ['a page on another port of this host', { origin: 'http://127.0.0.1:3000' }],
    ['localhost on another port', { host: `localhost:${port}`, origin: 'http://localhost:3000' }],
    ['another scheme on this port', { origin: `https://127.0.0.1:${port}` }],
    ['no Origin header', {}],
    ['Origin: null (a sandboxed or opaque page)', { origin: 'null' }],
    ['same-site, not same-origin (what a browser says for another port)', { origin: self, 'sec-fetch-site': 'same-site' }],
  ];
  for (const [what, headers] of refusals) {
    const r = await approve(headers);
    assert.equal(r.status, 403, `${what}: ${r.status} ${r.body.slice(0, 200)}`);
    assert.equal((await approvals.get(id))?.state, 'pending', `${what}: nothing was decided`);
  }
  // A cross-port GET is refused too (a page on :3000 reading the queue with the cookie).
  assert.equal((await raw(port, { path: '/ui/approvals', headers: { host: `127.0.0.1:${port}`, cookie, origin: 'http://127.0.0.1:3000' } })).status, 403);

  const ok = await approve({ origin: self, 'sec-fetch-site': 'same-origin' });
  assert.equal(ok.status, 303, ok.body);
  assert.equal((await approvals.get(id))?.state, 'approved');
  // The reviewer on http://localhost:PORT is the same server.
  const out = await raw(port, { method: 'POST', path: '/ui/logout', headers: { host: `localhost:${port}`, cookie, origin: `http://localhost:${port}`, 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${encodeURIComponent(csrf)}` });
  assert.equal(out.status, 303, out.body);
});

test('the UI token login (no cookie yet) still works without an Origin header, and refuses a foreign or null one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-origin-'));
  const store = openSqliteStore(join(dir, 'w.db'));
  const verifyToken = async () => ({ principal: { subject: 'rita', groups: ['dba'], claims: {}, authMethod: 'oidc' } as Principal, expiresAt: Math.floor(Date.now() / 1000) + 600 });
  const ui = await startStandaloneUi({ store, log: () => undefined, verifyToken }, { host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await ui.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const port = Number(new URL(ui.url).port);
  const login = (headers: Record<string, string>) =>
    raw(port, { method: 'POST', path: '/ui/login', headers: { host: `127.0.0.1:${port}`, 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: 'token=t' });
  assert.equal((await login({})).status, 303, 'a non-browser client presenting a token');
  assert.equal((await login({ origin: `http://127.0.0.1:${port}` })).status, 303);
  for (const origin of ['http://127.0.0.1:3000', 'null']) {
    const r = await login({ origin });
    assert.equal(r.status, 403, origin);
    assert.equal(r.headers['set-cookie'], undefined, `${origin}: no session`);
  }
});
