/**
 * `warden serve --http` as an operator runs it: a child process that serves MCP at /mcp (tokens
 * required), the reviewer UI at /ui with a one-time login link printed at startup, and a
 * graceful stop on SIGTERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startOidcIssuer } from '../support/oidc-issuer.js';
import { connectHttpAgent, initializeBody, mcpHeaders, rawRequest } from '../support/http-agent.js';
import { writeWardenDir } from '../support/warden-process.js';
import { WARDEN_BIN } from '../support/repo.js';

// Analysts read; dba reviews writes (the UI token login is for reviewers and admins only).
const POLICY = {
  'p.yaml': 'rules:\n  - { id: r, effect: allow, who: { groups: [analysts] }, tool: query_database, sql: { statements: [select], read: [public.t] } }\n' +
    '  - { id: w, effect: allow, who: { groups: [analysts] }, tool: query_database, sql: { statements: [update], write: [public.t] }, approval: { reviewers: { groups: [dba] } } }\n',
};

/** `warden serve --http` on a free port with an OIDC identity; resolves once the startup lines name the URLs. */
async function startServeHttp(oidc: string, extra = '', ready = /reviewer UI at (\S+)\/ui\//) {
  const dir = writeWardenDir(
    `transcripts: { store: sqlite:warden.db }
identity:
  oidc: { ${oidc} }
connections:
  db: { type: postgres, url: env:UNUSED_URL }
${extra}policies: [policies/*.yaml]
`,
    POLICY,
  );
  const child = spawn(process.execPath, [WARDEN_BIN, 'serve', '--http', '127.0.0.1:0', '--config', dir.configPath], {
    env: { PATH: process.env.PATH ?? '', UNUSED_URL: 'postgres://x@127.0.0.1:1/x', WARDEN_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stderr: '', stdout: '' };
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  const deadline = Date.now() + 20_000;
  while (!ready.test(out.stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return {
    out,
    base: /MCP over Streamable HTTP at (\S+)\/mcp/.exec(out.stderr)?.[1],
    /** SIGTERM, then the exit code (0 is a graceful stop). */
    async stop(): Promise<number | null> {
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      dir.cleanup();
      return code;
    },
  };
}

test('serve --http serves MCP with tokens and the reviewer UI, and stops on SIGTERM', async () => {
  const issuer = await startOidcIssuer();
  const server = await startServeHttp(`issuer: ${issuer.issuer}, audience: ${issuer.audience}, groups_claim: groups`, 'ui: { local_reviewer: { subject: rita, groups: [dba] } }\n', /one-time UI login link[^\n]*: (\S+)/);
  const { out } = server;
  try {
    const base = server.base;
    const login = /one-time UI login link[^\n]*: (\S+)/.exec(out.stderr)?.[1];
    assert.ok(base && login, `startup lines: ${out.stderr}`);

    const noToken = await fetch(`${base}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    assert.equal(noToken.status, 401);
    assert.match(noToken.headers.get('www-authenticate') ?? '', /^Bearer resource_metadata=/);

    const agent = await connectHttpAgent(base, await issuer.mint({ sub: 'ana', groups: ['analysts'], scope: 'mcp' }));
    const tools = (await agent.client.listTools()).tools.map((t) => t.name);
    assert.ok(tools.includes('query_database'), tools.join(','));
    await agent.close();

    const page = await fetch(login, { redirect: 'manual' });
    assert.ok([200, 302, 303].includes(page.status), `login link answered ${page.status}`);
    const cookie = page.headers.get('set-cookie') ?? '';
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /;\s*Secure/i, 'the public resource URI (the audience) is https: a TLS proxy fronts this listener, so the cookie is Secure');
    const ui = await fetch(`${base}/ui/`, { headers: { cookie: cookie.split(';')[0]! } });
    assert.equal(ui.status, 200);
    assert.match(ui.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.match(await ui.text(), /rita/);
    const reused = await fetch(login, { redirect: 'manual' });
    assert.notEqual(reused.headers.get('set-cookie') ?? '', cookie, 'the link is single use');
  } finally {
    const code = await server.stop();
    await issuer.stop();
    assert.equal(code, 0, `graceful stop: ${out.stderr}`);
    assert.equal(out.stdout, '', 'nothing on stdout in HTTP mode');
  }
});

test('serve --http: the UI token login checks required_scopes like /mcp (no scope: 403, no session; with it: signed in)', async () => {
  const issuer = await startOidcIssuer();
  const server = await startServeHttp(`issuer: ${issuer.issuer}, audience: ${issuer.audience}, groups_claim: groups, required_scopes: [warden.review]`);
  const tokenLogin = (base: string, token: string) =>
    fetch(`${base}/ui/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }).toString(), redirect: 'manual' });
  try {
    const base = server.base;
    assert.ok(base, `startup lines: ${server.out.stderr}`);

    const openidOnly = await issuer.mint({ sub: 'dora', groups: ['dba'], scope: 'openid' });
    const refused = await tokenLogin(base, openidOnly);
    assert.equal(refused.status, 403, 'the same answer as /mcp gives a token without the required scope');
    assert.equal(refused.headers.get('set-cookie'), null, 'no session');
    assert.match(await refused.text(), /scope/);
    const noScopeClaim = await tokenLogin(base, await issuer.mint({ sub: 'dora', groups: ['dba'] }));
    assert.equal(noScopeClaim.status, 403);
    assert.equal(noScopeClaim.headers.get('set-cookie'), null);
    const forged = await tokenLogin(base, issuer.unsigned({ sub: 'dora', groups: ['dba'], scope: 'warden.review' }));
    assert.equal(forged.status, 401);
    assert.equal(forged.headers.get('set-cookie'), null);
    const mcp = await fetch(`${base}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${openidOnly}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    assert.equal(mcp.status, 403);
    // An agent's token (valid, with the scope) is not a reviewer's: the UI shows every
    // principal's transcripts, so it is refused.
    const agent = await tokenLogin(base, await issuer.mint({ sub: 'alice', groups: ['analysts'], scope: 'openid warden.review' }));
    assert.equal(agent.status, 403);
    assert.equal(agent.headers.get('set-cookie'), null);
    assert.match(await agent.text(), /not a reviewer/);

    const ok = await tokenLogin(base, await issuer.mint({ sub: 'dora', groups: ['dba'], scope: 'openid warden.review' }));
    assert.equal(ok.status, 303);
    const cookie = (ok.headers.get('set-cookie') ?? '').split(';')[0]!;
    assert.ok(cookie, 'a session cookie');
    const home = await fetch(`${base}/ui/`, { headers: { cookie } });
    assert.equal(home.status, 200);
    assert.match(await home.text(), /dora \(oidc\)/);
  } finally {
    const code = await server.stop();
    await issuer.stop();
    assert.equal(code, 0, `graceful stop: ${server.out.stderr}`);
  }
});

test('serve --http: with a resource URI that is not https, the UI cookie is not marked Secure (plain http would drop it)', async () => {
  const issuer = await startOidcIssuer({ audience: 'warden-local' });
  const server = await startServeHttp(`issuer: ${issuer.issuer}, audience: warden-local, groups_claim: groups`, 'ui: { local_reviewer: { subject: rita, groups: [dba] } }\n', /one-time UI login link[^\n]*: (\S+)/);
  try {
    const login = /one-time UI login link[^\n]*: (\S+)/.exec(server.out.stderr)?.[1];
    assert.ok(login, server.out.stderr);
    const cookie = (await fetch(login, { redirect: 'manual' })).headers.get('set-cookie') ?? '';
    assert.match(cookie, /HttpOnly/i);
    assert.doesNotMatch(cookie, /Secure/i);
  } finally {
    await server.stop();
    await issuer.stop();
  }
});

test('serve --http: Origin is a full origin on /mcp and /ui (another port of this host is refused); UI cookie POSTs need it', async () => {
  const issuer = await startOidcIssuer();
  const server = await startServeHttp(
    `issuer: ${issuer.issuer}, audience: ${issuer.audience}, groups_claim: groups`,
    'ui: { local_reviewer: { subject: rita, groups: [dba] } }\nhttp: { allowed_origins: [http://localhost:5173, tools.internal] }\n',
    /one-time UI login link[^\n]*: (\S+)/,
  );
  try {
    const base = server.base;
    const login = /one-time UI login link[^\n]*: (\S+)/.exec(server.out.stderr)?.[1];
    assert.ok(base && login, server.out.stderr);
    const port = new URL(base).port;
    const token = await issuer.mint({ sub: 'ana', groups: ['analysts'], scope: 'mcp' });
    const mcp = async (origin?: string) => (await rawRequest(base, { headers: mcpHeaders(token, origin ? { origin } : {}), body: initializeBody() })).status;
    assert.equal(await mcp(), 200, 'a bearer-token client without Origin (not a browser) is served');
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`, 'http://localhost:5173', 'https://warden.test', `http://tools.internal:${port}`, 'https://tools.internal']) {
      assert.equal(await mcp(origin), 200, origin);
    }
    for (const origin of ['http://localhost:3000', 'http://127.0.0.1:3000', `https://127.0.0.1:${port}`, 'http://localhost:5174', 'http://tools.internal:3000', 'null']) {
      assert.equal(await mcp(origin), 403, origin);
    }

    const cookie = ((await fetch(login, { redirect: 'manual' })).headers.get('set-cookie') ?? '').split(';')[0]!;
    const ui = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
      rawRequest(base, { method, path, headers: { cookie, ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...headers }, ...(body ? { body } : {}) });
    const home = await ui('GET', '/ui/');
    assert.equal(home.status, 200);
    const csrf = /name="csrf" value="([^"]+)"/.exec(home.body)?.[1];
    assert.ok(csrf);
    assert.equal((await ui('GET', '/ui/', { origin: 'http://localhost:3000' })).status, 403, 'a cross-port read with the cookie');
    const refused: Record<string, string>[] = [{}, { origin: 'null' }, { origin: 'http://localhost:3000' }, { origin: `http://localhost:${port}`, 'sec-fetch-site': 'same-site' }];
    for (const headers of refused) {
      const r = await ui('POST', '/ui/logout', headers, `csrf=${encodeURIComponent(csrf)}`);
      assert.equal(r.status, 403, JSON.stringify(headers));
    }
    assert.equal((await ui('GET', '/ui/')).status, 200, 'the session survived every refused POST');
    assert.equal((await ui('POST', '/ui/logout', { origin: `http://127.0.0.1:${port}` }, `csrf=${encodeURIComponent(csrf)}`)).status, 303);
    assert.notEqual((await ui('GET', '/ui/')).status, 200, 'logged out');
  } finally {
    const code = await server.stop();
    await issuer.stop();
    assert.equal(code, 0, server.out.stderr);
  }
});

