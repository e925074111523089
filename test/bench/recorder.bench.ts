/**
 * Transcript write throughput, sequential, one call = intent + outcome (two durable transactions).
 * Run: npx tsc -p tsconfig.json && node dist/test/bench/recorder.bench.js [calls]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';

async function bench(sync: 'FULL' | 'NORMAL', calls: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-'));
  try {
    const store = openSqliteStore(join(dir, 'w.db'), { synchronous: sync });
    await store.openSession({
      id: 's', principal: { subject: 'bench', groups: [], authMethod: 'stdio' }, client: {}, transport: 'stdio',
      startedAt: new Date().toISOString(),
    });
    const lat: number[] = [];
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) {
      const a = process.hrtime.bigint();
      const now = new Date().toISOString();
      await store.recordIntent({
        id: `c${i}`, sessionId: 's', tool: 'query_database', connection: 'analytics',
        args: { sql: 'SELECT id, email FROM users WHERE id = 42' }, factsSummary: 'SELECT users(id, email)',
        facts: { tables: ['users'] }, decision: 'allow', ruleIds: ['r1'], policyVersion: 'v1', startedAt: now,
      });
      await store.recordOutcome(`c${i}`, {
        status: 'ok', errorCode: null, result: { rows: Array.from({ length: 19 }, (_, j) => [j, '***']) },
        masking: { email: 19 }, durationMs: 0.5, endedAt: now,
      });
      lat.push(Number(process.hrtime.bigint() - a) / 1e6);
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    lat.sort((x, y) => x - y);
    const p = (q: number): string => (lat[Math.floor(q * (lat.length - 1))] ?? 0).toFixed(3);
    const v0 = process.hrtime.bigint();
    const v = await store.verify();
    const vms = Number(process.hrtime.bigint() - v0) / 1e6;
    console.log(
      `synchronous=${sync}: ${calls} calls, ${((calls * 2) / secs).toFixed(0)} records/s, ` +
        `per call (2 writes) p50 ${p(0.5)} ms p99 ${p(0.99)} ms; verify ${v.records} records in ${vms.toFixed(0)} ms (ok=${v.ok})`,
    );
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const calls = Number(process.argv[2] ?? 2000);
await bench('FULL', calls);
await bench('NORMAL', calls);
