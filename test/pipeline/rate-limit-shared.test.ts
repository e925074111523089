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
import { PG_SCHEMA_VERSION } from '../../src/recorder/pg-schema.js';

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
  const stored = Number((await suite.db.query(`SELECT coalesce(sum(amount), 0) AS n FROM rate_usage WHERE kind = 'bytes' AND key = $1`, [JSON.stringify(['p', `oidc:${p.subject}`])])).rows[0]?.n);
  assert.equal(stored, bytes);
  for (const t of tickets) await t.release();
});

test("a dead replica's concurrency slots are freed: at the next admission and by the sweep", async () => {
  const [a, , sa] = await pair({ concurrent: 1 });
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
