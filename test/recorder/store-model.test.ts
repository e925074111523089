/**
 * A randomized run of the SQLite store (seeded, so a failure replays): sessions, calls, approvals,
 * retention purges, restarts with recovery, interleaved as a busy server would; verify must say
 * "intact" after every few steps, and then every single tamper of a verified table must be found.
 * Why: each feature has its own tests; this one looks for what breaks where they meet (a purge of
 * the whole chain restarted its numbering until this kind of run found it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import type { NewApproval } from '../../src/recorder/sqlite-approvals.js';
import { tempDir } from './fixtures.js';

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

async function step(store: SqliteTranscriptStore, m: Model, rnd: () => number): Promise<void> {
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
    const a: NewApproval = {
      id, requester: 'ana', requesterGroups: ['g'], requesterAuth: 'oidc', tool: 'query_database', connection: 'shop', canonicalCall: `{"n":${m.n}}`,
      callHash: `h${m.n}`, summary: 'update', ruleIds: ['fix'], approvalRule: 'fix', approvalsRequired: 1 + Math.floor(rnd() * 2), reviewers: { groups: ['dba'] },
      confirm: null, callId: `call-${id}`, sessionId: sessions[0] ?? null, createdAt: at(), expiresAt: new Date(m.clock + 3_600_000).toISOString(),
    };
    await store.approvals.create(a);
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
    // Retention: everything that ended more than a few simulated minutes ago.
    await store.purge(new Date(m.clock - Math.floor(rnd() * 600_000)).toISOString(), at());
  }
}

async function verifyOk(store: SqliteTranscriptStore, what: string): Promise<void> {
  const v = await store.verify();
  assert.equal(v.ok, true, `${what}: ${JSON.stringify(v.firstBroken)}`);
}

test('randomized sessions, calls, approvals, purges and restarts: verify stays intact, and every tamper is found', async (t) => {
  const seed = Number(process.env.WARDEN_MODEL_SEED ?? 20261128);
  const rnd = prng(seed);
  const path = join(tempDir(t), 'w.db');
  let store = openSqliteStore(path);
  t.after(() => void store.close().catch(() => undefined));
  const m: Model = { open: new Map(), pending: [], approved: [], n: 0, clock: Date.UTC(2026, 0, 1) };
  for (let i = 1; i <= 600; i++) {
    await step(store, m, rnd);
    if (i % 25 === 0) await verifyOk(store, `seed ${seed}, step ${i}`);
    if (i % 150 === 0) {
      // A restart: the old instance's open calls and sessions are recovered (interrupted, closed).
      await store.close();
      store = openSqliteStore(path);
      await store.markInterrupted(new Date((m.clock += 1000)).toISOString());
      m.open.clear();
      await verifyOk(store, `seed ${seed}, after restart at step ${i}`);
    }
  }
  await verifyOk(store, `seed ${seed}, end`);
  const counts = store.db.prepare(`SELECT (SELECT COUNT(*) FROM calls) AS calls, (SELECT COUNT(*) FROM approvals) AS approvals,
    (SELECT COUNT(*) FROM checkpoints) AS checkpoints, (SELECT COUNT(*) FROM call_facets) AS facets`).get() as Record<string, number>;
  for (const [k, v] of Object.entries(counts)) assert.ok(v > 0, `the run exercised ${k} (${JSON.stringify(counts)})`);

  // Every tamper of a verified table is found; each is undone before the next.
  const evil = new Database(path);
  t.after(() => evil.close());
  evil.exec('DROP TRIGGER records_append_only_update; DROP TRIGGER records_append_only_delete;');
  const one = <T,>(sql: string) => evil.prepare(sql).get() as T;
  const c = one<{ id: string; tool: string; decision: string; args: string; session_id: string }>('SELECT * FROM calls ORDER BY random() LIMIT 1');
  const s = one<{ id: string; subject: string }>('SELECT * FROM sessions ORDER BY random() LIMIT 1');
  const f = one<{ session_id: string; tool: string; connection: string; decision: string }>('SELECT * FROM call_facets ORDER BY random() LIMIT 1');
  const a = one<{ id: string; state: string }>('SELECT * FROM approvals ORDER BY random() LIMIT 1');
  const rec = one<{ seq: number; body: string }>('SELECT seq, body FROM records ORDER BY random() LIMIT 1');
  const tampers: Array<[string, string, string]> = [
    ['a call\'s tool', `UPDATE calls SET tool = 'shell' WHERE id = '${c.id}'`, `UPDATE calls SET tool = '${c.tool}' WHERE id = '${c.id}'`],
    ['a call\'s arguments', `UPDATE calls SET args = '{"sql":"x"}' WHERE id = '${c.id}'`, `UPDATE calls SET args = '${c.args.replace(/'/g, "''")}' WHERE id = '${c.id}'`],
    ['a session\'s subject', `UPDATE sessions SET subject = 'mallory' WHERE id = '${s.id}'`, `UPDATE sessions SET subject = '${s.subject}' WHERE id = '${s.id}'`],
    ['a filter facet deleted', `DELETE FROM call_facets WHERE session_id = '${f.session_id}' AND tool = '${f.tool}' AND connection = '${f.connection}' AND decision = '${f.decision}'`,
      `INSERT INTO call_facets (session_id, tool, connection, decision) VALUES ('${f.session_id}', '${f.tool}', '${f.connection}', '${f.decision}')`],
    ['a filter facet forged', `INSERT INTO call_facets (session_id, tool, connection, decision) VALUES ('${f.session_id}', 'forged_tool', '', 'allow')`,
      `DELETE FROM call_facets WHERE tool = 'forged_tool'`],
    ['an approval\'s state', `UPDATE approvals SET state = '${a.state === 'approved' ? 'denied' : 'approved'}' WHERE id = '${a.id}'`, `UPDATE approvals SET state = '${a.state}' WHERE id = '${a.id}'`],
    ['a record\'s body', `UPDATE records SET body = body || ' ' WHERE seq = ${rec.seq}`, `UPDATE records SET body = '${rec.body.replace(/'/g, "''")}' WHERE seq = ${rec.seq}`],
  ];
  for (const [what, apply, undo] of tampers) {
    evil.exec(apply);
    const v = await store.verify();
    assert.equal(v.ok, false, `seed ${seed}: ${what} went unnoticed`);
    evil.exec(undo);
    await verifyOk(store, `seed ${seed}, after undoing ${what}`);
  }
});
