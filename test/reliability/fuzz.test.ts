/**
 * Fuzzing the server, bounded in time: random and malformed JSON-RPC, invalid UTF-8, lone
 * surrogates, deeply nested JSON, huge arguments and random SQL/shell strings, over stdio and over
 * HTTP. The process must not crash or report an unhandled rejection; every well-formed request is
 * answered (a result, a coded tool error, or a JSON-RPC error); the server still answers afterwards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';
import { writeWardenDir, type WardenDir } from '../support/warden-process.js';
import { connectHttpAgent, initializeBody, mcpHeaders } from '../support/http-agent.js';
import { WARDEN_BIN } from '../support/repo.js';
import { configText, freePort, POLICY, SEED, startReplica } from './support.js';

let target: TestDatabase;
let issuer: OidcIssuer;
const dirs: WardenDir[] = [];
before(async () => {
  [target, issuer] = await Promise.all([createTestDatabase({ prefix: 'fuzz' }), startOidcIssuer()]);
  await target.query(SEED);
  await target.query(`GRANT SELECT ON items TO ${target.role}`);
});
after(async () => {
  await issuer?.stop();
  await target?.drop();
  for (const d of dirs) d.cleanup();
});

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const SQL = ['SELECT 1', "SELECT * FROM items; DROP TABLE items", 'COMMIT; DROP TABLE items', "SELECT E'\\x00'", 'SELECT pg_sleep(100)', 'WITH x AS (DELETE FROM items RETURNING *) SELECT * FROM x', '/*', "SELECT '\u0000'", 'SELECT $1', 'COPY items TO PROGRAM \'id\'', 'SELECT ' + '('.repeat(3000) + '1' + ')'.repeat(3000)];
const SHELL = ['ls; rm -rf /', '$(id)', '`id`', 'a && b || c', "echo '\\''", 'cat <<EOF\nx\nEOF', 'x'.repeat(10_000)];
const TOOLS = ['query_database', 'describe_database', 'ssh_run', 'kubectl_exec', 'list_connections', 'approval_status', 'explain_call', 'nope', '', '__proto__'];

function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** One fuzz message: [text, id or null when no answer can be expected]. */
function message(id: number): [string, number | null] {
  const r = Math.random();
  if (r < 0.12) return [randomBytes(1 + Math.floor(Math.random() * 200)).toString('latin1'), null];
  if (r < 0.2) return [Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":'), randomBytes(8), Buffer.from('}')]).toString('latin1'), null];
  if (r < 0.26) return [`{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"query_database","arguments":{"connection":"target","sql":"SELECT '\\ud800'","x":"\\udfff\\ud800"}}}`, id];
  if (r < 0.32) return [`{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"query_database","arguments":{"connection":"target","sql":"SELECT 1","deep":${nested(2000 + Math.floor(Math.random() * 3000))}}}}`, id];
  if (r < 0.36) return [JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'query_database', arguments: { connection: 'target', sql: 'SELECT ' + 'x'.repeat(200_000 + Math.floor(Math.random() * 300_000)) } } }), id];
  if (r < 0.42) {
    // params that are not an object are not a valid JSON-RPC request: no answer can be expected for those.
    const params = pick([{}, {}, [], null, 1, 'x']);
    return [JSON.stringify({ jsonrpc: '2.0', id, method: pick(['tools/list', 'resources/list', 'prompts/get', 'nope/nope', 'ping', '']), params }), params !== null && typeof params === 'object' && !Array.isArray(params) ? id : null];
  }
  if (r < 0.5) return [JSON.stringify({ jsonrpc: pick(['2.0', '1.0', 2, null]), id: pick([id, null, {}, [], true]), method: pick(['tools/call', 7, null]), params: pick([{}, { name: 1 }, { name: 'query_database', arguments: 'x' }]) }), null];
  const name = pick(TOOLS);
  const args = pick([
    { connection: 'target', sql: pick(SQL) },
    { connection: pick(['target', 'nope', '', '../../etc/passwd', 'x'.repeat(5000)]), sql: randomBytes(40).toString('latin1') },
    { connection: 'web', command: pick(SHELL) },
    { connection: 'target', sql: pick(SQL), extra: { a: [1, { b: null }] } },
    { sql: null },
    {},
    { connection: 'target', sql: 123, max_rows: -1 },
  ]);
  return [JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }), id];
}

function checkAnswer(m: { result?: { isError?: boolean; content?: { text?: string }[] }; error?: { code?: unknown } }): void {
  if (m.error) assert.equal(typeof m.error.code, 'number', 'a JSON-RPC error carries a numeric code');
  else if (m.result?.isError) assert.match(m.result.content?.[0]?.text ?? '', /WARDEN_[A-Z_]+|MCP error|Input validation|error/i);
}

