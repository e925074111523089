/**
 * The MCP Inspector CLI (a third-party client, @modelcontextprotocol/inspector 1.0.3 from
 * node_modules, never downloaded) against the HTTP server: tools/list with a bearer token
 * shows the principal's tools; without a token it is refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/repo.js';
import { startHttpWarden, type HttpWarden } from '../support/http-warden.js';

const INSPECTOR = join(REPO_ROOT, 'node_modules', '.bin', 'mcp-inspector');

const POLICY = `
rules:
  - id: analysts-read
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.users] }
`;

let w: HttpWarden;

function inspector(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(INSPECTOR, args, { timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

before(async () => {
  w = await startHttpWarden({ 'base.yaml': POLICY });
});
after(() => w?.stop());

test('the Inspector CLI lists the tools a token grants', async () => {
  const token = await w.token('ana', ['analysts']);
  const r = await inspector(['--cli', `${w.url}/mcp`, '--transport', 'http', '--method', 'tools/list', '--header', `Authorization: Bearer ${token}`]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { tools: { name: string }[] };
  const names = out.tools.map((t) => t.name);
  assert.ok(names.includes('query_database'), names.join(','));
  assert.ok(names.includes('list_connections'));
});

test('the Inspector CLI calls a governed tool over HTTP', async () => {
  const token = await w.token('ana', ['analysts']);
  const r = await inspector([
    '--cli', `${w.url}/mcp`, '--transport', 'http', '--header', `Authorization: Bearer ${token}`,
    '--method', 'tools/call', '--tool-name', 'query_database', '--tool-arg', 'connection=analytics', '--tool-arg', 'sql=SELECT name FROM users ORDER BY id',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Alice/);
});

test('the Inspector CLI without a token is refused', async () => {
  const r = await inspector(['--cli', `${w.url}/mcp`, '--transport', 'http', '--method', 'tools/list']);
  assert.notEqual(r.code, 0);
  assert.doesNotMatch(r.stdout, /query_database/);
});
