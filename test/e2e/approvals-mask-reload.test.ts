/**
 * Red-team: an approved read outliving the column mask its result was to get. A rule lets sre read
 * customers with a dba's approval, and the policy masks customers.email. The reviewer approves
 * the read, seeing that emails are masked; a reload then drops the mask (same rule, reviewers and
 * count). Found: the retry ran on that approval and returned every email in clear, and so did a
 * call still waiting when the reload landed. Real `warden serve` over stdio, real PostgreSQL, the
 * reviewer in a second process (`warden approvals approve`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { connectWarden, writeWardenDir, type WardenDir, type WardenSession } from '../support/warden-process.js';
import { approvalsCli, until, shopConfig } from '../approvals/support.js';

const RULES = (wait: string) => `
rules:
  - id: customers-read
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [shop]
    sql: { statements: [select], read: [public.customers] }
    approval: { reviewers: { groups: [dba] }, approvals: 1, expires: 30m, wait: ${wait} }
`;
const MASK = `masking:\n  columns:\n    - { column: public.customers.email, with: redact }\n`;
const EMAIL = 'carol@customer.example';

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

async function state(id: string): Promise<string> {
  const r = await approvalsCli(['show', id, '--json', '--config', dir.configPath]);
  assert.equal(r.code, 0, r.err);
  return (JSON.parse(r.out) as View).state;
}

async function approve(id: string): Promise<void> {
  const ok = await approvalsCli(['approve', id, '--config', dir.configPath, '--as', 'dana', '--groups', 'dba']);
  assert.equal(ok.code, 0, ok.err);
}

function callQuery(sql: string) {
  return w.client.callTool({ name: 'query_database', arguments: { connection: 'shop', sql } }, { timeout: 60_000 }).then((r) => ({
    isError: r.isError === true,
    text: (r.content as { text?: string }[]).map((c) => c.text ?? '').join('\n'),
    code: (r.structuredContent as { error?: { code: string } } | undefined)?.error?.code ?? null,
  }));
}

async function reloadWith(text: string): Promise<void> {
  const seen = (w.stderr().match(/policy reloaded/g) ?? []).length;
  writeFileSync(join(dir.dir, 'policies', 'base.yaml'), `${text}# ${Date.now()}\n`);
  await until(() => ((w.stderr().match(/policy reloaded/g) ?? []).length > seen ? true : undefined), 15_000, 'the policy reload');
}

before(async () => {
  db = await createTestDatabase({ prefix: 'apprmask' });
  await db.query(`CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL); INSERT INTO customers VALUES (1, '${EMAIL}'), (2, 'dan@customer.example');`);
  await db.query(`ALTER TABLE customers OWNER TO ${db.role}`);
  dir = writeWardenDir(shopConfig(), { 'base.yaml': MASK + RULES('0s') });
  w = await connectWarden(dir.configPath, { TEST_DATABASE_URL: db.url, WARDEN_LOG_LEVEL: 'info' });
});

after(async () => {
  await w?.close();
  await db?.drop();
  dir?.cleanup();
});

test('an approved read of a masked column does not return it in clear after a reload removed the mask: the retry asks anew', async () => {
  await reloadWith(MASK + RULES('0s'));
  const sql = 'SELECT id, email FROM customers WHERE id = 1';
  const first = await callQuery(sql);
  assert.equal(first.code, 'WARDEN_APPROVAL_PENDING', first.text);
  const req = await pendingFor(sql);
  await approve(req.id);
  await reloadWith(RULES('0s'));
  const retry = await callQuery(sql);
  assert.ok(!retry.text.includes(EMAIL), `the approval given for a masked email returned it in clear: ${retry.text}`);
  assert.equal(retry.code, 'WARDEN_APPROVAL_PENDING', retry.text);
  assert.equal(await state(req.id), 'approved', 'not used by a call under other masks');
  // Legit: under the masks it was approved under, it runs once, masked.
  await reloadWith(MASK + RULES('0s'));
  const same = await callQuery(sql);
  assert.equal(same.isError, false, same.text);
  assert.ok(!same.text.includes(EMAIL), same.text);
  assert.equal(await state(req.id), 'used');
});

test('a call waiting for approval of a masked read is refused when a reload removes the mask; its approval is voided', async () => {
  await reloadWith(MASK + RULES('50s'));
  const sql = 'SELECT email FROM customers ORDER BY id';
  const waiting = callQuery(sql);
  const req = await pendingFor(sql);
  await reloadWith(RULES('50s'));
  await approve(req.id);
  const r = await waiting;
  assert.ok(!r.text.includes(EMAIL), `the waiting call returned the email in clear: ${r.text}`);
  assert.equal(r.code, 'WARDEN_APPROVAL_DENIED', r.text);
  assert.match(r.text, /loosened the masks/);
  assert.doesNotMatch(r.text, /customers\.email/, 'the refusal does not name the column');
  assert.equal(await state(req.id), 'voided');
});
