/**
 * `warden serve --http` as an operator runs it: a child process that serves MCP at /mcp (tokens
 * required), the reviewer UI at /ui with a one-time login link printed at startup, and a
 * graceful stop on SIGTERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startOidcIssuer } from '../support/oidc-issuer.js';
import { connectHttpAgent } from '../support/http-agent.js';
import { writeWardenDir } from '../support/warden-process.js';
import { WARDEN_BIN } from '../support/repo.js';

test('serve --http serves MCP with tokens and the reviewer UI, and stops on SIGTERM', async () => {
  const issuer = await startOidcIssuer();
  const dir = writeWardenDir(
    `transcripts: { store: sqlite:warden.db }
identity:
  oidc: { issuer: ${issuer.issuer}, audience: ${issuer.audience}, groups_claim: groups }
connections:
  db: { type: postgres, url: env:UNUSED_URL }
ui: { local_reviewer: { subject: rita, groups: [dba] } }
policies: [policies/*.yaml]
`,
    { 'p.yaml': 'rules:\n  - { id: r, effect: allow, who: { groups: [analysts] }, tool: query_database, sql: { statements: [select], read: [public.t] } }\n' },
  );
  const child = spawn(process.execPath, [WARDEN_BIN, 'serve', '--http', '127.0.0.1:0', '--config', dir.configPath], {
    env: { PATH: process.env.PATH ?? '', UNUSED_URL: 'postgres://x@127.0.0.1:1/x', WARDEN_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  try {
    const deadline = Date.now() + 20_000;
    while (!/one-time UI login link[^\n]*: (\S+)/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const base = /MCP over Streamable HTTP at (\S+)\/mcp/.exec(stderr)?.[1];
    const login = /one-time UI login link[^\n]*: (\S+)/.exec(stderr)?.[1];
    assert.ok(base && login, `startup lines: ${stderr}`);

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
    const ui = await fetch(`${base}/ui/`, { headers: { cookie: cookie.split(';')[0]! } });
    assert.equal(ui.status, 200);
    assert.match(ui.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.match(await ui.text(), /rita/);
    const reused = await fetch(login, { redirect: 'manual' });
    assert.notEqual(reused.headers.get('set-cookie') ?? '', cookie, 'the link is single use');
  } finally {
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    await issuer.stop();
    dir.cleanup();
    assert.equal(code, 0, `graceful stop: ${stderr}`);
    assert.equal(stdout, '', 'nothing on stdout in HTTP mode');
  }
});
