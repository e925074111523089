/**
 * Two builds of Warden side by side in one run: this checkout's and another's (`--against DIR`,
 * a built checkout; scripts/bench-ab.mjs builds a revision there). Why: one machine of the
 * project's kind drifts by more than a change costs, so "this change adds no per-call cost" is
 * shown only by interleaving: both servers start on the same database with the same config and
 * policy, then take turns in blocks of `--block` calls (the order swapped every round), and the
 * ratios are this build / the other, p50 and CPU per call (each server's own CPU, read from
 * /proc/PID/stat), for a 19-row and a 1,000-row query. Comparing a build with itself
 * (`--against .`) shows the noise.
 * Run: node dist/test/bench/ab-compare.js --against DIR [--rounds N] [--block N] [--json]
 * (not a `.bench.js`: `npm run bench` does not run it; `npm run bench:ab -- REV` does.)
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { createTestDatabase } from '../support/pg-cluster.js';
import { writeWardenDir } from '../support/warden-process.js';
import { REPO_ROOT, WARDEN_BIN } from '../support/repo.js';
import { percentile, timeCalls } from './timing.js';

const QUERIES = {
  '19 rows': 'SELECT id, name, email, total, created FROM bench_items WHERE id < 20 ORDER BY id',
  '1000 rows': 'SELECT id, name, email, total, created FROM bench_items ORDER BY id',
} as const;

/** CPU seconds (user + system) a process has used, from /proc (Linux); null elsewhere. */
export function cpuSeconds(pid: number): number | null {
  try {
    // Fields after the command name (which may hold spaces, in parentheses): utime is the 14th field, stime the 15th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return null;
  }
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/** One Warden stdio server of the build whose bin is `bin`. */
async function startWarden(bin: string, configPath: string, env: Record<string, string>) {
  const client = new Client({ name: 'bench-ab', version: '1' });
  const transport = new StdioClientTransport({ command: process.execPath, args: [bin, 'serve', '--config', configPath], env, stderr: 'ignore' });
  await client.connect(transport);
  const pid = transport.pid;
  if (pid === null) throw new Error('no pid for the Warden child');
  return {
    pid,
    call: (sql: string) => client.callTool({ name: 'query_database', arguments: { connection: 'db', sql } }),
    close: () => client.close(),
  };
}

/** Interleave this build and the other; returns p50s, CPU per call and the ratios this / other. */
export async function runAb(opts: { against: string; rounds?: number; block?: number }) {
  const rounds = opts.rounds ?? 10;
  const block = opts.block ?? 200;
  const otherBin = join(resolve(opts.against), 'bin', 'warden.js');
  const db = await createTestDatabase({ prefix: 'benchab' });
  await db.query(`CREATE TABLE bench_items (id int PRIMARY KEY, name text, email text, total numeric, created timestamptz);
    INSERT INTO bench_items SELECT g, 'item ' || g, 'user' || g || '@example.com', g * 1.25, '2026-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 1000) g;`);
  await db.query(`GRANT SELECT ON bench_items TO ${db.role}`);
  const config = `transcripts: { store: sqlite:warden.db }\nidentity: { stdio: { subject: bench, groups: [g] } }\nconnections:\n  db: { type: postgres, url: env:BENCH_DATABASE_URL, max_rows: 1000 }\npolicies: [policies/*.yaml]\n`;
  const policies = { 'p.yaml': `masking:\n  columns: [{ column: public.bench_items.email, with: partial }]\n  detectors: [email, us_ssn, credit_card, jwt, aws_access_key, private_key, password_in_url, bearer_token]\nrules:\n  - id: r\n    effect: allow\n    who: { groups: [g] }\n    tool: query_database\n    sql: { statements: [select], read: [public.bench_items] }\n` };
  const env = { PATH: process.env.PATH ?? '', BENCH_DATABASE_URL: db.url, WARDEN_LOG_LEVEL: 'error' };
  // Each build in a folder of its own (its own transcript store), the same config and policy.
  const dirs = { this: writeWardenDir(config, policies), other: writeWardenDir(config, policies) };
  const out: Record<string, { this_p50: number; other_p50: number; p50_ratio: number; this_cpu_ms: number | null; other_cpu_ms: number | null; cpu_ratio: number | null; calls_each: number }> = {};
  try {
    for (const [label, sql] of Object.entries(QUERIES)) {
      const servers = { this: await startWarden(WARDEN_BIN, dirs.this.configPath, env), other: await startWarden(otherBin, dirs.other.configPath, env) };
      const call = (k: 'this' | 'other') => async () => {
        const r = await servers[k].call(sql);
        if (r.isError) throw new Error(`${k} build's call failed: ${JSON.stringify(r.content).slice(0, 300)}`);
        return r;
      };
      for (const k of ['this', 'other'] as const) await timeCalls(100, call(k)); // warm up
      const ms = { this: [] as number[], other: [] as number[] };
      const cpu = { this: 0, other: 0 };
      for (let r = 0; r < rounds; r++) {
        // The order swapped every round: neither build always runs right after the other.
        for (const k of r % 2 === 0 ? (['this', 'other'] as const) : (['other', 'this'] as const)) {
          const c0 = cpuSeconds(servers[k].pid);
          ms[k].push(...(await timeCalls(block, call(k))));
          const c1 = cpuSeconds(servers[k].pid);
          if (c0 !== null && c1 !== null) cpu[k] += c1 - c0;
        }
      }
      await servers.this.close();
      await servers.other.close();
      const p50 = (v: number[]) => round(percentile(v, 0.5));
      const n = rounds * block;
      const hasCpu = cpuSeconds(process.pid) !== null;
      const perCall = (s: number) => (hasCpu ? round((s * 1000) / n) : null);
      const thisCpu = perCall(cpu.this);
      const otherCpu = perCall(cpu.other);
      out[label] = {
        this_p50: p50(ms.this),
        other_p50: p50(ms.other),
        p50_ratio: round(p50(ms.this) / p50(ms.other)),
        this_cpu_ms: thisCpu,
        other_cpu_ms: otherCpu,
        cpu_ratio: thisCpu !== null && otherCpu ? round(thisCpu / otherCpu) : null,
        calls_each: n,
      };
    }
  } finally {
    dirs.this.cleanup();
    dirs.other.cleanup();
    await db.drop();
  }
  return { this: REPO_ROOT, other: resolve(opts.against), rounds, block, results: out };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const against = arg('--against');
  if (!against) {
    process.stderr.write('usage: ab-compare.js --against DIR [--rounds N] [--block N] [--json]\n');
    process.exit(2);
  }
  const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));
  const r = await runAb({ against, rounds: num(arg('--rounds')), block: num(arg('--block')) });
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  else {
    console.log(`this build (${r.this}) against ${r.other}: ${r.rounds} rounds of ${r.block} calls each, interleaved`);
    for (const [label, x] of Object.entries(r.results)) {
      console.log(`  ${label}: p50 ${x.this_p50} / ${x.other_p50} ms = ${x.p50_ratio}; CPU per call ${x.this_cpu_ms ?? '?'} / ${x.other_cpu_ms ?? '?'} ms = ${x.cpu_ratio ?? '?'}`);
    }
  }
  process.exit(0);
}
