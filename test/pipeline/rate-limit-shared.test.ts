/**
 * Rate limits shared by replicas of one PostgreSQL store: two stores (replicas) on one database,
 * each with its own shared limiter. Calls per minute, concurrency, rows and bytes per hour hold
 * across both; a dead replica's slots are freed; a counter store that cannot answer refuses the
 * call (fail closed), while a call without limits never asks it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PgRateCounters } from '../../src/recorder/pg-rate-counters.js';
import { createSharedRateLimiter } from '../../src/pipeline/rate-limit-shared.js';
import { withinRowsQuota } from '../../src/pipeline/rate-limit.js';
import { responseBytes, withinBytesQuota } from '../../src/pipeline/bytes-quota.js';
import { renderOutput } from '../../src/pipeline/render.js';
import type { CallLimits } from '../../src/policy/schema.js';
import type { Principal, ToolOutput } from '../../src/tool-api.js';
import { freePort } from '../support/system-deps.js';
import { PG_UNDO_V7 } from '../recorder/fixtures.js';
import { pgStoreSuite } from '../recorder/pg-store-suite.js';
import { LOCK_CLASS, PG_SCHEMA_VERSION } from '../../src/recorder/pg-schema.js';
import { RATE_BUCKET_MS, rateCountersMigration } from '../../src/recorder/pg-rate-sql.js';
import { openPgStore } from '../../src/recorder/index.js';
import { cuttingRelay } from '../support/cutting-relay.js';

const suite = pgStoreSuite('ratelimits');
const open = () => suite.open();

let n = 0;
/** A principal of its own per test (the counters persist in the database between tests). */
const someone = (): Principal => ({ subject: `agent-${++n}`, groups: [], claims: {}, authMethod: 'oidc' });

async function code(p: unknown): Promise<string | null> {
  try {
    await p;
    return null;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

async function pair(limits: CallLimits, now?: () => number) {
  const [a, b] = await Promise.all([open(), open()]);
  return [createSharedRateLimiter(() => limits, a.rateCounters, now), createSharedRateLimiter(() => limits, b.rateCounters, now), a, b] as const;
}

test('calls per minute are shared: limit 5, three calls on each replica, the sixth is refused on either', async () => {
  let t = 1_000_000_000;
  const [a, b] = await pair({ calls_per_minute: 5 }, () => t);
  const p = someone();
  for (let i = 0; i < 3; i++) await (await a.admit(p)).release();
  for (let i = 0; i < 2; i++) await (await b.admit(p)).release();
  const refused = await Promise.resolve(b.admit(p)).then(() => null, (e: { code: string; message: string; details: Record<string, unknown> }) => e);
  assert.equal(refused?.code, 'WARDEN_RATE_LIMITED');
  assert.match(refused!.message, /5 calls per minute reached; retry in \d+s/);
  assert.equal(refused!.details.limit, 'calls_per_minute');
  assert.equal(await code(a.admit(p)), 'WARDEN_RATE_LIMITED', 'refused on the other replica too');
  assert.equal(await code(a.admit(someone())), null, 'another principal has its own budget');
  t += 60_001;
  assert.equal(await code(b.admit(p)), null, 'the window slid');
});

test('concurrent calls are capped across replicas and a released slot is reusable', async () => {
  const [a, b] = await pair({ concurrent: 2 });
  const p = someone();
  const x = await a.admit(p);
  const y = await b.admit(p);
  assert.equal(await code(a.admit(p)), 'WARDEN_RATE_LIMITED');
  assert.equal(await code(b.admit(p)), 'WARDEN_RATE_LIMITED');
  await x.release();
  await x.release(); // exactly once: a second release frees nothing more
  const z = await b.admit(p);
  assert.equal(await code(a.admit(p)), 'WARDEN_RATE_LIMITED');
  await Promise.all([y.release(), z.release()]);
  assert.equal(Number((await suite.db.query('SELECT count(*) AS n FROM rate_inflight')).rows[0]?.n), 0);
});

test('concurrent admissions racing on two replicas never exceed the limit', async () => {
  const [a, b] = await pair({ concurrent: 3 });
  const p = someone();
  const tries = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).admit(p)));
  const ok = tries.filter((r) => r.status === 'fulfilled');
  assert.equal(ok.length, 3);
  for (const r of ok) await r.value.release();
});

test('rule limits are shared per principal and rule, on top of the principal limits', async () => {
  const [a, b] = await pair({});
  const p = someone();
  const rule = { id: 'analysts-read', limits: { calls_per_minute: 2 } as CallLimits };
  for (const l of [a, b]) {
    const t = await l.admit(p);
    await t.admitRules([rule, { id: 'no-limits' }]);
    await t.release();
  }
  const t = await a.admit(p);
  assert.equal(await code(t.admitRules([rule])), 'WARDEN_RATE_LIMITED');
  await t.admitRules([{ id: 'other', limits: { calls_per_minute: 1 } }]);
  await t.release();
});

