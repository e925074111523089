/**
 * A randomized run of each store, SQLite and PostgreSQL (seeded; WARDEN_MODEL_SEED replays
 * another): sessions, calls, approvals, retention purges and restarts with recovery, interleaved
 * as a busy server would. verify must say "intact" every few steps, and then every single tamper
 * of a verified table must be found. Why: each feature has its own tests; this one looks for what
 * breaks where they meet (it found approvals rows a purge left unverifiable).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openPgStore, openSqliteStore, type WardenStore } from '../../src/recorder/index.js';
import { createTestDatabase } from '../support/pg-cluster.js';
import { mulberry32 } from '../support/prng.js';
import { approvalRequest, tempDir } from './fixtures.js';

const TOOLS = ['query_database', 'ssh_run', 'kubectl_exec', 'list_connections'];
const CONNECTIONS = ['shop', 'web1', null];
const DECISIONS = ['allow', 'deny', 'error'] as const;

interface Model {
  open: Map<string, Set<string>>; // session -> calls without an outcome
  pending: string[]; // approval ids pending
  approved: string[];
  n: number;
  clock: number;
}

async function step(store: WardenStore, m: Model, rnd: () => number): Promise<void> {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const at = () => new Date((m.clock += 1 + Math.floor(rnd() * 90_000))).toISOString();
  const sessions = [...m.open.keys()];
  const r = rnd();
  if (r < 0.15 || sessions.length === 0) {
    const id = `s${m.n++}`;
    await store.openSession({ id, principal: { subject: pick(['ana', 'bob', 'cy']), groups: ['g'], authMethod: 'oidc' }, client: { name: 'model' }, transport: 'http', startedAt: at() });
    m.open.set(id, new Set());
  } else if (r < 0.45) {
    const sid = pick(sessions);
    const id = `c${m.n++}`;
    await store.recordIntent({
      id, sessionId: sid, tool: pick(TOOLS), connection: pick(CONNECTIONS), args: { sql: `SELECT ${m.n}` }, factsSummary: 'select', facts: { n: m.n },
      decision: pick(DECISIONS), ruleIds: ['r'], policyVersion: 'v1', startedAt: at(),
    }, { durable: rnd() < 0.5 });
    m.open.get(sid)!.add(id);
  } else if (r < 0.75) {
    const busy = sessions.filter((s) => m.open.get(s)!.size > 0);
    if (!busy.length) return;
    const sid = pick(busy);
    const id = pick([...m.open.get(sid)!]);
    await store.recordOutcome(id, { status: pick(['ok', 'error', 'denied']), errorCode: null, result: { rows: [[m.n]] }, masking: null, durationMs: 2, endedAt: at() });
    m.open.get(sid)!.delete(id);
  } else if (r < 0.85) {
    const idle = sessions.filter((s) => m.open.get(s)!.size === 0);
    if (!idle.length) return;
    const sid = pick(idle);
    await store.closeSession(sid, at());
    m.open.delete(sid);
  } else if (r < 0.92) {
    const id = `a${m.n++}`;
    const createdAt = at();
    await store.approvals.create(approvalRequest(id, createdAt, {
      canonicalCall: `{"n":${m.n}}`, approvalsRequired: 1 + Math.floor(rnd() * 2), sessionId: sessions[0] ?? null, expiresAt: new Date(m.clock + 3_600_000).toISOString(),
    }));
    m.pending.push(id);
  } else if (r < 0.96 && m.pending.length) {
    const id = pick(m.pending);
    const decision = { reviewer: `rev${m.n++}`, decision: rnd() < 0.8 ? ('approve' as const) : ('deny' as const), comment: null, auth: 'oidc', at: at() };
    const row = await store.approvals.decide(id, decision, () => undefined).catch((e: Error) => {
      // The simulated clock may have passed the request's expiry: the store refuses, as it must.
      if (!/has expired/.test(e.message)) throw e;
      return null;
    });
    if (row?.state !== 'pending') m.pending = m.pending.filter((x) => x !== id);
    if (row?.state === 'approved') m.approved.push(id);
  } else if (r < 0.97 && m.approved.length) {
    const id = m.approved.shift()!;
    await store.approvals.consume(id, `used-${id}`, at());
  } else if (r < 0.985) {
    await store.approvals.expireDue(at());
    m.pending = [];
  } else {
    // Retention: everything that ended more than a few simulated minutes ago, after the expiry
    // sweep a server runs on its own (a live approval holds the cut).
    await store.approvals.expireDue(new Date(m.clock).toISOString());
    m.pending = [];
    m.approved = [];
    await store.purge(new Date(m.clock - Math.floor(rnd() * 600_000)).toISOString(), at());
  }
}

async function verifyOk(store: WardenStore, what: string): Promise<void> {
  const v = await store.verify();
  assert.equal(v.ok, true, `${what}: ${JSON.stringify(v.firstBroken)}`);
}

/** What the run needs of a store kind: open it (again), and raw SQL on its tables for the tampers. */
interface Harness {
  name: string;
  open(): Promise<WardenStore>;
  one<T>(sql: string): Promise<T>;
  exec(sql: string): Promise<void>;
  /** Let raw SQL edit and delete records (the append-only guards step aside). */
  unguard(): Promise<void>;
  facets: boolean;
}

