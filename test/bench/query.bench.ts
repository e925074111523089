/**
 * Side by side, in one run, over the same stdio transport and the same database: Warden's
 * governed query_database, the ungoverned reference Postgres MCP server, and a plain `pg`
 * pool. Reports p50/p99, calls/s and the ratios, beside two floors: an SDK echo, and a server
 * that only runs the statement and records it durably (durable-floor-server.ts); also the in-process governance overhead
 * (parse + policy + mask + record, no database, no transport) with a stage breakdown.
 * Run: node dist/test/bench/query.bench.js [--json] [--calls N]
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import pg from 'pg';
import Database from 'better-sqlite3';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { createTestDatabase } from '../support/pg-cluster.js';
import { writeWardenDir } from '../support/warden-process.js';
import { REPO_ROOT, WARDEN_BIN } from '../support/repo.js';
import { analyzeSql, analyzeSqlCached } from '../../tools/postgres/analysis/index.js';
import { sqlCondition } from '../../tools/postgres/sql-condition.js';
import { compilePolicy } from '../../src/policy/load.js';
import { decide } from '../../src/policy/engine.js';
import { compileScanner } from '../../src/masking/index.js';
import { maskOutput } from '../../src/pipeline/mask-output.js';
import { renderOutput } from '../../src/pipeline/render.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import { percentile, timeCalls } from './timing.js';

const Q19 = 'SELECT id, name, email, total, created FROM bench_items WHERE id < 20 ORDER BY id';
const Q1000 = 'SELECT id, name, email, total, created FROM bench_items ORDER BY id';

/** p50/p99 and calls/s of a list of durations in ms. */
export function stats(ms: number[]): { p50: number; p99: number; callsPerSec: number } {
  const total = ms.reduce((a, b) => a + b, 0);
  return { p50: round(percentile(ms, 0.5)), p99: round(percentile(ms, 0.99)), callsPerSec: Math.round((ms.length / total) * 1000) };
}
const round = (x: number) => Math.round(x * 1000) / 1000;

/**
 * The in-process governance cost for one call, by stage, recorded as the pipeline records a
 * read: the intent commits without its own fsync before the statement runs, the outcome commits
 * durably before the agent sees anything. `total` is what a read waits for (parse + decide +
 * intent + mask/render + durable outcome, the default read_intent: before); `overlappable` leaves
 * out the intent's commit, which read_intent: overlap (opt-in) runs beside the database round trip.
 */
