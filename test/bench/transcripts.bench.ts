/**
 * Transcripts at scale: seed 1,000,000 calls (100,000 sessions x 10 calls, in chunks through the
 * real store code, so the chain and the indexes are the real ones), then time what
 * reviewers do: newest page, filter by principal, open a session, verify the whole chain.
 * Targets: < 50 ms, < 50 ms, < 50 ms, < 10 s. Run: node dist/test/bench/transcripts.bench.js [calls]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TEXT_INDEX_BATCH, TEXT_INDEX_DELAY_MS } from '../../src/recorder/sqlite-text-index.js';
import { openSqliteStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';

/** One figure of the benchmark. */
export interface BenchFigure {
  name: string;
  ms: number;
  targetMs: number;
}

function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  return fn().then((v) => [performance.now() - t0, v]);
}

/**
 * Seed `calls` calls through the real write path in chunks: opens in one transaction, the chunk's
 * intents and outcomes through the store's group commit, then the closes. Why exported: profiling
 * scripts seed a file once and time verify on it repeatedly.
 */
export async function seedTranscripts(store: SqliteTranscriptStore, calls: number, perSession = 10): Promise<void> {
  const sessions = Math.ceil(calls / perSession);
  const base = Date.UTC(2026, 0, 1);
  // A large page cache while seeding only; the measurements run with the default cache.
  const defaultCache = store.db.pragma('cache_size', { simple: true }) as number;
  store.db.pragma('cache_size = -262144');
  const CHUNK = 2000;
  let c = 0;
  for (let from = 0; from < sessions; from += CHUNK) {
    const to = Math.min(sessions, from + CHUNK);
    const at = (s: number, ms: number) => new Date(base + s * 60_000 + ms).toISOString();
    // Every write is awaited: depending on the store version a write commits at once or is queued.
    const opens: Promise<void>[] = [];
    store.db.transaction(() => {
      for (let s = from; s < to; s++) {
        opens.push(store.openSession({ id: `s${s}`, principal: { subject: `agent-${s % 500}`, groups: ['agents'], authMethod: 'oidc' }, client: { name: 'bench' }, transport: 'http', startedAt: at(s, 0) }));
      }
    })();
    await Promise.all(opens);
    const writes: Promise<void>[] = [];
    for (let s = from; s < to; s++) {
      for (let k = 0; k < perSession && c < calls; k++, c++) {
        const cid = `c${c}`;
        writes.push(store.recordIntent({ id: cid, sessionId: `s${s}`, tool: k % 3 ? 'query_database' : 'ssh_run', connection: k % 2 ? 'shop' : 'web1',
          args: { sql: `SELECT id, email FROM users WHERE id = ${c}` }, factsSummary: `SELECT public.users(id, email) #${c}`, facts: null,
          decision: c % 13 ? 'allow' : 'deny', ruleIds: ['analysts-read'], policyVersion: 'v1', startedAt: at(s, k * 100 + 1) }));
        writes.push(store.recordOutcome(cid, { status: 'ok', errorCode: null, result: { rows: [[c, 'a***@example.com']] }, masking: null, durationMs: 3, endedAt: at(s, k * 100 + 5) }));
      }
    }
    await Promise.all(writes);
    const closes: Promise<void>[] = [];
    store.db.transaction(() => {
      for (let s = from; s < to; s++) closes.push(store.closeSession(`s${s}`, at(s, 59_000)));
    })();
    await Promise.all(closes);
  }
  store.db.pragma(`cache_size = ${defaultCache}`);
}

/** Seed and measure; why: the numbers, reproducible by anyone. */
export async function runTranscriptsBench(calls = 1_000_000, perSession = 10): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-'));
  const store = openSqliteStore(join(dir, 'w.db'), { synchronous: 'NORMAL' });
  try {
    const sessions = Math.ceil(calls / perSession);
    const t0 = performance.now();
    await seedTranscripts(store, calls, perSession);
    const seedMs = performance.now() - t0;
    process.stderr.write(`seeded ${calls} calls in ${sessions} sessions in ${(seedMs / 1000).toFixed(1)} s\n`);
    store.db.pragma('optimize');
    // A serving store indexes free text in the background, TEXT_INDEX_BATCH calls every
    // TEXT_INDEX_DELAY_MS; the seed outran it, so catch up once (untimed) to measure the steady state.
    const t1 = performance.now();
    await store.searchSessions({ text: 'catchup', limit: 1 });
    process.stderr.write(`free-text index caught up in ${((performance.now() - t1) / 1000).toFixed(1)} s (${TEXT_INDEX_BATCH} calls per ${TEXT_INDEX_DELAY_MS} ms in the background)\n`);
    const figures: BenchFigure[] = [];
    const [list] = await time(() => store.searchSessions({ limit: 50 }));
    figures.push({ name: 'list newest page (50 sessions)', ms: list, targetMs: 50 });
    const [byPrincipal] = await time(() => store.searchSessions({ subject: 'agent-7', limit: 50 }));
    figures.push({ name: 'filter by principal', ms: byPrincipal, targetMs: 50 });
    const [byTool] = await time(() => store.searchSessions({ tool: 'ssh_run', decision: 'deny', limit: 50 }));
    figures.push({ name: 'filter by tool + decision', ms: byTool, targetMs: 50 });
    const [byText] = await time(() => store.searchSessions({ text: 'users 123456', limit: 50 }));
    figures.push({ name: 'free text', ms: byText, targetMs: 50 });
    const mid = `s${Math.floor(sessions / 2)}`;
    const [open] = await time(async () => [await store.sessionInfo(mid), await store.sessionCalls(mid, 0, 100)]);
    figures.push({ name: 'open a session', ms: open, targetMs: 50 });
    const [verify, v] = await time(() => store.verify());
    if (!v.ok) throw new Error(`verify failed: ${JSON.stringify(v.firstBroken)}`);
    const expected = sessions * 2 + calls * 2;
    if (v.records !== expected) throw new Error(`verify walked ${v.records} records, the seed wrote ${expected}`);
    figures.push({ name: `verify whole chain (${v.records} records)`, ms: verify, targetMs: 10_000 });
    return figures;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const positional = process.argv.slice(2).find((a) => !a.startsWith('--'));
  const n = Number(positional ?? 1_000_000);
  const figures = await runTranscriptsBench(n);
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify({ calls: n, figures }, null, 2) + '\n');
  else
    for (const f of figures) {
      process.stdout.write(`${f.name.padEnd(44)} ${f.ms.toFixed(1).padStart(9)} ms  (target < ${f.targetMs} ms) ${f.ms < f.targetMs ? 'ok' : 'SLOW'}\n`);
    }
}