test('rows per hour are shared and a table is cut to what the hour has left on either replica', async () => {
  const [a, b] = await pair({ rows_per_hour: 100 });
  const p = someone();
  const table = (rows: number): ToolOutput => ({ kind: 'table', columns: [{ name: 'n' }], rows: Array.from({ length: rows }, (_, i) => [i]), rowCount: rows, truncated: false });
  const ta = await a.admit(p);
  const first = await withinRowsQuota(table(60), ta);
  assert.equal(first.kind === 'table' && first.rows.length, 60);
  await ta.release();
  const tb = await b.admit(p);
  const cut = await withinRowsQuota(table(70), tb);
  assert.equal(cut.kind === 'table' && cut.rows.length, 40);
  assert.match(cut.kind === 'table' ? (cut.notes ?? []).join() : '', /cut to 40 of 70 rows: the rows-per-hour quota is used up/);
  await tb.release();
  const refused = await Promise.resolve(a.admit(p)).then(() => null, (e: { details: Record<string, unknown> }) => e);
  assert.equal(refused?.details.limit, 'rows_per_hour');
});

test('bytes are reserved in the database: concurrent renders on two replicas send no more than the quota', async () => {
  const [a, b] = await pair({ bytes_per_hour: 1000 });
  const p = someone();
  const render = (o: ToolOutput) => renderOutput(o, {});
  const big: ToolOutput = { kind: 'text', streams: { stdout: 'x'.repeat(400) }, exitCode: 0, truncated: false };
  const tickets = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).admit(p)));
  const sent = await Promise.allSettled(tickets.map((t) => withinBytesQuota(big, render, t)));
  const bytes = sent.reduce((n, r) => n + (r.status === 'fulfilled' ? responseBytes(r.value.response) : 0), 0);
  assert.ok(bytes <= 1000, `${bytes} bytes sent under a 1000-byte quota`);
  assert.ok(sent.some((r) => r.status === 'fulfilled' && /bytes-per-hour quota/.test(r.value.response.content[0]!.text)), 'one was cut, with a note');
  // What was reserved and not sent was given back: the stored total is what was sent.
  const stored = Number((await suite.db.query(`SELECT coalesce(sum(amount), 0) AS n FROM rate_buckets WHERE kind = 'bytes' AND key = $1`, [JSON.stringify(['p', `oidc:${p.subject}`])])).rows[0]?.n);
  assert.equal(stored, bytes);
  for (const t of tickets) await t.release();
});

test("a dead replica's concurrency slots are freed: at the next admission and by the sweep", async () => {
  // (No grace here: the grace before a free lock counts as dead has a test of its own.)
  const sa = await suite.open({ livenessGraceMs: 0 });
  const a = createSharedRateLimiter(() => ({ concurrent: 1 }), sa.rateCounters);
  const dead = await open();
  const p = someone();
  const q = someone();
  const onDead = createSharedRateLimiter(() => ({ concurrent: 1 }), dead.rateCounters);
  await onDead.admit(p); // never released: the replica dies mid-call
  await onDead.admit(q);
  assert.equal(await code(a.admit(p)), 'WARDEN_RATE_LIMITED', 'held while its replica lives');
  await dead.close(); // its liveness lock goes, as when the process dies
  const t = await a.admit(p);
  await t.release();
  assert.equal(Number((await suite.db.query(`SELECT count(*) AS n FROM rate_inflight`)).rows[0]?.n), 0, 'all of its slots went');
  // The sweep does it without an admission.
  const dead2 = await open();
  await createSharedRateLimiter(() => ({ concurrent: 1 }), dead2.rateCounters).admit(q);
  await dead2.close();
  assert.equal(await sa.rateCounters.sweep(), 1);
});