async function governanceOverhead(n: number, dir: string) {
  const policyText = `masking:\n  columns: [{ column: public.bench_items.email, with: partial }]\n  detectors: [email, us_ssn, credit_card, jwt, aws_access_key, private_key, password_in_url, bearer_token]\nrules:\n  - id: r\n    effect: allow\n    who: { groups: [g] }\n    tool: query_database\n    sql: { statements: [select], read: [public.bench_items] }\n`;
  const policy = compilePolicy(['p.yaml'], [sqlCondition], { 'p.yaml': policyText });
  const scanner = compileScanner({ detectors: policy.masking.detectors });
  const store = openSqliteStore(join(dir, 'overhead.db'), { synchronous: 'FULL' });
  await store.openSession({ id: 's', principal: { subject: 'a', groups: ['g'], authMethod: 'stdio' }, client: {}, transport: 'in-process', startedAt: new Date().toISOString() });
  const principal = { subject: 'a', groups: ['g'], claims: {}, authMethod: 'stdio' as const };
  const rows = Array.from({ length: 19 }, (_, i) => [i, `name ${i}`, `u${i}@example.com`, String(i * 1.5), new Date(0).toISOString()]);
  const stages = { parse: [] as number[], decide: [] as number[], intent: [] as number[], mask: [] as number[], outcome: [] as number[], overlappable: [] as number[], total: [] as number[] };
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const facts = analyzeSqlCached(Q19);
    const t1 = performance.now();
    const d = decide(policy, principal, { tool: 'query_database', connection: 'db', args: { sql: Q19 } }, facts);
    const t2 = performance.now();
    const id = `c${i}`;
    await store.recordIntent({ id, sessionId: 's', tool: 'query_database', connection: 'db', args: { sql: Q19 }, factsSummary: facts.summary, facts, decision: 'allow', ruleIds: d.ruleIds, policyVersion: policy.version, startedAt: new Date().toISOString() }, { durable: !facts.readOnly });
    const t3 = performance.now();
    const m = maskOutput({ kind: 'table', columns: [{ name: 'id' }, { name: 'name' }, { name: 'email', masked: 'partial' }, { name: 'total' }, { name: 'created' }], rows, rowCount: 19, truncated: false }, scanner);
    const resp = renderOutput(m.output, { call_id: String(i), rule_ids: d.ruleIds });
    const t4 = performance.now();
    await store.recordOutcome(id, { status: 'ok', errorCode: null, result: resp.structuredContent, masking: m.report, durationMs: 1, endedAt: new Date().toISOString() });
    const t5 = performance.now();
    stages.parse.push(t1 - t0);
    stages.decide.push(t2 - t1);
    stages.intent.push(t3 - t2);
    stages.mask.push(t4 - t3);
    stages.outcome.push(t5 - t4);
    stages.overlappable.push(t5 - t0 - (t3 - t2));
    stages.total.push(t5 - t0);
  }
  await store.close();
  return Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, stats(v.slice(Math.floor(n / 10)))]));
}

/**
 * The least a durable record can cost here: one better-sqlite3 insert of `body` into a bare WAL
 * table with synchronous=FULL (one fsync), p50 over `n` sequential commits.
 */