async function runModel(h: Harness, steps: number, t: { after: (fn: () => unknown) => void }): Promise<void> {
  const seed = Number(process.env.WARDEN_MODEL_SEED ?? 20261128);
  const rnd = mulberry32(seed);
  const tag = `${h.name}, seed ${seed}`;
  let store = await h.open();
  t.after(() => store.close().catch(() => undefined));
  const m: Model = { open: new Map(), pending: [], approved: [], n: 0, clock: Date.UTC(2026, 0, 1) };
  for (let i = 1; i <= steps; i++) {
    await step(store, m, rnd);
    if (i % 25 === 0) await verifyOk(store, `${tag}, step ${i}`);
    if (i % 150 === 0) {
      // A restart: the old instance's open calls and sessions are recovered (interrupted, closed).
      await store.close();
      store = await h.open();
      await store.markInterrupted(new Date((m.clock += 1000)).toISOString());
      m.open.clear();
      await verifyOk(store, `${tag}, after restart at step ${i}`);
    }
  }
  await verifyOk(store, `${tag}, end`);
  const counts = await h.one<Record<string, number | string>>(`SELECT (SELECT COUNT(*) FROM calls) AS calls, (SELECT COUNT(*) FROM approvals) AS approvals,
    (SELECT COUNT(*) FROM checkpoints) AS checkpoints`);
  for (const [k, v] of Object.entries(counts)) assert.ok(Number(v) > 0, `${tag}: the run exercised ${k} (${JSON.stringify(counts)})`);

  // Every tamper of a verified table is found; each is undone before the next.
  await h.unguard();
  const c = await h.one<{ id: string; tool: string; args: string; decision: string }>('SELECT id, tool, args, decision FROM calls ORDER BY random() LIMIT 1');
  const done = await h.one<{ id: string; status: string }>('SELECT id, status FROM calls WHERE outcome_seq IS NOT NULL ORDER BY random() LIMIT 1');
  const s = await h.one<{ id: string; subject: string; call_count: number }>('SELECT id, subject, call_count FROM sessions ORDER BY random() LIMIT 1');
  const a = await h.one<{ id: string; state: string; expires_at: string }>('SELECT id, state, expires_at FROM approvals ORDER BY random() LIMIT 1');
  const d = await h.one<{ approval_id: string; reviewer: string; decision: string; comment: string | null; at: string; auth: string; seq: number } | undefined>(
    'SELECT approval_id, reviewer, decision, comment, at, auth, seq FROM approval_decisions ORDER BY random() LIMIT 1',
  );
  const rec = await h.one<{ seq: number; body: string }>('SELECT seq, body FROM records ORDER BY random() LIMIT 1');
  const q = (v: string) => `'${v.replace(/'/g, "''")}'`;
  const tampers: Array<[string, string, string]> = [
    ["a call's tool", `UPDATE calls SET tool = 'shell' WHERE id = ${q(c.id)}`, `UPDATE calls SET tool = ${q(c.tool)} WHERE id = ${q(c.id)}`],
    ["a call's arguments", `UPDATE calls SET args = '{"sql":"x"}' WHERE id = ${q(c.id)}`, `UPDATE calls SET args = ${q(c.args)} WHERE id = ${q(c.id)}`],
    ["a call's decision", `UPDATE calls SET decision = ${q(c.decision === 'allow' ? 'deny' : 'allow')} WHERE id = ${q(c.id)}`, `UPDATE calls SET decision = ${q(c.decision)} WHERE id = ${q(c.id)}`],
    ["a call's status", `UPDATE calls SET status = ${q(done.status === 'ok' ? 'error' : 'ok')} WHERE id = ${q(done.id)}`, `UPDATE calls SET status = ${q(done.status)} WHERE id = ${q(done.id)}`],
    ["a session's call count", `UPDATE sessions SET call_count = call_count + 1 WHERE id = ${q(s.id)}`, `UPDATE sessions SET call_count = ${Number(s.call_count)} WHERE id = ${q(s.id)}`],
    ["an approval's expiry", `UPDATE approvals SET expires_at = '2999-01-01T00:00:00.000Z' WHERE id = ${q(a.id)}`, `UPDATE approvals SET expires_at = ${q(a.expires_at)} WHERE id = ${q(a.id)}`],
    ["a session's subject", `UPDATE sessions SET subject = 'mallory' WHERE id = ${q(s.id)}`, `UPDATE sessions SET subject = ${q(s.subject)} WHERE id = ${q(s.id)}`],
    ["an approval's state", `UPDATE approvals SET state = ${q(a.state === 'approved' ? 'denied' : 'approved')} WHERE id = ${q(a.id)}`, `UPDATE approvals SET state = ${q(a.state)} WHERE id = ${q(a.id)}`],
    ["a record's body", `UPDATE records SET body = body || ' ' WHERE seq = ${rec.seq}`, `UPDATE records SET body = ${q(rec.body)} WHERE seq = ${rec.seq}`],
  ];
  if (d) {
    tampers.push(['a reviewer decision deleted', `DELETE FROM approval_decisions WHERE approval_id = ${q(d.approval_id)} AND reviewer = ${q(d.reviewer)}`,
      `INSERT INTO approval_decisions (approval_id, reviewer, decision, comment, at, auth, seq) VALUES (${q(d.approval_id)}, ${q(d.reviewer)}, ${q(d.decision)}, ${d.comment === null ? 'NULL' : q(d.comment)}, ${q(d.at)}, ${q(d.auth)}, ${Number(d.seq)})`]);
  }
  if (h.facets) {
    const f = await h.one<{ session_id: string; tool: string; connection: string; decision: string }>('SELECT * FROM call_facets ORDER BY random() LIMIT 1');
    const where = `session_id = ${q(f.session_id)} AND tool = ${q(f.tool)} AND connection = ${q(f.connection)} AND decision = ${q(f.decision)}`;
    tampers.push(
      ['a filter facet deleted', `DELETE FROM call_facets WHERE ${where}`, `INSERT INTO call_facets (session_id, tool, connection, decision) VALUES (${q(f.session_id)}, ${q(f.tool)}, ${q(f.connection)}, ${q(f.decision)})`],
      ['a filter facet forged', `INSERT INTO call_facets (session_id, tool, connection, decision) VALUES (${q(f.session_id)}, 'forged_tool', '', 'allow')`, `DELETE FROM call_facets WHERE tool = 'forged_tool'`],
    );
  }
  for (const [what, apply, undo] of tampers) {
    await h.exec(apply);
    const v = await store.verify();
    assert.equal(v.ok, false, `${tag}: ${what} went unnoticed`);
    await h.exec(undo);
    await verifyOk(store, `${tag}, after undoing ${what}`);
  }
}