test('fail closed: a counter store that cannot answer refuses the call; a call without limits never asks', async () => {
  const pool = new pg.Pool({ connectionString: `postgres://nobody@127.0.0.1:${await freePort()}/none`, connectionTimeoutMillis: 2000 });
  pool.on('error', () => undefined);
  try {
    const counters = new PgRateCounters((sql, p) => pool.query(sql, p), 1);
    const limited = createSharedRateLimiter(() => ({ calls_per_minute: 10 }), counters);
    const e = await Promise.resolve(limited.admit(someone())).then(() => null, (err: { code: string; message: string }) => err);
    assert.equal(e?.code, 'WARDEN_TRANSCRIPT_UNAVAILABLE');
    assert.match(e!.message, /rate limits cannot be checked: .*database unreachable/);
    const free = createSharedRateLimiter(() => ({}), counters);
    const t = free.admit(someone());
    assert.equal(t instanceof Promise, false, 'no round trip without limits');
    const ticket = t as Exclude<typeof t, Promise<unknown>>;
    assert.equal(ticket.admitRules([{ id: 'x' }]), undefined);
    assert.equal(ticket.takeRows(5), 5);
    assert.equal(ticket.takeBytes(9), 9);
    assert.equal(ticket.release(), undefined);
    const rules = await free.admit(someone());
    assert.equal(await code(rules.admitRules([{ id: 'r', limits: { concurrent: 1 } }])), 'WARDEN_TRANSCRIPT_UNAVAILABLE');
  } finally {
    await pool.end();
  }
});

