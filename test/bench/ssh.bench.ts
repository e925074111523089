/**
 * SSH benchmark, in one run against one real sshd (test/support/sshd.ts):
 *  1. parse + `shell:` policy (+ canonical rebuild) for a ~100-character command line, p50
 *     (target < 0.3 ms);
 *  2. `ssh_run` round trip through the whole pipeline (parse, decide, record intent, execute over
 *     the reused connection, mask, record outcome) versus the plain `ssh` client running the same
 *     command against the same sshd (a new connection per run, as a script would), as a ratio;
 *     the `ssh` client with a ControlMaster socket (its own reuse) is reported too.
 *
 *   node dist/test/bench/ssh.bench.js [--json]
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { startRuntime } from '../../src/server/runtime.js';
import { shellCondition } from '../../tools/shared/shell/index.js';
import { families } from '../../tools/index.js';
import { percentile, timeCalls } from './timing.js';
import { parseSshCommand } from '../../tools/ssh/ssh-run.js';
import { startSshd } from '../support/sshd.js';
import { writeWardenDir } from '../support/warden-process.js';

const LINE = "grep -i 'connection refused' /var/log/app/app.log | grep -v health | tail -n 500 | head -n 99 | wc -l";
const REMOTE = 'uptime';

const p = percentile;

async function parsePolicy(runs: number): Promise<{ chars: number; runs: number; p50_ms: number; p99_ms: number }> {
  const LOG = ['/var/log/app'];
  const rule = shellCondition.compile(
    { pipelines: true, programs: { grep: { paths: LOG, deny_flags: ['-f', '--file'] }, tail: { paths: LOG }, head: { paths: LOG }, wc: { paths: LOG } } },
    { id: 'bench', effect: 'allow' },
  );
  const call = { tool: 'ssh_run', connection: 'web-1', args: {} };
  const once = async () => {
    const facts = await parseSshCommand(LINE);
    if (!rule(facts, call).matched || facts.commandLine === null) throw new Error('bench line must be allowed');
  };
  for (let i = 0; i < 2000; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await once();
    samples.push(performance.now() - t);
  }
  return { chars: LINE.length, runs, p50_ms: p(samples, 0.5), p99_ms: p(samples, 0.99) };
}

/** Run the whole benchmark; returns the figures (also used by scripts). */
export async function runSshBench(opts: { roundTrips?: number; parseRuns?: number } = {}): Promise<Record<string, unknown>> {
  const n = opts.roundTrips ?? 40;
  const parse = await parsePolicy(opts.parseRuns ?? 20_000);
  const sshd = await startSshd();
  const dir = writeWardenDir(
    [
      'transcripts: { store: sqlite:warden.db }',
      'identity: { stdio: { subject: bench, groups: [sre] } }',
      'connections:',
      '  web-1:',
      '    type: ssh',
      `    host: ${sshd.host}`,
      `    port: ${sshd.port}`,
      `    user: ${sshd.user}`,
      `    private_key: file:${sshd.clientKeyPath}`,
      `    host_key: "${sshd.hostKeyLine}"`,
      'policies: [policies/*.yaml]',
      '',
    ].join('\n'),
    { 'p.yaml': 'rules:\n  - { id: up, effect: allow, tool: ssh_run, on: [web-1], shell: { programs: { uptime: {} } } }\n' },
  );
  const rt = await startRuntime(dir.configPath, families);
  try {
    const principal = { subject: 'bench', groups: ['sre'], claims: {}, authMethod: 'stdio' as const };
    const sessionId = randomUUID();
    await rt.store.openSession({ id: sessionId, principal: { subject: 'bench', groups: ['sre'], authMethod: 'stdio' }, client: { name: 'bench' }, transport: 'stdio', startedAt: new Date().toISOString() } as never);
    const signal = new AbortController().signal;
    const wardenOnce = async () => {
      const r = await rt.pipeline.handle({ sessionId, principal, tool: 'ssh_run', args: { connection: 'web-1', command: REMOTE }, signal });
      if (r.isError) throw new Error(`ssh_run failed: ${r.content[0]?.text}`);
    };
    const known = join(sshd.dir, 'known_hosts');
    writeFileSync(known, `[${sshd.host}]:${sshd.port} ${sshd.hostKeyLine}\n`);
    const base = ['-i', sshd.clientKeyPath, '-p', String(sshd.port), '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${known}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'LogLevel=ERROR'];
    const mux = ['-o', 'ControlMaster=auto', '-o', `ControlPath=${join(sshd.dir, 'cm-%C')}`, '-o', 'ControlPersist=60'];
    const sshOnce = (extra: string[]) => () => {
      const r = spawnSync('ssh', [...base, ...extra, `${sshd.user}@${sshd.host}`, REMOTE], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ssh failed: ${r.stderr}`);
    };
    const time = async (fn: () => unknown): Promise<number[]> => {
      await fn(); // warm up (for ssh_run: opens the reused connection)
      return timeCalls(n, fn);
    };
    const warden = await time(wardenOnce);
    const plain = await time(sshOnce([]));
    const muxed = await time(sshOnce(mux));
    spawnSync('ssh', [...base, ...mux, '-O', 'exit', `${sshd.user}@${sshd.host}`], { stdio: 'ignore' });
    const w50 = p(warden, 0.5);
    const s50 = p(plain, 0.5);
    const m50 = p(muxed, 0.5);
    return {
      parse_policy: { ...parse, target_p50_ms: 0.3 },
      round_trip: {
        command: REMOTE,
        runs: n,
        ssh_run_p50_ms: w50,
        ssh_client_p50_ms: s50,
        ssh_client_controlmaster_p50_ms: m50,
        ratio_ssh_run_over_ssh_client: w50 / s50,
        ratio_ssh_run_over_ssh_controlmaster: w50 / m50,
      },
    };
  } finally {
    await rt.close();
    await sshd.stop();
    dir.cleanup();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await runSshBench();
  if (process.argv.includes('--json')) console.log(JSON.stringify(r));
  else {
    const pp = r.parse_policy as { chars: number; p50_ms: number; p99_ms: number };
    const rt = r.round_trip as Record<string, number>;
    console.log(`ssh parse+policy+rebuild, ${pp.chars} chars: p50 ${pp.p50_ms.toFixed(4)} ms, p99 ${pp.p99_ms.toFixed(4)} ms (target p50 < 0.3 ms)`);
    console.log(
      `ssh_run round trip (reused connection, full pipeline) p50 ${rt.ssh_run_p50_ms!.toFixed(2)} ms vs ssh client p50 ${rt.ssh_client_p50_ms!.toFixed(2)} ms ` +
        `-> ratio ${rt.ratio_ssh_run_over_ssh_client!.toFixed(3)}; ssh with ControlMaster p50 ${rt.ssh_client_controlmaster_p50_ms!.toFixed(2)} ms -> ratio ${rt.ratio_ssh_run_over_ssh_controlmaster!.toFixed(3)}`,
    );
  }
}
