/**
 * A SELECT over a 10,000,000-row table through Warden with max_rows 1000: the protocol-level
 * row cap means the table never materialises in Warden's memory. Reports the Warden process's
 * RSS growth and the answer time (targets: < 100 MB, < 100 ms).
 * Run: node dist/test/bench/big-table.bench.js [--json] [--rows N]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { createTestDatabase } from '../support/pg-cluster.js';
import { writeWardenDir } from '../support/warden-process.js';
import { WARDEN_BIN } from '../support/repo.js';

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** Seed, query, measure. */
export async function runBigTableBench(rows = 10_000_000) {
  const db = await createTestDatabase({ prefix: 'big' });
  const t0 = performance.now();
  await db.query(`CREATE TABLE big AS SELECT g AS id, md5(g::text) AS v, g * 0.5 AS amount FROM generate_series(1, ${rows}) g`);
  await db.query(`GRANT SELECT ON big TO ${db.role}`);
  const seedMs = performance.now() - t0;
  const dir = writeWardenDir(
    `transcripts: { store: sqlite:warden.db }\nidentity: { stdio: { subject: bench, groups: [g] } }\nconnections:\n  db: { type: postgres, url: env:BENCH_DATABASE_URL, max_rows: 1000, statement_timeout: 30s }\npolicies: [policies/*.yaml]\n`,
    { 'p.yaml': `rules:\n  - id: r\n    effect: allow\n    who: { groups: [g] }\n    tool: query_database\n    sql: { statements: [select], read: [public.big] }\n` },
  );
  const transport = new StdioClientTransport({ command: process.execPath, args: [WARDEN_BIN, 'serve', '--config', dir.configPath], env: { PATH: process.env.PATH ?? '', BENCH_DATABASE_URL: db.url, WARDEN_LOG_LEVEL: 'error' }, stderr: 'inherit' });
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  const pid = transport.pid!;
  // Warm up the process (modules, pools) on a small query first.
  await client.callTool({ name: 'query_database', arguments: { connection: 'db', sql: 'SELECT id FROM big WHERE id = 1' } });
  const before = rssMb(pid);
  const times: number[] = [];
  let rowsReturned = 0;
  let truncated = false;
  let peak = before;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const r = await client.callTool({ name: 'query_database', arguments: { connection: 'db', sql: 'SELECT * FROM big' } });
    times.push(performance.now() - t);
    // The default result is its text; its last line says how many rows and whether capped.
    const text = (r.content as { text: string }[])[0]!.text;
    const tail = /\((\d+) rows?(, truncated)?\)$/.exec(text);
    if (r.isError || !tail) throw new Error(`unexpected answer: ${text.slice(0, 200)}`);
    rowsReturned = Number(tail[1]);
    truncated = tail[2] !== undefined;
    peak = Math.max(peak, rssMb(pid));
  }
  await client.close();
  dir.cleanup();
  await db.drop();
  times.sort((a, b) => a - b);
  return {
    table_rows: rows,
    seed_ms: Math.round(seedMs),
    rows_returned: rowsReturned,
    truncated,
    answer_ms_p50: Math.round(times[2]! * 10) / 10,
    rss_before_mb: before,
    rss_peak_mb: peak,
    rss_growth_mb: peak - before,
    targets: { rss_growth_mb: 100, answer_ms: 100 },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const ri = process.argv.indexOf('--rows');
  const r = await runBigTableBench(ri > 0 ? Number(process.argv[ri + 1]) : undefined);
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  else console.log(`SELECT * over ${r.table_rows} rows with max_rows 1000: ${r.rows_returned} rows (truncated=${r.truncated}) in ${r.answer_ms_p50} ms p50; Warden RSS ${r.rss_before_mb} -> ${r.rss_peak_mb} MB (growth ${r.rss_growth_mb} MB)`);
  process.exit(0);
}
