/**
 * Red-team: an approval outliving a policy change that now denies the call. A call waits for
 * approval; while it waits, an operator reloads the policy with a freeze (a deny rule on the
 * table, or the grant narrowed) that leaves the approval rule's own terms untouched; a reviewer
 * then approves. The waiting call was decided under the old policy: it must be judged again under
 * the live one before it uses the approval, and not run. Real `warden serve` over stdio, real
 * PostgreSQL, the reviewer in a second process (`warden approvals approve`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { connectWarden, writeWardenDir, type WardenDir, type WardenSession } from '../support/warden-process.js';
import { approvalEvents, approvalsCli, refusedOutcome, until, shopConfig } from '../approvals/support.js';

const CONFIG = shopConfig();

const BASE = `
rules:
  - id: orders-fix
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [shop]
    sql: { statements: [update], write: [public.orders] }
    approval: { reviewers: { groups: [dba] }, approvals: 1, expires: 30m, wait: 50s }
`;

let db: TestDatabase;
let dir: WardenDir;
let w: WardenSession;

type View = { id: string; state: string; call?: { args: { sql: string } }; voided?: { code: string; message: string; rule_ids: string[] } };

async function pendingFor(sql: string): Promise<View> {
  return until(async () => {
    const r = await approvalsCli(['list', '--json', '--config', dir.configPath, '--state', 'pending']);
    assert.equal(r.code, 0, r.err);
    return (JSON.parse(r.out) as View[]).find((v) => v.call?.args.sql === sql);
  }, 15_000, `a pending request for ${sql}`);
}

async function total(id: number): Promise<number> {
  return Number((await db.query<{ total: string }>('SELECT total FROM orders WHERE id = $1', [id])).rows[0]!.total);
}

function callQuery(sql: string) {
  return w.client.callTool({ name: 'query_database', arguments: { connection: 'shop', sql } }, { timeout: 60_000 }).then((r) => ({
    isError: r.isError === true,
    text: (r.content as { text?: string }[]).map((c) => c.text ?? '').join('\n'),
    structured: r.structuredContent as { error?: { code: string; rule_ids?: string[] } } | undefined,
  }));
}

/**
 * Write a policy file, send the server SIGHUP, and wait until it reports the reload. SIGHUP, the
 * operator's reload, applies at once; left to the file watcher, a change that drops a deny or
 * narrows a grant is held about two seconds first (policy-watch.ts), and what is tested here is
 * the live policy at the approval, not the watcher. (The watcher still sees the change; its own
 * reload then finds the same policy and logs no second "policy reloaded".)
 */
async function reloadWith(file: string, text: string): Promise<void> {
  const seen = (w.stderr().match(/policy reloaded/g) ?? []).length;
  writeFileSync(join(dir.dir, 'policies', file), text);
  process.kill(w.pid, 'SIGHUP');
  await until(() => ((w.stderr().match(/policy reloaded/g) ?? []).length > seen ? true : undefined), 15_000, 'the policy reload');
}

async function approvalView(id: string): Promise<View> {
  const shown = await approvalsCli(['show', id, '--json', '--config', dir.configPath]);
  assert.equal(shown.code, 0, shown.err);
  return JSON.parse(shown.out) as View;
}

/**
 * The request ended `voided` with the live refusal as its reason: in `warden approvals show`
 * (JSON and text), in `approval_status` for the requester, and as the last approval_event.
 */
async function assertVoided(id: string, code: string, why: RegExp, liveRule?: string): Promise<void> {
  // Four independent reads (three CLI children and the requester's tool call): side by side.
  const [v, text, listed, status] = await Promise.all([
    approvalView(id),
    approvalsCli(['show', id, '--config', dir.configPath]),
    approvalsCli(['list', '--state', 'voided', '--json', '--config', dir.configPath]),
    w.call('approval_status', { approval_id: id }),
  ]);
  assert.equal(v.state, 'voided', JSON.stringify(v));
  assert.equal(v.voided?.code, code, JSON.stringify(v));
  assert.match(v.voided?.message ?? '', why);
  if (liveRule) assert.ok(v.voided?.rule_ids.includes(liveRule), JSON.stringify(v.voided));
  assert.match(text.out, /^approval \S+: voided$/m, text.out);
  assert.match(text.out, new RegExp(`^voided: +${code}: .*\\(live rules: [^)]*${liveRule ?? ''}`, 'm'), text.out);
  assert.equal(listed.code, 0, listed.err);
  assert.ok((JSON.parse(listed.out) as View[]).some((x) => x.id === id), listed.out);
  assert.equal(status.isError, false, status.text);
  const st = (status.structured as { data: { state: string; voided?: { code: string; message: string; rule_ids: string[] }; next: string } }).data;
  assert.equal(st.state, 'voided', status.text);
  assert.equal(st.voided?.code, code, status.text);
  assert.match(st.voided?.message ?? '', why);
  assert.match(st.next, /policy change.*never/, st.next);
  const events = await approvalEvents(dir.configPath, id);
  assert.deepEqual(events.map((e) => e.decision ?? e.event), ['requested', 'approve', 'approved', 'voided'], JSON.stringify(events));
  assert.equal((events.at(-1)!.reason as { code: string }).code, code);
}

