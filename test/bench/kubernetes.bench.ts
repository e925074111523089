/**
 * kubectl_exec round trip through Warden (`warden serve`, SDK v2 client over stdio, full
 * pipeline with a durable transcript) versus `kubectl exec` against the same test API server,
 * side by side in one run, as a ratio of p50 latencies.
 * Run: npx tsc -p tsconfig.json && node dist/test/bench/kubernetes.bench.js [--json] [--calls N]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { requireExecutable } from '../support/system-deps.js';
import { connectWarden } from '../support/warden-process.js';
import { TOKENS, setupWardenKube } from '../support/kube-apiserver/warden-setup.js';
import { KubeConnector } from '../../tools/kubernetes/connector.js';
import { timeCalls } from './timing.js';

const run = promisify(execFile);

/** Latency summary of one path, in ms. */
export interface PathStats {
  calls: number;
  p50_ms: number;
  p90_ms: number;
  mean_ms: number;
}

/** The benchmark's answer. */
export interface KubernetesBenchResult {
  command: string[];
  warden_kubectl_exec: PathStats;
  kubectl_exec: PathStats;
  /** Warden p50 / kubectl p50 (below 1: Warden is faster than spawning kubectl). */
  ratio_p50: number;
  /** The same exec from Node with Warden's connector alone (no MCP, policy, transcript). */
  raw_connector_exec: PathStats;
  /** Warden p50 / raw connector p50: the governance overhead. */
  ratio_vs_raw_p50: number;
}

function stats(lat: number[]): PathStats {
  const s = [...lat].sort((a, b) => a - b);
  const q = (x: number) => Math.round((s[Math.floor(x * (s.length - 1))] ?? 0) * 1000) / 1000;
  return { calls: s.length, p50_ms: q(0.5), p90_ms: q(0.9), mean_ms: Math.round((s.reduce((a, b) => a + b, 0) / s.length) * 1000) / 1000 };
}

const time = timeCalls;

/** Run the comparison (kubectl is required: the ratio is the point). */
export async function runKubernetesBench(o: { calls?: number } = {}): Promise<KubernetesBenchResult> {
  const calls = o.calls ?? 30;
  const kubectl = requireExecutable('kubectl', 'kubernetes-client');
  const { server, dir } = await setupWardenKube();
  const tmp = mkdtempSync(join(tmpdir(), 'kube-bench-'));
  const w = await connectWarden(dir.configPath);
  try {
    writeFileSync(join(tmp, 'config'), server.kubeconfig({ token: TOKENS.good }));
    const command = ['ls', '/app'];
    const viaWarden = async () => {
      const r = await w.call('kubectl_exec', { connection: 'prod', namespace: 'shop', pod: 'web-1', container: 'app', command });
      if (r.isError || !r.text.includes('index.html')) throw new Error(`warden call failed: ${r.text}`);
    };
    const viaKubectl = async () => {
      const r = await run(kubectl, ['--kubeconfig', join(tmp, 'config'), '--cache-dir', join(tmp, 'cache'), 'exec', '-n', 'shop', 'web-1', '-c', 'app', '--', ...command], { env: { PATH: process.env.PATH ?? '', HOME: tmp } });
      if (!r.stdout.includes('index.html')) throw new Error('kubectl exec failed');
    };
    // Warm both paths (discovery cache, TLS, JIT), then interleave rounds so drift hits both.
    for (let i = 0; i < 3; i++) {
      await viaWarden();
      await viaKubectl();
    }
    const a: number[] = [];
    const b: number[] = [];
    for (let round = 0; round < 3; round++) {
      a.push(...(await time(Math.ceil(calls / 3), viaWarden)));
      b.push(...(await time(Math.ceil(calls / 3), viaKubectl)));
    }
    // The exec alone, ungoverned, from this process with the same connector code.
    const raw = new KubeConnector(
      { name: 'raw', type: 'kubernetes', kubeconfig: 'file:config', request_timeout: 10_000, exec_timeout: 10_000, max_bytes: 1 << 20, exec_protocols: ['v5.channel.k8s.io', 'v4.channel.k8s.io'] },
      { resolve: async () => readFileSync(join(tmp, 'config'), 'utf8') },
    );
    const viaRaw = async () => {
      const r = await raw.exec('shop', 'web-1', 'app', command, { timeoutMs: 10_000, maxBytes: 1 << 20 });
      if (!r.stdout.includes('index.html')) throw new Error('raw exec failed');
    };
    await viaRaw();
    const c = await time(calls, viaRaw);
    await raw.close();
    const wa = stats(a);
    const ka = stats(b);
    const rc = stats(c);
    return {
      command,
      warden_kubectl_exec: wa,
      kubectl_exec: ka,
      ratio_p50: Math.round((wa.p50_ms / ka.p50_ms) * 1000) / 1000,
      raw_connector_exec: rc,
      ratio_vs_raw_p50: Math.round((wa.p50_ms / rc.p50_ms) * 1000) / 1000,
    };
  } finally {
    await w.close();
    await server.stop();
    dir.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const json = process.argv.includes('--json');
  const i = process.argv.indexOf('--calls');
  const r = await runKubernetesBench(i > 0 ? { calls: Number(process.argv[i + 1]) } : {});
  if (json) console.log(JSON.stringify(r, null, 2));
  else {
    console.log(`kubectl_exec ${r.command.join(' ')}: Warden p50 ${r.warden_kubectl_exec.p50_ms} ms (p90 ${r.warden_kubectl_exec.p90_ms}), ` +
      `kubectl exec p50 ${r.kubectl_exec.p50_ms} ms (p90 ${r.kubectl_exec.p90_ms}); ratio Warden/kubectl = ${r.ratio_p50}; ` +
      `raw connector exec p50 ${r.raw_connector_exec.p50_ms} ms (Warden/raw = ${r.ratio_vs_raw_p50})`);
  }
}
