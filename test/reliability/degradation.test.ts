/**
 * Graceful degradation without a restart of Warden: the target PostgreSQL goes down under load
 * (coded errors, quickly) and comes back (calls succeed again); the PostgreSQL transcript store
 * goes down (calls refused with WARDEN_TRANSCRIPT_UNAVAILABLE and nothing executed) and comes back.
 * Both use a dedicated throwaway cluster that the test stops and starts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDatabase, setPgClusterRunning, startPgCluster, type PgCluster, type TestDatabase } from '../support/pg-cluster.js';
import { connectWarden, writeWardenDir, type WardenDir } from '../support/warden-process.js';
import { configText, POLICY, SEED, wardenCli } from './support.js';

let cluster: PgCluster;
let shared: TestDatabase;
const dirs: WardenDir[] = [];

before(async () => {
  [cluster, shared] = await Promise.all([startPgCluster(), createTestDatabase({ prefix: 'degrade' })]);
  const c = new pg.Client({ connectionString: cluster.url });
  await c.connect();
  await c.query(SEED);
  await c.end();
  await shared.query(SEED);
  await shared.query(`GRANT SELECT, INSERT ON items TO ${shared.role}; GRANT USAGE ON SEQUENCE items_id_seq TO ${shared.role}`);
});

after(async () => {
  await cluster?.stop();
  await shared?.drop();
  for (const d of dirs) d.cleanup();
});

const ENV = { WARDEN_TEST_HASH_KEY: 'k' };
const code = (text: string) => /^(WARDEN_[A-Z_]+):/.exec(text)?.[1] ?? 'ok';

async function untilOk(fn: () => Promise<string>, ms: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    if ((await fn()) === 'ok') return Date.now() - start;
    if (Date.now() - start > ms) throw new Error(`no recovery within ${ms} ms: ${await fn()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('target database restart: coded errors while down, recovery after, no Warden restart', async () => {
  const dir = writeWardenDir(configText({ store: 'sqlite:warden.db' }), { 'base.yaml': POLICY });
  dirs.push(dir);
  const w = await connectWarden(dir.configPath, { ...ENV, TARGET_DATABASE_URL: cluster.url });
  const read = async () => code((await w.call('query_database', { connection: 'target', sql: 'SELECT name FROM items WHERE id = 3' })).text);
  try {
    // Warm both pools, then keep load on while the database goes away.
    assert.deepEqual(await Promise.all(Array.from({ length: 8 }, read)), Array(8).fill('ok'));
    await setPgClusterRunning(cluster, false);
    const t0 = Date.now();
    const down = await Promise.all(Array.from({ length: 8 }, read));
    assert.ok(Date.now() - t0 < 12_000, 'errors come quickly, not after a hang');
    for (const c of down) assert.match(c, /^WARDEN_(BACKEND_ERROR|TIMEOUT)$/);
    await setPgClusterRunning(cluster, true);
    const took = await untilOk(read, 20_000);
    console.log(`# target recovered ${took} ms after restart`);
    assert.deepEqual(await Promise.all(Array.from({ length: 8 }, read)), Array(8).fill('ok'));
  } finally {
    await w.close();
  }
  const v = await wardenCli(['transcripts', 'verify', '--config', dir.configPath], ENV);
  assert.equal(v.code, 0, v.out + v.err);
});

test('PostgreSQL transcript store down: calls refused, nothing executed; service resumes when it is back', async () => {
  const dir = writeWardenDir(configText({ store: 'env:WARDEN_STORE_URL' }), { 'base.yaml': POLICY });
  dirs.push(dir);
  const env = { ...ENV, TARGET_DATABASE_URL: shared.url, WARDEN_STORE_URL: cluster.url };
  const w = await connectWarden(dir.configPath, env);
  const count = async () => Number((await shared.query(`SELECT count(*) AS n FROM items WHERE name = 'during-outage'`)).rows[0]?.n);
  const insert = async () => (await w.call('query_database', { connection: 'target', sql: `INSERT INTO items (name, n) VALUES ('during-outage', 1)` })).text;
  try {
    assert.equal(code((await w.call('query_database', { connection: 'target', sql: 'SELECT 1 FROM items WHERE id = 1' })).text), 'ok');
    await setPgClusterRunning(cluster, false);
    for (let i = 0; i < 5; i++) {
      const t = await insert();
      assert.equal(code(t), 'WARDEN_TRANSCRIPT_UNAVAILABLE', t);
    }
    assert.equal(await count(), 0, 'no call ran while its intent could not be recorded');
    await setPgClusterRunning(cluster, true);
    await untilOk(async () => code(await insert()), 20_000);
    assert.equal(await count(), 1, 'exactly the recorded call ran');
  } finally {
    await w.close();
  }
  const v = await wardenCli(['transcripts', 'verify', '--config', dir.configPath], env);
  assert.equal(v.code, 0, v.out + v.err);
});