test('SQLite, randomized sessions, calls, approvals, purges and restarts: verify stays intact, and every tamper is found', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const raw = new Database(path);
  t.after(() => raw.close());
  await runModel({
    name: 'SQLite',
    open: async () => openSqliteStore(path),
    one: async <T,>(sql: string) => raw.prepare(sql).get() as T,
    exec: async (sql) => void raw.exec(sql),
    unguard: async () => void raw.exec('DROP TRIGGER records_append_only_update; DROP TRIGGER records_append_only_delete;'),
    facets: true,
  }, 600, t);
});

test('PostgreSQL, the same randomized run', async (t) => {
  const db = await createTestDatabase({ prefix: 'model' });
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  t.after(() => db.drop());
  await runModel({
    name: 'PostgreSQL',
    // No grace: the model's restart recovers the closed instance's calls at once, as SQLite does
    // (the grace for a reconnecting replica has tests of its own in pg-store.test.ts).
    open: () => openPgStore(db.url, { recoverEveryMs: 60_000, livenessGraceMs: 0 }),
    one: async <T,>(sql: string) => (await db.query(sql)).rows[0] as T,
    exec: async (sql) => void (await db.query(sql)),
    unguard: async () => void (await db.query('ALTER TABLE records DISABLE TRIGGER records_append_only')),
    facets: false,
  }, 600, t);
});