test('stdio: 10 s of malformed and hostile input, every request answered, no crash', async () => {
  const dir = writeWardenDir(configText({ store: 'sqlite:warden.db' }), { 'base.yaml': POLICY });
  dirs.push(dir);
  const child = spawn(process.execPath, [WARDEN_BIN, 'serve', '--config', dir.configPath], {
    env: { PATH: process.env.PATH ?? '', WARDEN_LOG_LEVEL: 'warn', WARDEN_TEST_HASH_KEY: 'k', TARGET_DATABASE_URL: target.url }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const answered = new Map<number, unknown>();
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        const m = JSON.parse(line) as { id?: unknown };
        if (typeof m.id === 'number') answered.set(m.id, m);
      } catch {
        assert.fail(`the server wrote a non-JSON line: ${line.slice(0, 200)}`);
      }
    }
  });
  const send = (s: string) => new Promise<void>((r) => (child.stdin.write(s + '\n') ? r() : child.stdin.once('drain', () => r())));
  await send(JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'fuzz', version: '1' } } }));
  // Requests before the initialize result are refused (stdio-lifecycle.ts): the fuzz starts after it.
  for (const t0 = Date.now(); !answered.has(0) && Date.now() - t0 < 15_000; ) await new Promise((r) => setTimeout(r, 25));
  assert.ok(answered.has(0), `no initialize answer: ${stderr.slice(-500)}`);
  await send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  const expected: number[] = [];
  const texts = new Map<number, string>();
  let sent = 0;
  const end = Date.now() + 10_000;
  for (let id = 1; Date.now() < end; id++) {
    const [text, want] = message(id);
    await send(text.replace(/\n/g, ' '));
    sent++;
    if (want !== null) (expected.push(want), texts.set(want, text.slice(0, 160)));
    if (id % 20 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  const probe = 1_000_000;
  await send(JSON.stringify({ jsonrpc: '2.0', id: probe, method: 'tools/list' }));
  const deadline = Date.now() + 30_000;
  while ((!answered.has(probe) || expected.some((id) => !answered.has(id))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const missing = expected.filter((id) => !answered.has(id));
  console.log(`# fuzz stdio: sent ${sent} inputs, ${expected.length} well-formed requests, ${missing.length} unanswered`);
  assert.equal(child.exitCode, null, `the server exited:\n${stderr}`);
  assert.deepEqual(missing.map((id) => texts.get(id)).slice(0, 5), [], 'every well-formed request is answered');
  for (const id of expected) checkAnswer(answered.get(id) as never);
  assert.ok(answered.has(probe), 'the server still answers');
  assert.doesNotMatch(stderr, /unhandled|uncaught|FATAL/i);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
});

test('HTTP: 10 s of malformed and hostile bodies, no 5xx, no crash, still serving', async () => {
  const dir = writeWardenDir(configText({ store: 'sqlite:warden.db', issuer }), { 'base.yaml': POLICY });
  dirs.push(dir);
  const server = await startReplica(dir.configPath, await freePort(), { TARGET_DATABASE_URL: target.url });
  try {
    const token = await issuer.mint({ sub: 'fuzzer', groups: ['dev'], scope: 'mcp' });
    const init = await fetch(`${server.url}/mcp`, { method: 'POST', headers: mcpHeaders(token), body: initializeBody() });
    const sid = init.headers.get('mcp-session-id') ?? '';
    await init.text();
    assert.ok(sid);
    await (await fetch(`${server.url}/mcp`, { method: 'POST', headers: mcpHeaders(token, { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' }), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text();
    const statuses = new Map<number, number>();
    const fivexx: string[] = [];
    let deepNested = 0;
    let sent = 0;
    const end = Date.now() + 10_000;
    const worker = async (w: number) => {
      for (let id = w * 1_000_000 + 1; Date.now() < end; id++) {
        const [text] = message(id);
        const headers = Math.random() < 0.8 ? mcpHeaders(token, { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' }) : mcpHeaders(Math.random() < 0.5 ? token : 'garbage');
        const res = await fetch(`${server.url}/mcp`, { method: 'POST', headers, body: Buffer.from(text, 'latin1') });
        const body = await res.text();
        if (res.status >= 500) fivexx.push(`${text.slice(0, 200)} -> ${body.slice(0, 200)}`);
        if (/"deep":\[\[\[/.test(text)) deepNested++;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        sent++;
      }
    };
    await Promise.all([0, 1, 2, 3].map(worker));
    console.log(`# fuzz http: sent ${sent} inputs, statuses ${JSON.stringify(Object.fromEntries(statuses))}, deeply nested inputs: ${deepNested}`);
    assert.deepEqual(fivexx.slice(0, 3), [], 'no 5xx: every input is answered or refused with a code');
    assert.ok(deepNested > 0, 'the fuzz sent deeply nested JSON');
    const agent = await connectHttpAgent(server.url, token);
    const r = await agent.call('query_database', { connection: 'target', sql: 'SELECT name FROM items WHERE id = 2' });
    assert.equal(r.isError, false, r.text);
    await agent.close();
    assert.equal(server.proc.exitCode, null);
    assert.doesNotMatch(server.stderr(), /unhandled|uncaught|FATAL/i);
  } finally {
    await server.kill('SIGTERM');
  }
});
