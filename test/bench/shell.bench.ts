/**
 * Shell benchmark: parse + `shell:` condition (+ canonical rebuild) for a ~100-character
 * command line. Target: p50 < 0.3 ms.
 *
 *   node dist/test/bench/shell.bench.js [--json]
 */
import { performance } from 'node:perf_hooks';
import { canonicalCommandLine, initShellParser, parseShell, shellCondition } from '../../tools/shared/shell/index.js';

const LINE = "grep -i 'connection refused' /var/log/app/app.log | grep -v healthcheck | tail -n 100 | wc -l";
const WARMUP = 2_000;
const RUNS = 20_000;

await initShellParser();
const LOG = ['/var/log/app'];
const rule = shellCondition.compile(
  { pipelines: true, programs: { grep: { paths: LOG, deny_flags: ['-f', '--file'] }, tail: { paths: LOG }, wc: { paths: LOG } } },
  { id: 'bench', effect: 'allow' },
);
const call = { tool: 'ssh_run', connection: 'web-1', args: {} };

function once(): void {
  const facts = parseShell(LINE);
  if (!rule(facts, call).matched) throw new Error('bench line must be allowed');
  canonicalCommandLine(facts);
}

for (let i = 0; i < WARMUP; i++) once();
const samples = new Float64Array(RUNS);
for (let i = 0; i < RUNS; i++) {
  const t = performance.now();
  once();
  samples[i] = performance.now() - t;
}
samples.sort();
const pct = (p: number): number => samples[Math.min(RUNS - 1, Math.floor(RUNS * p))] ?? NaN;
const result = { chars: LINE.length, runs: RUNS, p50_ms: pct(0.5), p90_ms: pct(0.9), p99_ms: pct(0.99), target_p50_ms: 0.3 };
if (process.argv.includes('--json')) console.log(JSON.stringify(result));
else console.log(`shell parse+condition+rebuild, ${result.chars} chars: p50 ${result.p50_ms.toFixed(4)} ms, p90 ${result.p90_ms.toFixed(4)} ms, p99 ${result.p99_ms.toFixed(4)} ms (target p50 < 0.3 ms)`);
