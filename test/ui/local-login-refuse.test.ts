/**
 * The UI's one-time login link is an identity Warden cannot check (whoever reads the startup log
 * on this machine signs in as ui.local_reviewer), as `approvals --as` is. `ui.local_login: refuse`
 * turns it off, and so does `approvals.cli_as: refuse` unless ui.local_login says otherwise: no
 * link is printed, and the link endpoint answers 403 with WARDEN_UNAUTHENTICATED.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeWardenDir } from '../support/warden-process.js';
import { WARDEN_BIN } from '../support/repo.js';
import { startOidcIssuer } from '../support/oidc-issuer.js';

const POLICY = {
  'p.yaml': 'rules:\n  - { id: w, effect: allow, who: { groups: [analysts] }, tool: query_database, sql: { statements: [update], write: [public.t] }, approval: { reviewers: { groups: [dba] } } }\n',
};

/** `warden serve --http` on a free loopback port with `extra` in warden.yaml; its URL and startup log. */
async function serve(extra: string, t: { after(fn: () => Promise<void>): void }): Promise<{ base: string; stderr: () => string }> {
  const issuer = await startOidcIssuer();
  const dir = writeWardenDir(
    `transcripts: { store: sqlite:warden.db }
identity:
  oidc: { issuer: ${issuer.issuer}, audience: ${issuer.audience}, groups_claim: groups }
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
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    dir.cleanup();
    await issuer.stop();
  });
  const deadline = Date.now() + 20_000;
  // The link, when printed, is the line after the UI's; wait for the process to have said both.
  while (!/reviewer UI at \S+\/ui\/\n(?:.*\n)?/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 200));
  const base = /MCP over Streamable HTTP at (\S+)\/mcp/.exec(stderr)?.[1];
  assert.ok(base, stderr);
  return { base, stderr: () => stderr };
}

for (const [name, extra] of [
  ['ui.local_login: refuse', 'ui: { local_login: refuse }\n'],
  ['approvals.cli_as: refuse', 'approvals: { cli_as: refuse }\n'],
] as const) {
  test(`${name}: no one-time login link is printed, and the link endpoint refuses with WARDEN_UNAUTHENTICATED`, async (t) => {
    const s = await serve(extra, t);
    assert.match(s.stderr(), /reviewer UI at/);
    assert.doesNotMatch(s.stderr(), /\/ui\/login\?token=/);
    assert.match(s.stderr(), /one-time UI login links are off/);
    const r = await fetch(`${s.base}/ui/login?token=${'a'.repeat(43)}`, { redirect: 'manual' });
    assert.equal(r.status, 403);
    assert.equal(r.headers.get('set-cookie'), null);
    assert.match(await r.text(), /WARDEN_UNAUTHENTICATED[\s\S]*local_login/);
    const page = await (await fetch(`${s.base}/ui/login`)).text();
    assert.doesNotMatch(page, /one-time login link Warden printed/, 'the login page does not point at a link that is not there');
  });
}

test('ui.local_login: allow keeps the link even with approvals.cli_as: refuse (an explicit choice wins)', async (t) => {
  const s = await serve('ui: { local_login: allow }\napprovals: { cli_as: refuse }\n', t);
  const link = /one-time UI login link[^\n]*: (\S+)/.exec(s.stderr())?.[1];
  assert.ok(link, s.stderr());
  const r = await fetch(link, { redirect: 'manual' });
  assert.equal(r.status, 303);
  assert.match(r.headers.get('set-cookie') ?? '', /warden_ui=/);
});
