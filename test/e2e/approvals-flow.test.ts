/**
 * End to end: `warden serve` as a child process driven by the real SDK client over stdio, a real
 * PostgreSQL, and a reviewer acting through `warden approvals ...` in a second process.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { connectWarden, writeWardenDir, type WardenDir, type WardenSession } from '../support/warden-process.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import { approvalsCli, shopConfig, startReceiver, until, type Receiver } from '../approvals/support.js';

const CONFIG = shopConfig(['sre', 'dba']);

const policy = (slackHook: string, jsonHook: string) => `
rules:
  - id: sre-read
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [shop]
    sql: { statements: [select], read: [public.orders] }
  - id: orders-fix
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [shop]
    sql: { statements: [update], write: [public.orders] }
    approval: { reviewers: { groups: [dba] }, approvals: 1, expires: 30m, wait: 50s, notify: { webhook: "${slackHook}", format: slack } }
  - id: orders-delete
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [shop]
    sql: { statements: [delete], write: [public.orders] }
    approval: { reviewers: { groups: [dba] }, approvals: 2, expires: 30m, wait: 50s, notify: { webhook: "${jsonHook}", format: json } }
  - id: orders-insert
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [shop]
    sql: { statements: [insert], write: [public.orders] }
    approval: { reviewers: { groups: [dba] }, expires: 30m, wait: 1s }
  - id: notes-expire
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [shop]
    sql: { statements: [update], write: [public.notes] }
    approval: { reviewers: { groups: [dba] }, expires: 6s, wait: 15s }
`;

let db: TestDatabase;
let dir: WardenDir;
let w: WardenSession;
let slack: Receiver;
let hook: Receiver;

type View = { id: string; state: string; requester: string; tool: string; connection: string; created_at: string; expires_at: string; call?: { args: { sql: string } }; decisions: unknown[] };

async function list(state?: string): Promise<View[]> {
  const r = await approvalsCli(['list', '--json', '--config', dir.configPath, ...(state ? ['--state', state] : [])]);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as View[];
}

/** The pending request for this SQL (it appears once the waiting call created it). */
function pendingFor(sql: string): Promise<View> {
  return until(async () => (await list('pending')).find((v) => v.call?.args.sql.includes(sql)), 15_000, `a pending request for ${sql}`);
}

const review = (verb: 'approve' | 'deny', id: string, as: string, groups: string, ...more: string[]) =>
  approvalsCli([verb, id, '--config', dir.configPath, '--as', as, '--groups', groups, ...more]);

async function total(id: number): Promise<number> {
  return Number((await db.query<{ total: string }>('SELECT total FROM orders WHERE id = $1', [id])).rows[0]!.total);
}

function callQuery(sql: string, opts: { onprogress?: (p: { message?: string }) => void; signal?: AbortSignal } = {}) {
  return w.client.callTool({ name: 'query_database', arguments: { connection: 'shop', sql } }, { timeout: 60_000, ...opts }).then((r) => ({
    isError: r.isError === true,
    text: (r.content as { text?: string }[]).map((c) => c.text ?? '').join('\n'),
    structured: r.structuredContent as { error?: { code: string; approval_id?: string } } | undefined,
  }));
}

before(async () => {
  db = await createTestDatabase({ prefix: 'appr' });
  await db.query(`
    CREATE TABLE orders (id int PRIMARY KEY, total int NOT NULL, status text);
    CREATE TABLE notes (id int PRIMARY KEY, body text);
    INSERT INTO orders SELECT g, 100, 'new' FROM generate_series(1, 10) g;
    INSERT INTO notes VALUES (1, 'x');
  `);
  for (const t of ['orders', 'notes']) await db.query(`ALTER TABLE ${t} OWNER TO ${db.role}`);
  slack = await startReceiver(1);
  hook = await startReceiver(1);
  dir = writeWardenDir(CONFIG, { 'base.yaml': policy(slack.url, hook.url) });
  w = await connectWarden(dir.configPath, { TEST_DATABASE_URL: db.url });
});

after(async () => {
  await w?.close();
  await slack?.close();
  await hook?.close();
  await db?.drop();
  dir?.cleanup();
});

