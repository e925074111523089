/**
 * The deny cooldown holds the call as it would run, not as it was spelled: after a denial, the
 * same SQL with other whitespace, an added comment or other keyword case (or a shell line with
 * other quoting and spacing) is refused too, saying it is the same call "up to
 * whitespace/comments/case". A genuinely different statement (another literal) still reaches the
 * reviewers, and approvals keep binding to the exact call: one given for spelling A does not run
 * spelling B. On SQLite and PostgreSQL alike (the cooldown hash is stored with the request).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openPgStore, openSqliteStore, type ApprovalStore } from '../../src/recorder/index.js';
import { createApprovalService, type GateResult } from '../../src/approvals/index.js';
import { queryDatabaseTool } from '../../tools/postgres/query-database.js';
import { sshRunTool } from '../../tools/ssh/ssh-run.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { tempDir } from '../recorder/fixtures.js';
import { cooldownDana, cooldownDecision, cooldownSam } from './support.js';

const sam = cooldownSam;
const dana = cooldownDana;
const decision = cooldownDecision;
const noConnector = () => {
  throw new Error('no connector in this test');
};
const query = queryDatabaseTool(noConnector);
const ssh = sshRunTool(noConnector);

/** The gate as the pipeline calls it: the tool's parse, exact canonical args and cooldown args. */
function harness(tables: ApprovalStore, now: () => number) {
  const svc = createApprovalService(tables, { now, pollMs: 5 });
  const gateWith = (tool: string, connection: string, canonicalArgs: Record<string, unknown>, cooldownArgs: Record<string, unknown> | undefined, summary: string) =>
    svc.gate({ callId: `call-${Math.random()}`, sessionId: 's1', principal: sam, tool, connection, canonicalArgs, ...(cooldownArgs ? { cooldownArgs } : {}), decision, factsSummary: summary, signal: new AbortController().signal });
  const sql = async (text: string): Promise<GateResult> => {
    const input = { connection: 'shop', sql: text };
    const facts = await query.parse(input, {} as never);
    return gateWith('query_database', 'shop', query.canonicalArgs!(input, facts), query.cooldownArgs?.(input, facts), facts.summary);
  };
  const shell = async (line: string): Promise<GateResult> => {
    const input = { connection: 'web1', command: line };
    const facts = await ssh.parse(input, {} as never);
    return gateWith('ssh_run', 'web1', ssh.canonicalArgs!(input, facts), ssh.cooldownArgs?.(input, facts), facts.summary);
  };
  return { svc, sql, shell };
}

const idOf = (r: GateResult) => (r as { approvalId: string }).approvalId;
const codeOf = (r: GateResult) => (r as { code?: string }).code ?? 'granted';

/** The scenarios, run against one store. */
async function rewordedScenarios(tables: ApprovalStore, now: () => number, tag: string): Promise<void> {
  const { svc, sql, shell } = harness(tables, now);
  const t = (s: string) => s.replace(/\bt\b/, `t_${tag}`);
  const first = await sql(t('UPDATE t SET x = 1 WHERE name = \'Bob\''));
  assert.equal(codeOf(first), 'WARDEN_APPROVAL_PENDING');
  await svc.deny(idOf(first), dana, 'no');
  const before = (await tables.list({ limit: 1000 })).length;
  for (const reworded of [
    t("UPDATE  t\n  SET x = 1\tWHERE name = 'Bob'"),
    t("UPDATE t /* please */ SET x = 1 WHERE name = 'Bob' -- really\n"),
    t("update t set X = 1 where NAME = 'Bob';"),
  ]) {
    const r = (await sql(reworded)) as { code: string; message: string; approvalId?: string };
    assert.equal(r.code, 'WARDEN_APPROVAL_DENIED', `${reworded}: ${r.message}`);
    assert.equal(r.approvalId, idOf(first), 'names the denied request');
    assert.match(r.message, /up to whitespace\/comments\/case/);
  }
  // The exact call itself is still refused, and said to be the same call.
  const exact = (await sql(t("UPDATE t SET x = 1 WHERE name = 'Bob'"))) as { code: string; message: string };
  assert.equal(exact.code, 'WARDEN_APPROVAL_DENIED');
  assert.doesNotMatch(exact.message, /up to whitespace/);
  assert.equal((await tables.list({ limit: 1000 })).length, before, 'no new request reached the reviewers');
  // Another literal (the string kept exactly: its case counts) is another statement.
  assert.equal(codeOf(await sql(t("UPDATE t SET x = 1 WHERE name = 'bob'"))), 'WARDEN_APPROVAL_PENDING', 'other string literal');
  assert.equal(codeOf(await sql(t("UPDATE t SET x = 2 WHERE name = 'Bob'"))), 'WARDEN_APPROVAL_PENDING', 'other number');
  assert.equal(codeOf(await sql(t('UPDATE "T" SET x = 1 WHERE name = \'Bob\''))), 'WARDEN_APPROVAL_PENDING', 'a quoted identifier keeps its case');

  // Approvals bind to the exact call: an approval of spelling A does not run spelling B.
  const a = t('DELETE FROM t WHERE id = 7');
  const b = t('delete   from t where id = 7');
  const asked = await sql(a);
  assert.equal(codeOf(asked), 'WARDEN_APPROVAL_PENDING');
  await svc.approve(idOf(asked), dana);
  const other = await sql(b);
  assert.equal(codeOf(other), 'WARDEN_APPROVAL_PENDING', 'spelling B asks its own approval');
  assert.notEqual(idOf(other), idOf(asked));
  assert.equal((await tables.get(idOf(asked)))?.state, 'approved', 'spelling B did not use A\'s approval');
  const ran = await sql(a);
  assert.equal(ran.granted, true, 'spelling A runs on its approval');

  // Shell: a line reworded with other quoting and spacing is the same line.
  const line = await shell(`ls -l /var/log/${tag}`);
  assert.equal(codeOf(line), 'WARDEN_APPROVAL_PENDING');
  await svc.deny(idOf(line), dana);
  for (const reworded of [`ls  -l  "/var/log/${tag}"`, `'ls' -l '/var/log/${tag}'`, `ls -"l" /var/log/${tag}`]) {
    const r = (await shell(reworded)) as { code: string; message: string };
    assert.equal(r.code, 'WARDEN_APPROVAL_DENIED', `${reworded}: ${r.message}`);
  }
  assert.equal(codeOf(await shell(`ls -la /var/log/${tag}`)), 'WARDEN_APPROVAL_PENDING', 'another command line');
}

test('SQLite: reworded SQL and shell lines are refused during the cooldown; other statements are not; approvals stay exact', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => store.close().catch(() => undefined));
  const clock = { ms: Date.parse('2030-01-01T00:00:00.000Z') };
  await rewordedScenarios(store.approvals, () => clock.ms, 'lite');
  assert.equal((await store.verify()).ok, true);
});

const dbs: TestDatabase[] = [];
after(async () => {
  for (const db of dbs) await db.drop();
});

test('PostgreSQL: the same, with the cooldown hash stored in the shared tables', async () => {
  const db = await createTestDatabase({ prefix: 'cooldownre' });
  dbs.push(db);
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  const store = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  try {
    await rewordedScenarios(store.approvals, Date.now, 'pg');
    const v = await store.verify();
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
  } finally {
    await store.close();
  }
});