test('serve --http: a delegated token (an agent acting for a reviewer, act claim) cannot sign in to the UI', async () => {
  // The UI shows every principal's transcripts and is for people who review: approvals already
  // refuse a delegated reviewer, and the sign-in must too, or agent-x acting for dora reads everything.
  const issuer = await startOidcIssuer();
  const server = await startServeHttp(`issuer: ${issuer.issuer}, audience: ${issuer.audience}, groups_claim: groups`, 'admins: { groups: [wardens] }\n');
  const tokenLogin = (base: string, token: string) =>
    fetch(`${base}/ui/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }).toString(), redirect: 'manual' });
  try {
    const base = server.base;
    assert.ok(base, `startup lines: ${server.out.stderr}`);
    for (const [claims, what] of [
      [{ sub: 'dora', groups: ['dba'], act: { sub: 'agent-x' } }, 'an agent acting for a reviewer'],
      [{ sub: 'dora', groups: ['dba'], act: { sub: 'agent-x', act: { sub: 'broker' } } }, 'a chain of agents acting for a reviewer'],
      [{ sub: 'dora', groups: ['dba'], act: 'agent-x' }, 'a malformed act claim (fail closed)'],
      [{ sub: 'wendy', groups: ['wardens'], act: { sub: 'agent-x' } }, 'an agent acting for an admin'],
    ] as const) {
      const r = await tokenLogin(base, await issuer.mint(claims));
      assert.equal(r.status, 403, what);
      assert.equal(r.headers.get('set-cookie'), null, `no session for ${what}`);
    }
    // The same people acting directly still sign in.
    for (const claims of [{ sub: 'dora', groups: ['dba'] }, { sub: 'wendy', groups: ['wardens'] }]) {
      const ok = await tokenLogin(base, await issuer.mint(claims));
      assert.equal(ok.status, 303, claims.sub);
    }
  } finally {
    await server.stop();
    await issuer.stop();
  }
});
