/**
 * Start-up, side by side in one run: how long an MCP client waits from spawning a stdio server to
 * its first tools/list answer (what it pays at every session start), for Warden as `warden`
 * runs it (the CommonJS bundle with V8's code cache, scripts/bundle-cli.mjs and
 * bin/code-cache.js), the same bundle without the cache (WARDEN_CODE_CACHE=off), Warden's
 * compiled modules unbundled, and the reference Postgres MCP server; and the wall time of `warden --version` and `warden transcripts
 * verify` bundled and unbundled. Runs are interleaved (one of each in turn), so load that comes
 * and goes hits all of them alike. Reports p50 and the ratios.
 * Run: node dist/test/bench/startup.bench.js [--json] [--runs N]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { createTestDatabase } from '../support/pg-cluster.js';
import { writeWardenDir } from '../support/warden-process.js';
import { REPO_ROOT, WARDEN_BIN } from '../support/repo.js';
import { percentile } from './timing.js';

const BUNDLE = join(REPO_ROOT, 'dist', 'bundle', 'cli', 'main.cjs');
const COMPILED = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const REFERENCE = join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'server-postgres', 'dist', 'index.js');

/** ms from spawn to the first tools/list answer of a stdio server `args` (node's). */
async function firstAnswer(args: string[], env: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args, env, stderr: 'ignore' }));
  const tools = await client.listTools();
  const ms = performance.now() - t0;
  if (tools.tools.length === 0) throw new Error(`${args[0]}: no tools`);
  await client.close();
  return ms;
}

/** ms of one run of a command to its exit (status 0 or `allow`). */
function wall(args: string[], env: Record<string, string>, allow = 0): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== allow) throw new Error(`${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return ms;
}

export async function runStartupBench(runs: number): Promise<Record<string, unknown>> {
  if (!existsSync(BUNDLE)) throw new Error('no bundle: run `npm run build` (scripts/bundle-cli.mjs)');
  const db = await createTestDatabase({ prefix: 'benchstart' });
  await db.query('CREATE TABLE items (id int PRIMARY KEY)');
  await db.query(`GRANT SELECT ON items TO ${db.role}`);
  const wd = writeWardenDir(
    'transcripts: { store: sqlite:warden.db }\nidentity: { stdio: { subject: bench, groups: [g] } }\nconnections:\n  db: { type: postgres, url: env:BENCH_DATABASE_URL }\npolicies: [policies/*.yaml]\n',
    { 'p.yaml': 'rules:\n  - id: r\n    effect: allow\n    who: { groups: [g] }\n    tool: query_database\n    sql: { statements: [select], read: [public.items] }\n' },
  );
  const env = { PATH: process.env.PATH ?? '', BENCH_DATABASE_URL: db.url, WARDEN_LOG_LEVEL: 'error' };
  const serve = (main: string) => [main, 'serve', '--config', wd.configPath];
  try {
    // The store verify reads: written by one Warden start first; a `serve` of the bundle writes
    // the code cache the timed runs take.
    await firstAnswer(serve(COMPILED), env);
    await firstAnswer(serve(WARDEN_BIN), env);
    const noCache = { ...env, WARDEN_CODE_CACHE: 'off' };
    const kinds: Record<string, () => Promise<number> | number> = {
      'serve, first tools/list: warden (bundle)': () => firstAnswer(serve(WARDEN_BIN), env),
      'serve, first tools/list: bundle without code cache': () => firstAnswer(serve(WARDEN_BIN), noCache),
      'serve, first tools/list: compiled modules': () => firstAnswer(serve(COMPILED), env),
      'serve, first tools/list: reference server': () => firstAnswer([REFERENCE, db.url], env),
      'warden --version: bundle': () => wall([WARDEN_BIN, '--version'], env),
      'warden --version: compiled modules': () => wall([COMPILED, '--version'], env),
      'warden transcripts verify: bundle': () => wall([WARDEN_BIN, 'transcripts', 'verify', '--config', wd.configPath], env),
      'warden transcripts verify: compiled modules': () => wall([COMPILED, 'transcripts', 'verify', '--config', wd.configPath], env),
    };
    const ms: Record<string, number[]> = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
    for (let i = 0; i < runs; i++) for (const [k, run] of Object.entries(kinds)) ms[k]!.push(await run());
    const p50 = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, Math.round(percentile(v, 0.5) * 10) / 10]));
    const ratio = (a: string, b: string) => Math.round((p50[a]! / p50[b]!) * 100) / 100;
    return {
      runs,
      p50_ms: p50,
      ratios: {
        'serve: bundle / bundle without code cache': ratio('serve, first tools/list: warden (bundle)', 'serve, first tools/list: bundle without code cache'),
        'serve: bundle / compiled modules': ratio('serve, first tools/list: warden (bundle)', 'serve, first tools/list: compiled modules'),
        'serve: bundle / reference server': ratio('serve, first tools/list: warden (bundle)', 'serve, first tools/list: reference server'),
        '--version: bundle / compiled modules': ratio('warden --version: bundle', 'warden --version: compiled modules'),
        'transcripts verify: bundle / compiled modules': ratio('warden transcripts verify: bundle', 'warden transcripts verify: compiled modules'),
      },
    };
  } finally {
    wd.cleanup();
    await db.drop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--runs');
  const runs = at > 0 ? Number(process.argv[at + 1]) : 15;
  const doc = await runStartupBench(runs);
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  else process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  process.exit(0);
}