function bareDurableCommit(dir: string, body: string, n: number): number {
  const db = new Database(join(dir, `bare-${body.length}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  const ins = db.prepare('INSERT INTO t (body) VALUES (?)');
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    ins.run(body);
    ms.push(performance.now() - t);
  }
  db.close();
  return round(percentile(ms.slice(Math.floor(n / 10)), 0.5));
}

/** Parse + policy for a ~200-character query: first sight (full parse) and repeated (analysis cache). */
function parsePolicy200(n: number) {
  const policy = compilePolicy(['p.yaml'], [sqlCondition], { 'p.yaml': `rules:\n  - id: r\n    effect: allow\n    who: { groups: [g] }\n    tool: query_database\n    sql: { statements: [select], read: [public.users, public.orders] }\n` });
  const principal = { subject: 'a', groups: ['g'], claims: {}, authMethod: 'stdio' as const };
  const sql = (i: number) => `SELECT u.id, u.name, count(o.id) AS orders, sum(o.total) AS spent FROM users u JOIN orders o ON o.user_id = u.id WHERE o.created > now() AND u.id > ${i} GROUP BY u.id, u.name ORDER BY spent DESC LIMIT 20`;
  const once = (text: string, analyze: (s: string) => ReturnType<typeof analyzeSql>) => {
    const t = performance.now();
    const f = analyze(text);
    const d = decide(policy, principal, { tool: 'query_database', connection: 'db', args: { sql: text } }, f);
    if (d.effect !== 'allow') throw new Error(`bench query denied: ${d.reason}`);
    return performance.now() - t;
  };
  const first = Array.from({ length: n }, (_, i) => once(sql(i), analyzeSql));
  const cached = Array.from({ length: n * 10 }, () => once(sql(0), analyzeSqlCached));
  return { chars: sql(0).length, first_sight: stats(first.slice(Math.floor(n / 10))), cached: stats(cached.slice(n)) };
}

/** Run the benchmark; returns the figures (also printed unless quiet). */
export async function runQueryBench(opts: { calls?: number } = {}) {
  const calls = opts.calls ?? 400;
  const db = await createTestDatabase({ prefix: 'bench' });
  await db.query(`CREATE TABLE bench_items (id int PRIMARY KEY, name text, email text, total numeric, created timestamptz);
    INSERT INTO bench_items SELECT g, 'item ' || g, 'user' || g || '@example.com', g * 1.25, '2026-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 1000) g;`);
  await db.query(`GRANT SELECT ON bench_items TO ${db.role}`);
  const config = (extra: string, transcripts = '') =>
    `transcripts: { store: sqlite:warden.db${transcripts} }\n${extra}identity: { stdio: { subject: bench, groups: [g] } }\nconnections:\n  db: { type: postgres, url: env:BENCH_DATABASE_URL, max_rows: 1000 }\npolicies: [policies/*.yaml]\n`;
  const policies = { 'p.yaml': `masking:\n  columns: [{ column: public.bench_items.email, with: partial }]\n  detectors: [email, us_ssn, credit_card, jwt, aws_access_key, private_key, password_in_url, bearer_token]\nrules:\n  - id: r\n    effect: allow\n    who: { groups: [g] }\n    tool: query_database\n    sql: { statements: [select], read: [public.bench_items] }\n` };
  // The default (results as text, what agents read) and structured_content: true (the rows also
  // as MCP structuredContent, for typed clients), each in its own folder and process.
  const wdir = writeWardenDir(config(''), policies);
  const sdir = writeWardenDir(config('responses: { structured_content: true }\n'), policies);
  // And what the fsync costs: synchronous: NORMAL (durable across a process crash, not a power cut).
  const ndir = writeWardenDir(config('', ', synchronous: NORMAL'), policies);
  const env = { PATH: process.env.PATH ?? '', BENCH_DATABASE_URL: db.url, WARDEN_LOG_LEVEL: 'error' };
  // One Warden child per query size: each reports its own per-stage p50s at exit
  // (WARDEN_PROFILE_STAGES), so the breakdown says where the time goes for that size.
  const startWarden = async (configPath: string) => {
    const client = new Client({ name: 'bench', version: '1' });
    const transport = new StdioClientTransport({ command: process.execPath, args: [WARDEN_BIN, 'serve', '--config', configPath], env: { ...env, WARDEN_PROFILE_STAGES: '1' }, stderr: 'pipe' });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await client.connect(transport);
    return {
      call: (sql: string) => client.callTool({ name: 'query_database', arguments: { connection: 'db', sql } }),
      async stop() {
        await client.close();
        await new Promise((r) => setTimeout(r, 300));
        const line = /WARDEN_STAGE_PROFILE (\{.*\})/.exec(stderr)?.[1];
        return line ? (JSON.parse(line) as { calls: number; p50_ms: Record<string, number> }) : null;
      },
    };
  };
  const refMain = join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'server-postgres', 'dist', 'index.js');
  const ref = new Client({ name: 'bench', version: '1' });
  await ref.connect(new StdioClientTransport({ command: process.execPath, args: [refMain, db.url], env, stderr: 'ignore' }));
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });

  // The transport floor: the same SDK's stdio server answering Warden's text with no work at all.
  // And the same echo on the reference's own SDK (1.x): the share of the gap that is the SDK
  // generation, which Warden (on SDK v2, DESIGN.md) cannot choose.
  const startEcho = async (text: string, server = 'sdk-echo-server.js') => {
    const client = new Client({ name: 'bench', version: '1' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [join(REPO_ROOT, 'dist', 'test', 'bench', server), text], env, stderr: 'ignore' }));
    return client;
  };

  let floorCount = 0;
  const startFloor = async (url: string, dir: string, mode: 'one' | 'two' | 'flush' | 'none') => {
    const client = new Client({ name: 'bench', version: '1' });
    const file = join(dir, `floor-${mode}-${floorCount++}.db`);
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [join(REPO_ROOT, 'dist', 'test', 'bench', 'durable-floor-server.js'), url, file, mode], env, stderr: 'ignore' }));
    return client;
  };

  const results: Record<string, Record<string, ReturnType<typeof stats>>> = {};
  const floors: Record<string, { sdk_echo: number; sdk1_echo: number; pg: number; durable_commit: number; sum: number; sum_vs_reference: number }> = {};
  const stageProfile: Record<string, { calls: number; p50_ms: Record<string, number> } | null> = {};
  for (const [label, sql] of [['19 rows', Q19], ['1000 rows', Q1000]] as const) {
    const warden = await startWarden(wdir.configPath);
    const structured = await startWarden(sdir.configPath);
    const normal = await startWarden(ndir.configPath);
    for (const w of [warden, structured, normal]) {
      const check = await w.call(sql);
      if (check.isError) throw new Error(`warden call failed: ${JSON.stringify(check.content)}`);
    }
    if ((await structured.call(sql)).structuredContent === undefined) throw new Error('structured_content: true sent no structuredContent');
    const answer = ((await warden.call(sql)).content as { type: string; text: string }[])[0]!.text;
    const echo = await startEcho(answer);
    const echo1 = await startEcho(answer, 'sdk1-echo-server.js');
    // The recording floor end to end (durable-floor-server.ts): the same SDK, one pg round trip,
    // and the call recorded as DESIGN.md asks (intent before, fsynced outcome after) with no
    // governance at all; and with a single fsynced record after the statement.
    const floorTwo = await startFloor(db.url, wdir.dir, 'two');
    const floorOne = await startFloor(db.url, wdir.dir, 'one');
    // And the same server recording nothing, or making each answer durable with one bare 4 KB
    // write and fdatasync and no SQLite: what the flush alone costs end to end, wake-ups included.
    const floorNone = await startFloor(db.url, wdir.dir, 'none');
    const floorFlush = await startFloor(db.url, wdir.dir, 'flush');
    const paths = {
      warden: () => warden.call(sql),
      warden_structured: () => structured.call(sql),
      warden_sync_normal: () => normal.call(sql),
      reference: () => ref.callTool({ name: 'query', arguments: { sql } }),
      pg: () => pool.query(sql),
      sdk_echo: () => echo.callTool({ name: 'echo', arguments: {} }),
      sdk1_echo: () => echo1.callTool({ name: 'echo', arguments: {} }),
      floor_recorded: () => floorTwo.callTool({ name: 'query', arguments: { sql } }),
      floor_one_record: () => floorOne.callTool({ name: 'query', arguments: { sql } }),
      floor_unrecorded: () => floorNone.callTool({ name: 'query', arguments: { sql } }),
      floor_bare_flush: () => floorFlush.callTool({ name: 'query', arguments: { sql } }),
    };
    for (const f of Object.values(paths)) await timeCalls(50, f); // warm up
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(paths).map((k) => [k, []]));
    // Interleave rounds so that drift on a shared machine hits every path alike.
    for (let round = 0; round < 10; round++) {
      for (const [name, f] of Object.entries(paths)) samples[name]!.push(...(await timeCalls(Math.ceil(calls / 10), f)));
    }
    results[label] = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, stats(v)]));
    // A floor no governed server on this SDK can beat here: the transport alone, one database
    // round trip and one fsynced record of the answer, each measured on its own.
    const r = results[label]!;
    const durable = bareDurableCommit(wdir.dir, answer, 1000);
    const sum = round(r.sdk_echo!.p50 + r.pg!.p50 + durable);
    floors[label] = { sdk_echo: r.sdk_echo!.p50, sdk1_echo: r.sdk1_echo!.p50, pg: r.pg!.p50, durable_commit: durable, sum, sum_vs_reference: round(sum / r.reference!.p50) };
    await echo.close();
    await echo1.close();
    await floorTwo.close();
    await floorOne.close();
    await floorNone.close();
    await floorFlush.close();
    stageProfile[label] = await warden.stop();
    await structured.stop();
    await normal.stop();
  }
  const overhead = await governanceOverhead(2000, wdir.dir);
  const parse200 = parsePolicy200(300);
  await ref.close();
  await pool.end();
  wdir.cleanup();
  sdir.cleanup();
  ndir.cleanup();
  await db.drop();
  const ratios = Object.fromEntries(
    Object.entries(results).map(([label, r]) => [label, { warden_vs_reference: round(r.warden!.p50 / r.reference!.p50), warden_structured_vs_reference: round(r.warden_structured!.p50 / r.reference!.p50), warden_sync_normal_vs_reference: round(r.warden_sync_normal!.p50 / r.reference!.p50), warden_vs_pg: round(r.warden!.p50 / r.pg!.p50), floor_recorded_vs_reference: round(r.floor_recorded!.p50 / r.reference!.p50), warden_vs_floor_recorded: round(r.warden!.p50 / r.floor_recorded!.p50), floor_unrecorded_vs_reference: round(r.floor_unrecorded!.p50 / r.reference!.p50), floor_bare_flush_vs_reference: round(r.floor_bare_flush!.p50 / r.reference!.p50) }]),
  );
  return { calls, results, ratios, floor_p50_ms: floors, stage_p50_ms: stageProfile, governance_overhead_19_rows: overhead, parse_and_policy_200_chars: parse200 };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const json = process.argv.includes('--json');
  const ci = process.argv.indexOf('--calls');
  const r = await runQueryBench({ calls: ci > 0 ? Number(process.argv[ci + 1]) : undefined });
  if (json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  else {
    for (const [label, res] of Object.entries(r.results)) {
      console.log(`\n${label} (${r.calls} sequential calls per path, p50 / p99 ms, calls/s)`);
      for (const [name, s] of Object.entries(res)) console.log(`  ${name.padEnd(18)} ${String(s.p50).padStart(8)} ${String(s.p99).padStart(8)} ${String(s.callsPerSec).padStart(8)}`);
      const q = r.ratios[label]!;
      console.log(`  ratio warden/reference p50 = ${q.warden_vs_reference} (structured_content: ${q.warden_structured_vs_reference}; synchronous NORMAL: ${q.warden_sync_normal_vs_reference}), warden/pg p50 = ${q.warden_vs_pg}`);
      const fl = r.floor_p50_ms[label]!;
      console.log(`  floor: sdk echo ${fl.sdk_echo} + pg ${fl.pg} + one fsynced record ${fl.durable_commit} = ${fl.sum} ms, ${fl.sum_vs_reference} x the reference`);
      console.log(`  transport: the same echo on the reference's SDK 1.x takes ${fl.sdk1_echo} ms (SDK v2: ${fl.sdk_echo})`);
      console.log(`  recording floor end to end (no governance, intent before + fsynced outcome): ${q.floor_recorded_vs_reference} x the reference; Warden = ${q.warden_vs_floor_recorded} x that floor`);
      console.log(`  the same server recording nothing: ${q.floor_unrecorded_vs_reference} x the reference; with one bare 4 KB write + fdatasync per answer and no SQLite: ${q.floor_bare_flush_vs_reference} x`);
    }
    console.log('\ngovernance overhead, 19-row query, in-process (p50 / p99 ms):');
    for (const [k, s] of Object.entries(r.governance_overhead_19_rows)) console.log(`  ${k.padEnd(8)} ${s.p50} / ${s.p99}`);
    for (const [label, prof] of Object.entries(r.stage_p50_ms)) if (prof) console.log(`\nWarden pipeline stages, ${label} (${prof.calls} calls, p50 ms): ${JSON.stringify(prof.p50_ms)}`);
    const pp = r.parse_and_policy_200_chars;
    console.log(`\nparse + policy, ${pp.chars}-character query (p50 / p99 ms): first sight ${pp.first_sight.p50} / ${pp.first_sight.p99}, repeated (cached) ${pp.cached.p50} / ${pp.cached.p99}`);
  }
  process.exit(0);
}