before(async () => {
  db = await createTestDatabase({ prefix: 'apprrl' });
  await db.query(`CREATE TABLE orders (id int PRIMARY KEY, total int NOT NULL); INSERT INTO orders SELECT g, 100 FROM generate_series(1, 5) g;`);
  await db.query(`ALTER TABLE orders OWNER TO ${db.role}`);
  dir = writeWardenDir(CONFIG, { 'base.yaml': BASE });
  w = await connectWarden(dir.configPath, { TEST_DATABASE_URL: db.url, WARDEN_LOG_LEVEL: 'info' });
});

after(async () => {
  await w?.close();
  await db?.drop();
  dir?.cleanup();
});

test('a call waiting for approval does not run after a reload that now denies it (a freeze rule added)', async () => {
  const sql = 'UPDATE orders SET total = 0 WHERE id = 1';
  const waiting = callQuery(sql);
  const req = await pendingFor(sql);
  await reloadWith('freeze.yaml', `
rules:
  - id: orders-freeze
    effect: deny
    tool: query_database
    sql: { write: [public.orders] }
    reason: incident freeze on orders
`);
  // The reviewer (with the old approval terms unchanged) approves.
  const ok = await approvalsCli(['approve', req.id, '--config', dir.configPath, '--as', 'dana', '--groups', 'dba']);
  assert.equal(ok.code, 0, ok.err);
  const r = await waiting;
  assert.equal(r.isError, true, `the waiting call ran under the old policy: ${r.text}`);
  assert.equal(r.structured?.error?.code, 'WARDEN_DENIED', r.text);
  assert.match(r.text, /orders-freeze|reloaded/);
  // The refusal names the rule that refused it, under the live policy, not the old approval rule.
  assert.ok(r.structured?.error?.rule_ids?.includes('orders-freeze'), `rule_ids of the refusal: ${JSON.stringify(r.structured?.error?.rule_ids)}`);
  assert.equal(await total(1), 100, 'nothing ran');
  // The approval is voided by the policy change, with the live refusal as its reason, on every surface.
  await assertVoided(req.id, 'WARDEN_DENIED', /now denies it/, 'orders-freeze');
  await refusedOutcome(dir.configPath, sql, 'WARDEN_DENIED');
  // Lifting the freeze does not bring the approval back: the repeat call asks anew.
  await reloadWith('freeze.yaml', 'rules: []\n');
  const again = callQuery(sql);
  const fresh = await pendingFor(sql);
  assert.notEqual(fresh.id, req.id, 'a new request, not the voided one');
  assert.equal((await approvalView(req.id)).state, 'voided');
  const ok2 = await approvalsCli(['approve', fresh.id, '--config', dir.configPath, '--as', 'dana', '--groups', 'dba']);
  assert.equal(ok2.code, 0, ok2.err);
  const ran = await again;
  assert.equal(ran.isError, false, ran.text);
  assert.equal(await total(1), 0);
  assert.equal((await approvalView(req.id)).state, 'voided', 'still voided: it never ran a call');
});

test('a call waiting for approval does not run after a reload narrows its grant (same approval terms)', async () => {
  // Independent of the test before: no freeze in force.
  if (readFileSync(join(dir.dir, 'policies', 'freeze.yaml'), 'utf8') !== 'rules: []\n') await reloadWith('freeze.yaml', 'rules: []\n');
  const sql = 'UPDATE orders SET total = 7 WHERE id = 2';
  const waiting = callQuery(sql);
  const req = await pendingFor(sql);
  // The rule keeps its approval terms but no longer grants writing orders (it moved to another table).
  await reloadWith('base.yaml', BASE.replace('write: [public.orders]', 'write: [public.refunds]'));
  const ok = await approvalsCli(['approve', req.id, '--config', dir.configPath, '--as', 'dana', '--groups', 'dba']);
  assert.equal(ok.code, 0, ok.err);
  const r = await waiting;
  assert.equal(r.isError, true, `the waiting call ran under the old grant: ${r.text}`);
  assert.equal(r.structured?.error?.code, 'WARDEN_DENIED', r.text);
  assert.equal(await total(2), 100, 'nothing ran');
  await assertVoided(req.id, 'WARDEN_DENIED', /now denies it/);
  await refusedOutcome(dir.configPath, sql, 'WARDEN_DENIED');
});

test('a call waiting for a reviewer does not run after a reload makes the rule also ask the requester to confirm', async () => {
  await reloadWith('base.yaml', `${BASE}# ${Date.now()}\n`);
  const sql = 'UPDATE orders SET total = 9 WHERE id = 3';
  const waiting = callQuery(sql);
  const req = await pendingFor(sql);
  // Same rule, same reviewers and count: it now also needs the requester's own confirmation.
  await reloadWith('base.yaml', BASE.replace('approval: { reviewers', 'approval: { confirm: requester, reviewers'));
  const ok = await approvalsCli(['approve', req.id, '--config', dir.configPath, '--as', 'dana', '--groups', 'dba']);
  assert.equal(ok.code, 0, ok.err);
  const r = await waiting;
  assert.equal(r.isError, true, `the waiting call ran without the requester's confirmation: ${r.text}`);
  assert.equal(r.structured?.error?.code, 'WARDEN_APPROVAL_DENIED', r.text);
  assert.match(r.text, /now asks the requester to confirm/);
  assert.equal(await total(3), 100, 'nothing ran');
  await assertVoided(req.id, 'WARDEN_APPROVAL_DENIED', /rule orders-fix now asks the requester to confirm/, 'orders-fix');
  await refusedOutcome(dir.configPath, sql, 'WARDEN_APPROVAL_DENIED');
});
