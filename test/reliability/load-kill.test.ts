/**
 * Load while crashing: 16 agents call `warden serve --http` as fast as they can while the test
 * SIGKILLs and restarts the server at random points. Afterwards every call an agent saw succeed
 * (its call_id from structuredContent.warden.call_id) is in the transcript with status ok, the
 * chain verifies, and no call is left without an outcome: those in flight at a kill are marked
 * interrupted by the next start (on PostgreSQL once the killed replica's lock has stayed free for
 * the grace). Run on SQLite (synchronous FULL) and on PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';
import { writeWardenDir, type WardenDir } from '../support/warden-process.js';
import { configText, freePort, POLICY, ResilientAgent, SEED, startReplica, wardenCli, type Replica } from './support.js';

const CLIENTS = 16;
/** Kills every run must see, whatever the machine's speed. */
const MIN_KILLS = 3;
/** Successful calls that prove real load (the load runs on past its time, within the cap, until there are this many). */
const MIN_OK = 40;
let target: TestDatabase;
let storeDb: TestDatabase;
let issuer: OidcIssuer;
const dirs: WardenDir[] = [];

before(async () => {
  [target, storeDb, issuer] = await Promise.all([createTestDatabase({ prefix: 'loadtarget' }), createTestDatabase({ prefix: 'loadstore' }), startOidcIssuer()]);
  await target.query(SEED);
  await target.query(`GRANT SELECT ON items TO ${target.role}`);
  await storeDb.query(`GRANT ALL ON SCHEMA public TO ${storeDb.role}`);
});

after(async () => {
  await issuer?.stop();
  await Promise.all([target?.drop(), storeDb?.drop()]);
  for (const d of dirs) d.cleanup();
});

interface Figures {
  store: string;
  seconds: number;
  ok: number;
  refused: number;
  failed: number;
  kills: number;
  interrupted: number;
  lost: number;
  records: number;
}

async function loadWithKills(store: string, env: Record<string, string>, seconds: number, rows: (dir: WardenDir) => Promise<{ id: string; status: string | null }[]>): Promise<Figures> {
  const dir = writeWardenDir(configText({ store, issuer }), { 'base.yaml': POLICY });
  dirs.push(dir);
  const port = await freePort();
  const allEnv = { TARGET_DATABASE_URL: target.url, ...env };
  let server: Replica = await startReplica(dir.configPath, port, allEnv);
  const url = server.url;
  const seen = new Set<string>();
  const f: Figures = { store: store.startsWith('sqlite:') ? 'sqlite' : 'postgres', seconds, ok: 0, refused: 0, failed: 0, kills: 0, interrupted: 0, lost: 0, records: 0 };
  const end = Date.now() + seconds * 1000;
  let restarting: Promise<void> = Promise.resolve();

  // At least MIN_KILLS kills however slowly the machine restarts a replica (a loaded CI host
  // once fit only two in 15 s); the load goes on until the killer is done, within a hard cap.
  let killing = true;
  const cap = end + 60_000;
  const killer = (async () => {
    while ((Date.now() < end - 3000 || f.kills < MIN_KILLS) && Date.now() < cap) {
      await new Promise((r) => setTimeout(r, 2000 + Math.random() * 2500));
      const restart = async () => {
        await server.kill('SIGKILL');
        f.kills++;
        server = await startReplica(dir.configPath, port, allEnv);
      };
      restarting = restart();
      await restarting;
    }
    killing = false;
  })();

  const agents = Array.from({ length: CLIENTS }, (_, i) => new ResilientAgent(url, () => issuer.mint({ sub: `agent-${i}`, groups: ['dev'], scope: 'mcp' })));
  await Promise.all(agents.map(async (agent, i) => {
    let n = i;
    // On past the end (within the cap) until MIN_OK calls succeeded: a slow host (a fresh CI
    // clone beside other test files once served 7 in 15 s) still proves real load, later.
    while (Date.now() < end || killing || (f.ok < MIN_OK && Date.now() < cap)) {
      n += CLIENTS;
      try {
        const r = await agent.call('query_database', { connection: 'target', sql: `SELECT name, n FROM items WHERE id = ${(n % 50) + 1}` });
        const callId = (r.structured?.warden as { call_id?: string } | undefined)?.call_id;
        if (!r.isError && callId) {
          seen.add(callId);
          f.ok++;
        } else {
          assert.match(r.text, /^WARDEN_[A-Z_]+:/, 'a refusal carries a code');
          f.refused++;
        }
      } catch {
        f.failed++; // the server was killed under this call, or is restarting: reconnect and go on
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await agent.close();
  }));
  await killer;
  await restarting;
  await server.kill('SIGTERM');
  // One more start runs recovery for anything the last kill left, then a clean stop. (On
  // PostgreSQL a replica counts as dead once its lock has stayed free for the 5 s grace a
  // reconnecting replica gets: the start's pass after the grace recovers what the last kill left.)
  server = await startReplica(dir.configPath, port, allEnv);
  for (const until = Date.now() + 30_000; Date.now() < until && (await rows(dir)).some((r) => r.status === null);) await new Promise((r) => setTimeout(r, 250));
  await server.kill('SIGTERM');

  const byId = new Map((await rows(dir)).map((r) => [r.id, r.status]));
  for (const id of seen) if (byId.get(id) !== 'ok') f.lost++;
  f.interrupted = [...byId.values()].filter((s) => s === 'interrupted').length;
  const open = [...byId.values()].filter((s) => s === null).length;
  const v = await wardenCli(['transcripts', 'verify', '--json', '--config', dir.configPath], allEnv);
  const verified = JSON.parse(v.out || '{}') as { ok?: boolean; records?: number; firstBroken?: unknown };
  f.records = verified.records ?? 0;
  console.log(`# reliability figures ${JSON.stringify(f)}`);
  assert.equal(v.code, 0, `verify: ${v.out} ${v.err}`);
  assert.equal(verified.ok, true);
  assert.equal(open, 0, 'every call has an outcome (in-flight ones marked interrupted)');
  assert.equal(f.lost, 0, 'every call an agent saw succeed is recorded');
  assert.ok(f.kills >= MIN_KILLS, `killed ${f.kills} times`);
  // A floor that proves real load without turning a busy machine into a failure (figures are in
  // docs/reliability.md; 43 calls were seen with other test runs beside it).
  assert.ok(f.ok >= MIN_OK, `only ${f.ok} successful calls`);
  return f;
}

// The two stores are independent (own folder, port, database): both runs go side by side.
describe('load while crashing', { concurrency: true }, () => {
  test('SQLite (synchronous FULL): no record lost across random SIGKILLs under 16-client load', async () => {
    const f = await loadWithKills('sqlite:warden.db', {}, 25, async (dir) => {
      const db = new Database(dir.dbPath, { readonly: true });
      try {
        return db.prepare('SELECT id, status FROM calls').all() as { id: string; status: string | null }[];
      } finally {
        db.close();
      }
    });
    assert.ok(f.interrupted >= 1, 'calls in flight at a kill were marked interrupted');
  });

  test('PostgreSQL store: no record lost across random SIGKILLs under 16-client load', async () => {
    await loadWithKills('env:WARDEN_STORE_URL', { WARDEN_STORE_URL: storeDb.url }, 15, async () => (await storeDb.query('SELECT id, status FROM calls')).rows as { id: string; status: string | null }[]);
  });
});
