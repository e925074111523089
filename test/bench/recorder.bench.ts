/**
 * Durable transcript write throughput (synchronous=FULL): one call = intent + outcome.
 * Side by side in one run: the default store (group commit on the serving thread: concurrent
 * calls share one fsync), sequential and with 16 concurrent callers, and the writer-thread store.
 * Run: node dist/test/bench/recorder.bench.js [--json] [--calls N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSqliteStore, openWorkerBackedStore } from '../../src/recorder/index.js';
import type { TranscriptStore } from '../../src/recorder/types.js';

async function oneCall(store: TranscriptStore, id: string): Promise<void> {
  const now = new Date().toISOString();
  await store.recordIntent({
    id, sessionId: 's', tool: 'query_database', connection: 'analytics',
    args: { sql: 'SELECT id, email FROM users WHERE id = 42' }, factsSummary: 'select; reads public.users',
    facts: { tables: ['public.users'] }, decision: 'allow', ruleIds: ['r1'], policyVersion: 'v1', startedAt: now,
  });
  await store.recordOutcome(id, {
    status: 'ok', errorCode: null, result: { rows: Array.from({ length: 19 }, (_, j) => [j, 'a***@example.com']) },
    masking: { columns: ['email:partial'], detectors: {} }, durationMs: 0.5, endedAt: now,
  });
}

async function run(kind: 'inline' | 'writer-thread', concurrency: number, calls: number) {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-'));
  try {
    const path = join(dir, 'w.db');
    const store = kind === 'inline' ? openSqliteStore(path, { synchronous: 'FULL' }) : await openWorkerBackedStore(path, { synchronous: 'FULL' });
    await store.openSession({ id: 's', principal: { subject: 'bench', groups: [], authMethod: 'stdio' }, client: {}, transport: 'stdio', startedAt: new Date().toISOString() });
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < calls; i = next++) await oneCall(store, `c${i}`);
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    const v = await store.verify();
    await store.close();
    if (!v.ok || v.records !== 1 + calls * 2) throw new Error(`chain check failed: ${JSON.stringify(v)}`);
    return { store: kind, concurrency, calls, records_per_sec: Math.round((calls * 2) / secs) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Run the measurements: the default inline store, sequential and 16 callers, and the writer thread. */
export async function runRecorderBench(calls = 2000) {
  const sequential = await run('inline', 1, calls);
  const concurrent = await run('inline', 16, calls * 2);
  const thread = await run('writer-thread', 16, calls * 2);
  return { synchronous: 'FULL', sequential, concurrent_16: concurrent, writer_thread_16: thread, target_records_per_sec: 5000 };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const ci = process.argv.indexOf('--calls');
  const r = await runRecorderBench(ci > 0 ? Number(process.argv[ci + 1]) : undefined);
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  else {
    console.log(`durable (FULL) transcript writes, intent + outcome per call:`);
    console.log(`  sequential, inline store:        ${r.sequential.records_per_sec} records/s`);
    console.log(`  16 concurrent, inline (default): ${r.concurrent_16.records_per_sec} records/s (target >= ${r.target_records_per_sec})`);
    console.log(`  16 concurrent, writer thread:    ${r.writer_thread_16.records_per_sec} records/s`);
  }
}
