/**
 * Governed query_database over Streamable HTTP (OIDC bearer, policy, transcript, masking) with
 * 1, 4 and 16 concurrent clients, next to the same query through a plain `pg` pool in the same
 * run. Reports calls/s, p50 and p99 and the ratio plain/governed. The governed server is its own
 * `warden serve --http` process, so that the clients' work does not run on its event loop; the
 * pipeline-only row runs the same call in this process without HTTP or MCP.
 * Run: npx tsc -p tsconfig.json && node dist/test/bench/http.bench.js [calls-per-level]
 */
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { connectHttpAgent, type HttpAgent } from '../support/http-agent.js';
import { spawnHttpWarden, startHttpWarden } from '../support/http-warden.js';

const SQL = 'SELECT id, name FROM users WHERE id = 1';

const POLICY = `
rules:
  - id: bench-read
    effect: allow
    who: { groups: [bench] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.users] }
`;

/** One measured level. */
export interface BenchRow {
  clients: number;
  calls: number;
  governed: { perSec: number; p50: number; p99: number };
  /** The same call from 2026-07-28 clients, served per request (every request is its own session). */
  perRequest: { perSec: number; p50: number; p99: number };
  plain: { perSec: number; p50: number; p99: number };
  /** The same governed call through the pipeline in-process (no HTTP, no MCP): attributes the overhead. */
  pipeline: { perSec: number; p50: number; p99: number };
  /** plain calls/s divided by governed calls/s. */
  ratio: number;
}

function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

async function measure(clients: number, perClient: number, one: (i: number) => Promise<void>): Promise<{ perSec: number; p50: number; p99: number }> {
  const lat: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      for (let k = 0; k < perClient; k++) {
        const a = performance.now();
        await one(i);
        lat.push(performance.now() - a);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  lat.sort((x, y) => x - y);
  return { perSec: lat.length / secs, p50: pct(lat, 0.5), p99: pct(lat, 0.99) };
}

/** Run the benchmark and print a table; returns the rows. */
export async function runHttpBench(callsPerLevel = 480): Promise<BenchRow[]> {
  const w = await startHttpWarden({ 'bench.yaml': POLICY });
  const server = await spawnHttpWarden(w, { 'bench.yaml': POLICY }).catch(async (e: unknown) => {
    await w.stop();
    throw e;
  });
  const rows: BenchRow[] = [];
  const session = 'bench-direct-session';
  await w.rt.store.openSession({ id: session, principal: { subject: 'bench-direct', groups: ['bench'], authMethod: 'oidc' }, client: { name: 'bench' }, transport: 'http', startedAt: new Date().toISOString() });
  try {
    for (const clients of [1, 4, 16]) {
      const perClient = Math.max(1, Math.floor(callsPerLevel / clients));
      const agents: HttpAgent[] = [];
      const modern: HttpAgent[] = [];
      for (let i = 0; i < clients; i++) {
        agents.push(await connectHttpAgent(server.url, await w.token(`bench-${i}`, ['bench'])));
        modern.push(await connectHttpAgent(server.url, await w.token(`bench-m${i}`, ['bench']), { modern: true }));
      }
      const pool = new pg.Pool({ connectionString: w.db.url, max: clients });
      try {
        const governedCall = async (i: number) => {
          const r = await agents[i]!.call('query_database', { connection: 'analytics', sql: SQL });
          if (r.isError) throw new Error(`governed call failed: ${r.text}`);
        };
        const perRequestCall = async (i: number) => {
          const r = await modern[i]!.call('query_database', { connection: 'analytics', sql: SQL });
          if (r.isError) throw new Error(`per-request call failed: ${r.text}`);
        };
        const plainCall = async () => {
          await pool.query(SQL);
        };
        await measure(clients, 5, governedCall); // warm-up: sessions, pools, JIT
        await measure(clients, 5, perRequestCall);
        await measure(clients, 5, plainCall);
        const principal = { subject: 'bench-direct', groups: ['bench'], claims: {}, authMethod: 'oidc' as const };
        const directCall = async () => {
          const r = await w.rt.pipeline.handle({ sessionId: session, principal, tool: 'query_database', args: { connection: 'analytics', sql: SQL }, signal: new AbortController().signal });
          if (r.isError) throw new Error(`pipeline call failed: ${r.content[0]?.text}`);
        };
        const governed = await measure(clients, perClient, governedCall);
        const perRequest = await measure(clients, perClient, perRequestCall);
        const plain = await measure(clients, perClient, plainCall);
        const pipeline = await measure(clients, perClient, directCall);
        rows.push({ clients, calls: perClient * clients, governed, perRequest, plain, pipeline, ratio: plain.perSec / governed.perSec });
      } finally {
        await Promise.all([...agents, ...modern].map((a) => a.close()));
        await pool.end();
      }
    }
  } finally {
    await server.stop();
    await w.stop();
  }
  const f = (n: number) => n.toFixed(2);
  if (process.argv.includes('--json')) {
    const r3 = (x: { perSec: number; p50: number; p99: number }) => ({ perSec: Math.round(x.perSec), p50: +f(x.p50), p99: +f(x.p99) });
    console.log(JSON.stringify({ server: 'warden serve --http (own process)', rows: rows.map((r) => ({ ...r, governed: r3(r.governed), perRequest: r3(r.perRequest), plain: r3(r.plain), pipeline: r3(r.pipeline), ratio: +r.ratio.toFixed(1) })) }));
    return rows;
  }
  console.log('clients | calls | governed calls/s | p50 ms | p99 ms | per-request (2026) calls/s | p50 ms | plain pg calls/s | p50 ms | p99 ms | plain/governed | pipeline-only calls/s | p50 ms');
  for (const r of rows) {
    console.log(`${String(r.clients).padStart(7)} | ${String(r.calls).padStart(5)} | ${r.governed.perSec.toFixed(0).padStart(16)} | ${f(r.governed.p50).padStart(6)} | ${f(r.governed.p99).padStart(6)} | ${r.perRequest.perSec.toFixed(0).padStart(26)} | ${f(r.perRequest.p50).padStart(6)} | ${r.plain.perSec.toFixed(0).padStart(16)} | ${f(r.plain.p50).padStart(6)} | ${f(r.plain.p99).padStart(6)} | ${(r.ratio.toFixed(1) + 'x').padStart(14)} | ${r.pipeline.perSec.toFixed(0).padStart(21)} | ${f(r.pipeline.p50)}`);
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runHttpBench(Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 480)).then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
