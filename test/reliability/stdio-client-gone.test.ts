/**
 * A stdio client that goes away while a call runs: a real `warden serve` child driven over its
 * pipes, a query held on a locked table. Closing stdin cancels the call (recorded
 * WARDEN_CANCELLED) and ends the process. A client whose read end of stdout is gone makes the
 * answer's write fail with EPIPE: the call is still recorded, and the process ends instead of
 * waiting forever on a stdin that is no longer read (it did: the transport stopped reading stdin
 * when stdout failed, so its end never came).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { writeWardenDir, type WardenDir } from '../support/warden-process.js';
import { lockTable } from '../support/http-warden.js';
import { WARDEN_BIN } from '../support/repo.js';

const CONFIG = `transcripts: { store: sqlite:warden.db }
identity: { stdio: { subject: alice, groups: [devs] } }
connections:
  db: { type: postgres, url: env:TEST_DATABASE_URL, statement_timeout: 10s }
policies: [policies/*.yaml]
`;
const POLICY = `rules:
  - id: held
    effect: allow
    who: { groups: [devs] }
    tool: query_database
    on: [db]
    sql: { statements: [select], read: [public.held] }
`;

let db: TestDatabase;
let dir: WardenDir;

before(async () => {
  db = await createTestDatabase({ prefix: 'stdio_gone' });
  await db.query(`CREATE TABLE held (id int); INSERT INTO held VALUES (1); GRANT SELECT ON held TO ${db.role}`);
  dir = writeWardenDir(CONFIG, { 'p.yaml': POLICY });
});

after(async () => {
  await db?.drop();
  dir?.cleanup();
});

/** `warden serve` over raw pipes, initialized as a 2025-11-25 client. */
async function rawStdioWarden() {
  const child = spawn(process.execPath, [WARDEN_BIN, 'serve', '--config', dir.configPath], {
    env: { PATH: process.env.PATH ?? '', WARDEN_LOG_LEVEL: 'warn', TEST_DATABASE_URL: db.url },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stdout.on('error', () => undefined);
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const send = (m: unknown) => child.stdin.write(JSON.stringify(m) + '\n');
  send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
  for (let i = 0; !out.includes('"id":1'); i++) {
    if (i > 400) throw new Error(`no initialize answer: ${err}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return { child, exited, send, stderr: () => err };
}

const heldCall = (marker: string) => ({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'query_database', arguments: { connection: 'db', sql: `SELECT id, '${marker}' AS m FROM held` } } });

function recorded(marker: string): { status: string | null; error_code: string | null }[] {
  const t = new Database(dir.dbPath, { readonly: true });
  try {
    return t.prepare('SELECT status, error_code FROM calls WHERE args LIKE ?').all(`%${marker}%`) as { status: string | null; error_code: string | null }[];
  } finally {
    t.close();
  }
}

/** Settles with the exit code, or 'still running' after `ms`. */
const exitWithin = (exited: Promise<number | null>, ms: number) => Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), ms))]);

test('stdin closed while a call runs: the call is cancelled and recorded, and the process ends', async () => {
  const w = await rawStdioWarden();
  const release = await lockTable(db, 'held');
  try {
    w.send(heldCall('stdin-closed'));
    await new Promise((r) => setTimeout(r, 400));
    w.child.stdin.end();
    assert.equal(await exitWithin(w.exited, 10_000), 0, w.stderr());
  } finally {
    await release();
    if (w.child.exitCode === null) w.child.kill('SIGKILL');
  }
  assert.deepEqual(recorded('stdin-closed'), [{ status: 'error', error_code: 'WARDEN_CANCELLED' }]);
});

test('stdout gone (EPIPE on the answer): the call is recorded and the process ends, though stdin stays open', async () => {
  const w = await rawStdioWarden();
  const unlock = await lockTable(db, 'held');
  let release: (() => Promise<void>) | null = unlock;
  const releaseOnce = async () => {
    const r = release;
    release = null;
    await r?.();
  };
  try {
    w.send(heldCall('epipe'));
    await new Promise((r) => setTimeout(r, 400));
    w.child.stdout.destroy(); // the client's read end: Warden's answer meets EPIPE
    await releaseOnce();
    assert.equal(await exitWithin(w.exited, 10_000), 0, `a Warden with no one to answer must end: ${w.stderr()}`);
  } finally {
    await releaseOnce();
    if (w.child.exitCode === null) w.child.kill('SIGKILL');
  }
  assert.match(w.stderr(), /EPIPE/, 'the broken pipe is logged as a transport error');
  assert.doesNotMatch(w.stderr(), /Unhandled|uncaught|at .*\.js:\d+/i, 'and nothing threw');
  assert.deepEqual(recorded('epipe'), [{ status: 'ok', error_code: null }]);
});
