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
import { approvalsCli, until, shopConfig } from '../approvals/support.js';

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

type View = { id: string; state: string; call?: { args: { sql: string } } };

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

/** Write a policy file and wait until the server reports the reload. */
async function reloadWith(file: string, text: string): Promise<void> {
  const seen = (w.stderr().match(/policy reloaded/g) ?? []).length;
  writeFileSync(join(dir.dir, 'policies', file), text);
  await until(() => ((w.stderr().match(/policy reloaded/g) ?? []).length > seen ? true : undefined), 15_000, 'the policy reload');
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
  const shown = await approvalsCli(['show', req.id, '--json', '--config', dir.configPath]);
  assert.equal((JSON.parse(shown.out) as View).state, 'approved', 'the approval was not used up');
  // Lifting the freeze: the repeat call is judged anew and runs on the approval, once.
  await reloadWith('freeze.yaml', 'rules: []\n');
  const again = await callQuery(sql);
  assert.equal(again.isError, false, again.text);
  assert.equal(await total(1), 0);
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
});