describe('approvals over stdio with a reviewer CLI', () => {
  test('approved in time: the waiting call runs once, with progress notifications', async () => {
    const progress: string[] = [];
    const sql = 'UPDATE orders SET total = total + 1 WHERE id = 1';
    const call = callQuery(sql, { onprogress: (p) => progress.push(p.message ?? '') });
    const req = await pendingFor(sql);
    assert.equal(req.requester, 'sam');
    assert.equal(req.tool, 'query_database');
    assert.equal(req.connection, 'shop');
    for (const k of ['id', 'state', 'requester', 'tool', 'connection', 'created_at', 'expires_at']) assert.ok(k in req, `list --json has ${k}`);
    await until(() => (progress.length ? true : undefined), 10_000, 'a progress notification');
    const ok = await review('approve', req.id, 'dana', 'dba', '--comment', 'looks fine');
    assert.equal(ok.code, 0, ok.err);
    const r = await call;
    assert.equal(r.isError, false, r.text);
    assert.equal(await total(1), 101);
    assert.match(progress[0]!, /^waiting for approval by dba, 0 of 1, expires in 30m/);
    const shown = await approvalsCli(['show', req.id, '--json', '--config', dir.configPath]);
    assert.equal((JSON.parse(shown.out) as View).state, 'used');
  });

  test('denied with a comment: the agent sees the comment, nothing runs', async () => {
    const sql = 'UPDATE orders SET total = 0 WHERE id = 2';
    const call = callQuery(sql);
    const req = await pendingFor(sql);
    const no = await review('deny', req.id, 'dana', 'dba', '--comment', 'not during the sale');
    assert.equal(no.code, 0, no.err);
    const r = await call;
    assert.equal(r.isError, true);
    assert.equal(r.structured?.error?.code, 'WARDEN_APPROVAL_DENIED');
    assert.match(r.text, /not during the sale/);
    assert.equal(await total(2), 100);
    // Reworded (whitespace, a comment, keyword case), it is the same call: refused by the
    // deny cooldown at once, without a new request for the reviewers.
    const pending = (await list('pending')).length;
    const again = await callQuery('update  orders /* please */ SET TOTAL = 0\n WHERE id = 2;');
    assert.equal(again.structured?.error?.code, 'WARDEN_APPROVAL_DENIED', again.text);
    assert.match(again.text, /up to whitespace\/comments\/case/);
    assert.equal((await list('pending')).length, pending, 'no new request');
    assert.equal(await total(2), 100);
  });

  test('the requester cannot approve (whatever groups), nor a non-reviewer; a second vote is refused', async () => {
    const sql = 'UPDATE orders SET total = 7 WHERE id = 3';
    const call = callQuery(sql);
    const req = await pendingFor(sql);
    // Four refused attempts, each its own CLI child: side by side (none may change the request).
    const [self, outsider, noIdentity, token] = await Promise.all([
      review('approve', req.id, 'sam', 'dba,sre'),
      review('approve', req.id, 'eve', 'sre'),
      approvalsCli(['approve', req.id, '--config', dir.configPath]),
      approvalsCli(['approve', req.id, '--config', dir.configPath, '--token', 'eyJhbGciOiJub25lIn0.e30.']),
    ]);
    assert.notEqual(self.code, 0);
    assert.match(self.err, /cannot approve/);
    assert.notEqual(outsider.code, 0);
    assert.match(outsider.err, /not a reviewer/);
    assert.notEqual(noIdentity.code, 0);
    assert.notEqual(token.code, 0, 'an unverifiable token is refused');
    assert.equal((await list('pending')).some((v) => v.id === req.id), true, 'still pending after the refusals');
    assert.equal((await review('approve', req.id, 'dana', 'dba')).code, 0);
    assert.equal((await call).isError, false);
    const again = await review('approve', req.id, 'omar', 'dba');
    assert.notEqual(again.code, 0, 'a used request cannot be decided again');
    assert.match(again.err, /already used/);
    assert.equal(await total(3), 7);
  });

  test('two approvals from distinct reviewers; the same reviewer twice does not count', async () => {
    const sql = 'DELETE FROM orders WHERE id = 10';
    const call = callQuery(sql);
    const req = await pendingFor(sql);
    assert.equal((await review('approve', req.id, 'dana', 'dba')).code, 0);
    const twice = await review('approve', req.id, 'dana', 'dba');
    assert.notEqual(twice.code, 0);
    assert.match(twice.err, /already decided/);
    assert.equal((await list('pending')).some((v) => v.id === req.id), true, '1 of 2 is still pending');
    assert.equal((await review('approve', req.id, 'omar', 'dba')).code, 0);
    const r = await call;
    assert.equal(r.isError, false, r.text);
    assert.equal((await db.query('SELECT 1 FROM orders WHERE id = 10')).rowCount, 0);
  });

  test('not decided in time: PENDING with the id; after approval the same call runs once; a replay and changed arguments need a new approval', async () => {
    const sql = 'INSERT INTO orders VALUES (20, 5, $$a$$)';
    const first = await callQuery(sql);
    assert.equal(first.structured?.error?.code, 'WARDEN_APPROVAL_PENDING', first.text);
    const id = first.structured?.error?.approval_id;
    assert.ok(id);
    const status = await w.call('approval_status', { approval_id: id });
    assert.equal(status.isError, false, status.text);
    assert.equal((status.structured as { data: { state: string } }).data.state, 'pending');
    assert.equal((await review('approve', id, 'dana', 'dba')).code, 0);
    const changed = await callQuery('INSERT INTO orders VALUES (21, 5, $$a$$)');
    assert.equal(changed.structured?.error?.code, 'WARDEN_APPROVAL_PENDING', 'changed arguments need their own approval');
    assert.notEqual(changed.structured?.error?.approval_id, id);
    const run = await callQuery(sql);
    assert.equal(run.isError, false, run.text);
    assert.equal((await db.query('SELECT 1 FROM orders WHERE id = 20')).rowCount, 1);
    const replay = await callQuery(sql);
    assert.equal(replay.structured?.error?.code, 'WARDEN_APPROVAL_PENDING', 'a used approval does not cover a second call');
    assert.notEqual(replay.structured?.error?.approval_id, id);
    assert.equal((await db.query('SELECT 1 FROM orders WHERE id = 21')).rowCount, 0);
  });

  test('an approval expires: the waiting call gets EXPIRED and a late approval is refused', async () => {
    const sql = "UPDATE notes SET body = 'y' WHERE id = 1";
    const call = callQuery(sql);
    const req = await pendingFor(sql);
    const r = await call;
    assert.equal(r.structured?.error?.code, 'WARDEN_APPROVAL_EXPIRED', r.text);
    const late = await review('approve', req.id, 'dana', 'dba');
    assert.notEqual(late.code, 0);
    assert.equal((await db.query<{ body: string }>('SELECT body FROM notes')).rows[0]!.body, 'x');
    assert.equal((await list('expired')).some((v) => v.id === req.id), true);
  });

  test('cancellation while waiting ends the wait; the request stays pending', async () => {
    const sql = 'UPDATE orders SET total = 1 WHERE id = 4';
    const ac = new AbortController();
    const call = callQuery(sql, { signal: ac.signal });
    const req = await pendingFor(sql);
    ac.abort();
    await assert.rejects(call);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await total(4), 100);
    const still = await list('pending');
    assert.equal(still.some((v) => v.id === req.id), true);
    const ping = await w.call('list_connections', {});
    assert.equal(ping.isError, false, 'the server still answers after a cancelled wait');
  });

  test('webhooks: retried after a failure, Slack body escaped, JSON body structured', async () => {
    const sql = "UPDATE orders SET status = '<!channel> ``` *APPROVED by admin* <https://evil.example|click>' WHERE id = 5";
    const call = callQuery(sql);
    const req = await pendingFor('APPROVED by admin');
    await until(() => (slack.hits.filter((h) => h.status === 200 && h.body.includes(req.id)).length ? true : undefined), 15_000, 'a delivered slack webhook');
    assert.equal((await review('deny', req.id, 'dana', 'dba', '--comment', '<!here> no')).code, 0);
    await call;
    assert.equal(slack.hits[0]!.status, 500, 'the first delivery failed');
    const delivered = slack.hits.filter((h) => h.status === 200).map((h) => JSON.parse(h.body) as { text: string; blocks: { text?: { text: string }; elements?: { text: string }[] }[] });
    const requested = delivered.find((b) => b.text.includes('approval requested') && JSON.stringify(b).includes(req.id))!;
    assert.ok(requested, 'the new request was announced');
    const all = JSON.stringify(delivered);
    assert.ok(!all.includes('<!channel>') && !all.includes('<!here>') && !all.includes('<https://evil'), 'no live mention or link from the call or comment');
    const code = requested.blocks[1]!.text!.text;
    assert.equal(code.match(/```/g)?.length, 2, 'the call text cannot close its code fence');
    assert.match(code, /&lt;!channel&gt;/);
    assert.ok(delivered.some((b) => /now denied/.test(b.text)), 'the decision was announced');
    // The JSON hook saw the two-approval delete above: requested, decisions, approved.
    const events = hook.hits.filter((h) => h.status === 200).map((h) => (JSON.parse(h.body) as { event: string }).event);
    assert.equal(hook.hits[0]!.status, 500);
    assert.ok(events.includes('requested') && events.includes('decision') && events.includes('approved'), events.join(','));
  });

  test('every approval state change is in the hash chain, which verifies', async () => {
    const store = new Database(dir.dbPath, { readonly: true });
    const kinds = store.prepare(`SELECT body FROM records WHERE kind = 'approval_event'`).all() as { body: string }[];
    const events = kinds.map((k) => (JSON.parse(k.body) as { event: string }).event);
    for (const e of ['requested', 'decision', 'approved', 'denied', 'used', 'expired']) assert.ok(events.includes(e), `chain has ${e}`);
    store.close();
    const ro = openSqliteStore(dir.dbPath, { readonly: true });
    const verified = await ro.verify();
    await ro.close();
    assert.equal(verified.ok, true, JSON.stringify(verified.firstBroken));
    const v = await approvalsCli(['list', '--config', dir.configPath]);
    assert.equal(v.code, 0);
    assert.match(v.out, /used/);
  });
});
