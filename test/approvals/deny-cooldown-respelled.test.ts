/**
 * The deny cooldown holds a denied statement respelled so that PostgreSQL reads the same thing:
 * its value moved into `params` (which the tool's own description tells agents to use), its
 * string literal written E'', $$ or $q$-quoted, its names written "quoted". Found: each of these
 * opened a fresh request to the reviewers at once, the cooldown key keeping literals and quoted
 * names as written and params beside the text. Statements that differ (another value, a quoted
 * name PostgreSQL reads otherwise) still reach the reviewers, and approvals still bind the exact
 * call. The real tool's parse and cooldown args, the real gate, a real SQLite store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createApprovalService, type GateResult } from '../../src/approvals/index.js';
import { queryDatabaseTool } from '../../tools/postgres/query-database.js';
import { tempDir } from '../recorder/fixtures.js';
import { cooldownDana, cooldownDecision, cooldownSam } from './support.js';

const sam = cooldownSam;
const dana = cooldownDana;
const decision = cooldownDecision;
const query = queryDatabaseTool(() => {
  throw new Error('no connector in this test');
});
type Params = (string | number | boolean | null)[];

test('a denied statement respelled (params, quoting of literals and names) is held by the cooldown; other values are not', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => store.close().catch(() => undefined));
  const svc = createApprovalService(store.approvals, { pollMs: 5 });
  const sql = async (text: string, params?: Params): Promise<GateResult & { code?: string; message?: string; approvalId?: string }> => {
    const input = { connection: 'shop', sql: text, ...(params ? { params } : {}) };
    const facts = await query.parse(input, {} as never);
    return svc.gate({
      callId: `call-${Math.random()}`, sessionId: 's1', principal: sam, tool: 'query_database', connection: 'shop',
      canonicalArgs: query.canonicalArgs!(input, facts), cooldownArgs: query.cooldownArgs!(input, facts), decision, factsSummary: facts.summary, signal: new AbortController().signal,
    });
  };
  const first = await sql("UPDATE orders SET status = 'void' WHERE id = 7 AND owner = 'Bob'");
  assert.equal(first.code, 'WARDEN_APPROVAL_PENDING');
  await svc.deny(first.approvalId!, dana, 'no');
  const count = async () => (await store.approvals.list({ limit: 1000 })).length;
  const before = await count();

  const respelled: [string, Params?][] = [
    ['UPDATE orders SET status = $1 WHERE id = $2 AND owner = $3', ['void', 7, 'Bob']],
    ["UPDATE orders SET status = 'void' WHERE id = $1 AND owner = $2", [7, 'Bob']],
    ["UPDATE orders SET status = E'void' WHERE id = 7 AND owner = $$Bob$$"],
    ["UPDATE orders SET status = $q$void$q$ WHERE id = 7 AND owner = 'Bob'"],
    ['UPDATE "orders" SET "status" = \'void\' WHERE "id" = 7 AND "owner" = \'Bob\''],
  ];
  for (const [text, params] of respelled) {
    const r = await sql(text, params);
    assert.equal(r.code, 'WARDEN_APPROVAL_DENIED', `${text} ${JSON.stringify(params ?? [])}: ${r.code} ${r.message ?? ''}`);
    assert.equal(r.approvalId, first.approvalId, 'names the denied request');
  }
  assert.equal(await count(), before, 'no new request reached the reviewers');

  // Other values, and a quoted name PostgreSQL reads otherwise, are other statements.
  for (const [text, params] of [
    ['UPDATE orders SET status = $1 WHERE id = $2 AND owner = $3', ['void', 8, 'Bob']],
    ['UPDATE orders SET status = $1 WHERE id = $2 AND owner = $3', ['void', 7, 'bob']],
    ["UPDATE \"Orders\" SET status = 'void' WHERE id = 7 AND owner = 'Bob'"],
  ] as [string, Params?][]) {
    const r = await sql(text, params);
    assert.equal(r.code, 'WARDEN_APPROVAL_PENDING', `${text} ${JSON.stringify(params ?? [])}: ${r.message ?? ''}`);
  }
});
