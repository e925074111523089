import type { StageName } from './stages.js';

/**
 * Stage profiling for the benchmark harness: with WARDEN_PROFILE_STAGES=1 the pipeline keeps
 * per-stage durations of successful calls and prints their p50s as one JSON line on stderr at exit.
 */
export function stageProfiler(): { add(stage: StageName, ms: number): void } | null {
  if (process.env.WARDEN_PROFILE_STAGES !== '1') return null;
  const samples = new Map<string, number[]>();
  process.once('exit', () => {
    const p50 = Object.fromEntries([...samples].map(([k, v]) => [k, Math.round([...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]! * 1000) / 1000]));
    process.stderr.write(`WARDEN_STAGE_PROFILE ${JSON.stringify({ calls: samples.get('respond')?.length ?? 0, p50_ms: p50 })}\n`);
  });
  return {
    add(stage, ms) {
      let a = samples.get(stage);
      if (!a) samples.set(stage, (a = []));
      a.push(ms);
    },
  };
}
