/**
 * stdio clients may present WARDEN_TOKEN: verified like any bearer token (the identity it names
 * decides what the client sees), and a token that fails verification refuses the start.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';
import { connectWarden, writeWardenDir, type WardenDir } from '../support/warden-process.js';
import { WARDEN_BIN } from '../support/repo.js';

let iss: OidcIssuer;
let dir: WardenDir;
/** The token-expiry case's own folder and store (it runs beside the case that reads the store's sessions). */
let expiryDir: WardenDir;

const POLICY = `
rules:
  - id: sre-only
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.orders] }
`;

before(async () => {
  iss = await startOidcIssuer();
  const config = `
transcripts: { store: sqlite:warden.db }
identity:
  stdio: { subject: local-agent, groups: [] }
  oidc: { issuer: ${iss.issuer}, audience: ${iss.audience}, required_scopes: [mcp] }
connections:
  analytics: { type: postgres, url: env:UNUSED_DATABASE_URL }
policies: [policies/*.yaml]
`;
  dir = writeWardenDir(config, { 'base.yaml': POLICY });
  expiryDir = writeWardenDir(config, { 'base.yaml': POLICY });
});
after(async () => {
  await iss?.stop();
  dir?.cleanup();
  expiryDir?.cleanup();
});

/**
 * `warden serve` with WARDEN_TOKEN and stdin closed at once, asynchronous (spawnSync would stall
 * the token-expiry test running beside it): its exit status (null if killed) and stderr.
 */
function serveOnce(token: string): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WARDEN_BIN, 'serve', '--config', dir.configPath], {
      env: { PATH: process.env.PATH ?? '', WARDEN_TOKEN: token, UNUSED_DATABASE_URL: 'postgres://x@127.0.0.1:1/x' },
      stdio: ['pipe', 'ignore', 'pipe'],
      timeout: 20_000,
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end();
  });
}

// Independent cases (each its own `warden serve`): side by side, two at a time, the token-expiry
// case first, so its wait for the token to expire overlaps the others.
describe('WARDEN_TOKEN on stdio', { concurrency: 2 }, () => {
  test('a stdio session authenticated by WARDEN_TOKEN ends when the token expires', async () => {
    // 8 s: the server must start and answer once before the token expires, also on a busy machine.
    const exp = Math.floor(Date.now() / 1000) + 8;
    const token = await iss.mint({ sub: 'sam', groups: ['sre'], scope: 'mcp', exp });
    const w = await connectWarden(expiryDir.configPath, { WARDEN_TOKEN: token, UNUSED_DATABASE_URL: 'postgres://x@127.0.0.1:1/x' });
    try {
      const before = await w.call('list_connections', {});
      assert.equal(before.isError, false, before.text);
      assert.ok((await w.client.listTools()).tools.some((t) => t.name === 'list_connections'), 'tools are listed while the token holds');
      await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 300));
      const after = await w.call('list_connections', {});
      assert.equal(after.isError, true);
      assert.match(after.text, /^WARDEN_UNAUTHENTICATED: the token of this session has expired/);
      assert.deepEqual((await w.client.listTools()).tools, [], 'and no longer once it has expired');
    } finally {
      await w.close();
    }
  });

  test('a valid WARDEN_TOKEN makes the stdio client that principal', async () => {
    const token = await iss.mint({ sub: 'sam', groups: ['sre'], scope: 'mcp' });
    const w = await connectWarden(dir.configPath, { WARDEN_TOKEN: token, UNUSED_DATABASE_URL: 'postgres://x@127.0.0.1:1/x' });
    try {
      const tools = (await w.client.listTools()).tools.map((t) => t.name);
      assert.ok(tools.includes('query_database'), `sre sees query_database: ${tools.join(',')}`);
    } finally {
      await w.close();
    }
    const db = new Database(dir.dbPath, { readonly: true });
    try {
      const s = db.prepare('SELECT subject, principal FROM sessions').all() as { subject: string; principal: string }[];
      assert.ok(s.some((r) => r.subject === 'sam' && r.principal.includes('oidc')), JSON.stringify(s));
      assert.ok(!JSON.stringify(s).includes(token.split('.')[2]!), 'the token is not recorded');
    } finally {
      db.close();
    }
  });

  test('without WARDEN_TOKEN identity.stdio applies (and sees nothing here)', async () => {
    const w = await connectWarden(dir.configPath, { UNUSED_DATABASE_URL: 'postgres://x@127.0.0.1:1/x' });
    try {
      const tools = (await w.client.listTools()).tools.map((t) => t.name);
      assert.ok(!tools.includes('query_database'));
    } finally {
      await w.close();
    }
  });

  test('a WARDEN_TOKEN that fails verification refuses the start with a coded error', async () => {
    const bad = [await iss.mint({ sub: 'sam', groups: ['sre'], scope: 'mcp' }, { expiresIn: -600 }), iss.unsigned({ sub: 'sam', groups: ['sre'], scope: 'mcp' }), await iss.mint({ sub: 'sam', groups: ['sre'], scope: 'openid' })];
    for (const token of bad) {
      const r = await serveOnce(token);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /WARDEN_UNAUTHENTICATED/);
      assert.ok(!r.stderr.includes(token), 'the token is not echoed');
    }
  });
});
