/**
 * Red-team: a denied statement reworded with a schema its name resolves to anyway, or with a
 * number spelled otherwise, escaped the deny cooldown. Found: `public.orders` for `orders` (the
 * pinned search_path is pg_catalog, public, pg_temp: an unqualified table is public's), `07`,
 * `7.0`, or `7e0` for `7`, and `'7'` or a string param "7" for 7 each opened a fresh request
 * at once. Now the cooldown key drops a `public.` / `pg_catalog.` qualifier (what the unqualified
 * name would resolve to, or a name the pinned path finds first: only ever more refused) and
 * writes every number, and a string literal or param that reads as one, by its value. Other
 * values, another schema and another table still reach the reviewers, and approvals still bind
 * the exact call. The real tool's parse and cooldown args, the real gate, a real SQLite store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createApprovalService, type GateResult } from '../../src/approvals/index.js';
import { queryDatabaseTool } from '../../tools/postgres/query-database.js';
import { tempDir } from '../recorder/fixtures.js';
import { cooldownDana, cooldownDecision, cooldownSam } from './support.js';

const query = queryDatabaseTool(() => {
  throw new Error('no connector in this test');
});
type Params = (string | number | boolean | null)[];

test('a denied statement reworded by resolved schema or number spelling is held by the cooldown; other statements are not', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => store.close().catch(() => undefined));
  const svc = createApprovalService(store.approvals, { pollMs: 5 });
  const sql = async (text: string, params?: Params): Promise<GateResult & { code?: string; message?: string; approvalId?: string }> => {
    const input = { connection: 'shop', sql: text, ...(params ? { params } : {}) };
    const facts = await query.parse(input, {} as never);
    return svc.gate({
      callId: `call-${Math.random()}`, sessionId: 's1', principal: cooldownSam, tool: 'query_database', connection: 'shop',
      canonicalArgs: query.canonicalArgs!(input, facts), cooldownArgs: query.cooldownArgs!(input, facts), decision: cooldownDecision, factsSummary: facts.summary, signal: new AbortController().signal,
    });
  };
  const first = await sql("UPDATE orders SET status = 'void' WHERE id = 7 AND total > 1.5");
  assert.equal(first.code, 'WARDEN_APPROVAL_PENDING');
  await svc.deny(first.approvalId!, cooldownDana, 'no');
  const count = async () => (await store.approvals.list({ limit: 1000 })).length;
  const before = await count();

  const reworded: [string, Params?][] = [
    ["UPDATE public.orders SET status = 'void' WHERE id = 7 AND total > 1.5"],
    ["UPDATE \"public\".\"orders\" SET status = 'void' WHERE id = 7 AND total > 1.5"],
    ["UPDATE PUBLIC.orders SET status = 'void' WHERE id = 7 AND total > 1.5"],
    ["UPDATE orders SET status = 'void' WHERE id = 07 AND total > 1.5"],
    ["UPDATE orders SET status = 'void' WHERE id = 7.0 AND total > 1.50"],
    ["UPDATE orders SET status = 'void' WHERE id = 7e0 AND total > 15e-1"],
    ["UPDATE orders SET status = 'void' WHERE id = 7 AND total > 001.5"],
    ["UPDATE orders SET status = 'void' WHERE id = 7 AND total > .15e1"],
    ["UPDATE orders SET status = 'void' WHERE id = '7' AND total > '1.5'"],
    ["UPDATE orders SET status = 'void' WHERE id = $1 AND total > $2", ['7', '1.5']],
    ["UPDATE orders SET status = 'void' WHERE id = $1 AND total > $2", [7.0, 1.5]],
    ["UPDATE public.orders SET status = 'void' WHERE id = $1 AND total > 1.5", ['07']],
  ];
  for (const [text, params] of reworded) {
    const r = await sql(text, params);
    assert.equal(r.code, 'WARDEN_APPROVAL_DENIED', `${text} ${JSON.stringify(params ?? [])}: ${r.code} ${r.message ?? ''}`);
    assert.equal(r.approvalId, first.approvalId, 'names the denied request');
  }
  assert.equal(await count(), before, 'no new request reached the reviewers');

  // Really different calls: another value, another schema, another table.
  for (const [text, params] of [
    ["UPDATE orders SET status = 'void' WHERE id = 70 AND total > 1.5"],
    ["UPDATE orders SET status = 'void' WHERE id = 7 AND total > 15"],
    ["UPDATE orders SET status = 'void' WHERE id = 0.7 AND total > 1.5"],
    ["UPDATE archive.orders SET status = 'void' WHERE id = 7 AND total > 1.5"],
    ["UPDATE orders_old SET status = 'void' WHERE id = 7 AND total > 1.5"],
    ["UPDATE orders SET status = 'void' WHERE id = $1 AND total > 1.5", ['7a']],
  ] as [string, Params?][]) {
    const r = await sql(text, params);
    assert.equal(r.code, 'WARDEN_APPROVAL_PENDING', `${text} ${JSON.stringify(params ?? [])}: ${r.message ?? ''}`);
  }

  // Approvals still bind the exact call: one given for `public.orders` does not run `orders`.
  const a = await sql('DELETE FROM public.orders WHERE id = 9');
  await svc.approve(a.approvalId!, cooldownDana);
  const b = await sql('DELETE FROM orders WHERE id = 09');
  assert.equal(b.code, 'WARDEN_APPROVAL_PENDING');
  assert.notEqual(b.approvalId, a.approvalId);
  assert.equal((await store.approvals.get(a.approvalId!))?.state, 'approved');
  assert.equal((await store.verify()).ok, true);
});