test('the v7 migration adds the counters to an older database, and counting works after it', async () => {
  const s = await open();
  await s.close();
  await suite.db.query(`${PG_UNDO_V7} DELETE FROM schema_version WHERE version >= 7`);
  const again = await open();
  assert.equal(Number((await suite.db.query('SELECT MAX(version) AS v FROM schema_version')).rows[0]?.v), PG_SCHEMA_VERSION);
  const l = createSharedRateLimiter(() => ({ calls_per_minute: 1 }), again.rateCounters);
  const p = someone();
  await (await l.admit(p)).release();
  assert.equal(await code(l.admit(p)), 'WARDEN_RATE_LIMITED');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HOUR = 3_600_000;
const pKey = (p: Principal) => JSON.stringify(['p', `oidc:${p.subject}`]);
const slots = async (p: Principal) => Number((await suite.db.query('SELECT count(*) AS n FROM rate_inflight WHERE key = $1', [pKey(p)])).rows[0]?.n);

/** A replica whose every connection to the database goes through a relay that can cut them all. */
async function cutReplica(limits: CallLimits) {
  const relay = await cuttingRelay(Number(new URL(suite.db.url).port));
  const store = await openPgStore(relay.through(suite.db.url), { recoverEveryMs: 60_000 });
  const limiter = createSharedRateLimiter(() => limits, store.rateCounters);
  /** Wait until its liveness lock is back: an admission that takes a slot is no longer refused for it. */
  const relocked = async () => {
    for (let i = 0; i < 100; i++) {
      const t = await Promise.resolve(limiter.admit(someone())).catch(() => null);
      if (t) return t.release();
      await sleep(100);
    }
    assert.fail('the liveness lock never came back');
  };
  return { relay, store, limiter, relocked, async close() { await store.close(); relay.close(); } };
}

test("a replica reconnecting its liveness connection keeps its slots (no other replica takes them for dead) and takes no new slot until its lock is back", async () => {
  const a = await cutReplica({ concurrent: 1 });
  try {
    const b = createSharedRateLimiter(() => ({ concurrent: 1 }), (await open()).rateCounters);
    const p = someone();
    const running = await a.limiter.admit(p);
    assert.ok(a.relay.cutNow({ reset: true }) >= 1, 'connections cut');
    await sleep(200); // its liveness lock is free now; it reconnects after a second
    const e = await Promise.resolve(a.limiter.admit(someone())).then(() => null, (err: { code: string; message: string }) => err);
    assert.equal(e?.code, 'WARDEN_TRANSCRIPT_UNAVAILABLE', 'fail closed while the lock is not held');
    assert.match(e!.message, /reconnecting its liveness connection/);
    for (let i = 0; i < 3; i++) {
      assert.equal(await code(b.admit(p)), 'WARDEN_RATE_LIMITED', 'the running call keeps its slot while its replica reconnects');
      await sleep(150);
    }
    await a.relocked();
    assert.equal(await code(b.admit(p)), 'WARDEN_RATE_LIMITED', 'and after it reconnected');
    assert.equal(await slots(p), 1);
    await running.release();
    const t = await b.admit(p);
    await t.release();
  } finally {
    await a.close();
  }
});

test('a replica whose lock stayed free past the grace claims its running slots again once the lock is back', async () => {
  const a = await cutReplica({ concurrent: 2 });
  try {
    // An impatient observer: no grace, so it takes the reconnecting replica for dead at once.
    const b = createSharedRateLimiter(() => ({ concurrent: 2 }), (await suite.open({ livenessGraceMs: 0 })).rateCounters);
    const p = someone();
    const running = await a.limiter.admit(p);
    a.relay.cutNow({ reset: true });
    await sleep(200);
    const b1 = await b.admit(p); // frees the slot of A's running call
    const b2 = await b.admit(p);
    await a.relocked();
    assert.equal(await slots(p), 3, "A's running call holds its slot again");
    await b1.release();
    assert.equal(await code(b.admit(p)), 'WARDEN_RATE_LIMITED', 'so the limit counts it: two running');
    await running.release();
    const t = await b.admit(p);
    await Promise.all([t.release(), b2.release()]);
    assert.equal(await slots(p), 0);
  } finally {
    await a.close();
  }
});

test("a free liveness lock is taken for dead only after the grace (on the observer's side)", async () => {
  const observer = createSharedRateLimiter(() => ({ concurrent: 1 }), (await suite.open({ livenessGraceMs: 1500 })).rateCounters);
  const dead = await open();
  const p = someone();
  await createSharedRateLimiter(() => ({ concurrent: 1 }), dead.rateCounters).admit(p);
  await dead.close();
  assert.equal(await code(observer.admit(p)), 'WARDEN_RATE_LIMITED', 'first seen free: not yet');
  await sleep(1600);
  const t = await observer.admit(p);
  await t.release();
});

test('rows and bytes are summed from 10 s buckets: many charges in a bucket are one row, and a charge counts for at least the hour', async () => {
  const t0 = 100_000_000 * RATE_BUCKET_MS; // a bucket's start
  let t = t0;
  const [a, b] = await pair({ rows_per_hour: 500, bytes_per_hour: 10_000 }, () => t);
  const p = someone();
  for (let i = 0; i < 100; i++) {
    t = t0 + i * 90; // all within the first 10 s
    const k = await (i % 2 ? a : b).admit(p);
    assert.equal(await k.takeRows(5), 5);
    assert.equal(await k.takeBytes(100), 100);
    await k.returnBytes(20);
    await k.release();
  }
  const rows = await suite.db.query('SELECT kind, bucket, amount FROM rate_buckets WHERE key = $1 ORDER BY kind', [pKey(p)]);
  assert.deepEqual(rows.rows.map((r) => [r.kind, Number(r.bucket), Number(r.amount)]), [['bytes', t0 / RATE_BUCKET_MS, 8000], ['rows', t0 / RATE_BUCKET_MS, 500]]);
  t = t0 + HOUR - 1;
  assert.equal(await code(a.admit(p)), 'WARDEN_RATE_LIMITED');
  t = t0 + HOUR + RATE_BUCKET_MS - 1; // the bucket's end is not yet an hour ago: still counted
  assert.equal(await code(b.admit(p)), 'WARDEN_RATE_LIMITED');
  t = t0 + HOUR + RATE_BUCKET_MS; // now it is: the window slid past the whole bucket
  const k = await a.admit(p);
  assert.equal(await k.takeRows(600), 500);
  await k.release();
  assert.equal(Number((await suite.db.query('SELECT count(*) AS n FROM rate_buckets WHERE key = $1 AND bucket = $2', [pKey(p), t0 / RATE_BUCKET_MS])).rows[0]?.n), 0, 'pruned at the admission');
});

test('the v8 migration sums the v7 rows and bytes charges into buckets: the hour already used still counts', async () => {
  const s = await open();
  await s.close();
  await suite.db.query(`${PG_UNDO_V7} DELETE FROM schema_version WHERE version >= 7`);
  // The v7 shape as the store's role built it, with a charged hour in it.
  const c = new pg.Client({ connectionString: suite.db.url });
  await c.connect();
  const p = someone();
  try {
    await c.query(rateCountersMigration(LOCK_CLASS));
    await c.query(`INSERT INTO schema_version (version, applied_at) VALUES (7, 'then')`);
    const now = Number((await c.query('SELECT warden_rate_now() AS t')).rows[0]?.t);
    await c.query(
      `INSERT INTO rate_usage (key, kind, at, amount) VALUES ($1, 'rows', $2, 300), ($1, 'rows', $2 + 1, -50), ($1, 'bytes', $2, 900), ($1, 'rows', $3, 1000), ($1, 'calls', $4, 1)`,
      [pKey(p), now - 60_000, now - 2 * HOUR, now],
    );
  } finally {
    await c.end();
  }
  const again = await open();
  assert.equal(Number((await suite.db.query('SELECT MAX(version) AS v FROM schema_version')).rows[0]?.v), PG_SCHEMA_VERSION);
  assert.equal(PG_SCHEMA_VERSION, 14);
  const l = createSharedRateLimiter(() => ({ rows_per_hour: 260, bytes_per_hour: 1000 }), again.rateCounters);
  const k = await l.admit(p);
  assert.equal(await k.takeRows(100), 10, '250 rows of the hour were used before the migration');
  assert.equal(await k.bytesLeft(), 100);
  await k.release();
  assert.deepEqual((await suite.db.query('SELECT DISTINCT kind FROM rate_usage')).rows.map((r) => r.kind), ['calls']);
});
