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
import Database from 'better-sqlite3';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { writeWardenDir, type WardenDir } from '../support/warden-process.js';
import { lockTable, lockWaiters } from '../support/http-warden.js';
import { rawWarden } from '../support/stdio-raw.js';

const CONFIG = `transcripts: { store: sqlite:warden.db }
identity: { stdio: { subject: alice, groups: [devs] } }
connections:
  db: { type: postgres, url: env:TEST_DATABASE_URL, statement_timeout: 180s }
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

/** How long the process may take to end once its client is gone (below the statement_timeout of 180 s). */
const EXIT_BOUND_MS = 90_000;

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

/** `warden serve` over raw pipes, initialized as a 2025-11-25 client (stdio-raw.ts); `exited` settles with its exit code. */
async function rawStdioWarden() {
  const w = await rawWarden(dir.configPath, { TEST_DATABASE_URL: db.url });
  const child = w.child;
  child.stdout!.on('error', () => undefined);
  const exited = child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const send = (m: unknown) => void w.write(JSON.stringify(m) + '\n');
  return { child, exited, send, stderr: w.stderr };
}

/**
 * Until the held call's statement waits on the test's lock in PostgreSQL (its readiness: a fixed
 * pause ran out on a loaded machine before the call had even reached the server).
 */
async function statementWaitsOnLock(exited: Promise<unknown>, stderr: () => string): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    if (gone) assert.fail(`warden ended before its statement waited on the lock: ${stderr()}`);
    if ((await lockWaiters(db)) >= 1) return;
    await new Promise((res) => setTimeout(res, 25));
  }
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

/**
 * Settles with the exit code, or 'still running' after EXIT_BOUND_MS. The bound is an
 * "eventually" (an exit on a loaded machine took over 10 s), kept below the statement_timeout so
 * that only the cancel, never the statement's own end, can let the process end while the test
 * holds the lock.
 */
const exitWithin = (exited: Promise<number | null>) => {
  let timer!: NodeJS.Timeout;
  const late = new Promise<string>((r) => (timer = setTimeout(() => r('still running'), EXIT_BOUND_MS)));
  return Promise.race([exited, late]).finally(() => clearTimeout(timer));
};

test('stdin closed while a call runs: the call is cancelled and recorded, and the process ends', async () => {
  const w = await rawStdioWarden();
  const release = await lockTable(db, 'held');
  try {
    w.send(heldCall('stdin-closed'));
    await statementWaitsOnLock(w.exited, w.stderr);
    w.child.stdin!.end();
    assert.equal(await exitWithin(w.exited), 0, w.stderr());
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
    await statementWaitsOnLock(w.exited, w.stderr);
    w.child.stdout!.destroy(); // the client's read end: Warden's answer meets EPIPE
    await releaseOnce();
    assert.equal(await exitWithin(w.exited), 0, `a Warden with no one to answer must end: ${w.stderr()}`);
  } finally {
    await releaseOnce();
    if (w.child.exitCode === null) w.child.kill('SIGKILL');
  }
  assert.match(w.stderr(), /EPIPE/, 'the broken pipe is logged as a transport error');
  assert.doesNotMatch(w.stderr(), /Unhandled|uncaught|at .*\.js:\d+/i, 'and nothing threw');
  assert.deepEqual(recorded('epipe'), [{ status: 'ok', error_code: null }]);
});
