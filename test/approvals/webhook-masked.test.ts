/**
 * Approval webhooks go to a chat channel or a bot, outside Warden: the policy's content detectors
 * mask the notice before it leaves (the call, its summary, a reviewer's comment), as they mask an
 * error message. Found: a card number or an access key an agent wrote into a statement went to
 * the webhook verbatim. The reviewer CLI runs as its own process on a real SQLite store; the
 * receiver is real HTTP on loopback. Reviewers still read the exact call in the UI or CLI.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createApprovalService } from '../../src/approvals/index.js';
import type { Decision } from '../../src/policy/types.js';
import { writeWardenDir, type WardenDir } from '../support/warden-process.js';
import { createTestDatabase } from '../support/pg-cluster.js';
import { ownTables, sqlConfig, startSqlWarden } from '../support/sql-warden.js';
import { approvalsCli, startReceiver, until, type Receiver } from './support.js';

const CARD = '4111 1111 1111 1111';
const KEY = 'AKIAQWERTYUIOPASDFGH';
let dir: WardenDir;
let json: Receiver;
let slack: Receiver;

const decision = (ruleId: string): Decision => ({
  effect: 'allow', ruleIds: [ruleId], reason: 'x', trace: [], alternatives: [],
  approval: { reviewers: { groups: ['dba'] }, approvals: 1, expires: 30 * 60_000, wait: 0, ruleId },
});

async function pendingRequest(ruleId: string, sql: string): Promise<string> {
  const store = openSqliteStore(dir.dbPath);
  try {
    const r = await createApprovalService(store.approvals).gate({
      callId: `call-${Math.random()}`, sessionId: 's1', principal: { subject: 'sam', groups: ['sre'], claims: {}, authMethod: 'local' },
      tool: 'query_database', connection: 'db', canonicalArgs: { connection: 'db', sql }, decision: decision(ruleId), factsSummary: sql, signal: new AbortController().signal,
    });
    return (r as { approvalId: string }).approvalId;
  } finally {
    await store.close();
  }
}

before(async () => {
  json = await startReceiver(0);
  slack = await startReceiver(0);
  const rule = (id: string, hook: string, format: string) => `  - id: ${id}
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [db]
    sql: { statements: [update], write: [public.orders] }
    approval: { reviewers: { groups: [dba] }, approvals: 1, expires: 30m, wait: 0s, notify: { webhook: "${hook}", format: ${format} } }
`;
  dir = writeWardenDir(
    `transcripts: { store: sqlite:warden.db }
connections:
  db: { type: postgres, url: env:UNUSED_URL }
policies: [policies/*.yaml]
`,
    { 'p.yaml': `masking:\n  detectors: [credit_card, aws_access_key]\nrules:\n${rule('fix-json', json.url, 'json')}${rule('fix-slack', slack.url, 'slack')}` },
  );
});

after(async () => {
  await json?.close();
  await slack?.close();
  dir?.cleanup();
});

for (const [ruleId, which] of [['fix-json', () => json], ['fix-slack', () => slack]] as const) {
  test(`${ruleId}: a decision's webhook notices carry the call with the policy's content detectors applied`, async () => {
    const sql = `UPDATE orders SET card = '${CARD}', note = '${KEY}' WHERE id = 1`;
    const id = await pendingRequest(ruleId, sql);
    const r = await approvalsCli(['approve', id, '--config', dir.configPath, '--as', 'dana', '--groups', 'dba', '--comment', `card ${CARD} checked`]);
    assert.equal(r.code, 0, r.err);
    const hits = await until(() => (which().hits.length >= 2 ? which().hits : undefined), 10_000, 'the decision and approved notices');
    for (const h of hits) {
      assert.ok(!h.body.includes(CARD) && !h.body.includes(CARD.replace(/ /g, '')), `the card number left Warden: ${h.body.slice(0, 400)}`);
      assert.ok(!h.body.includes(KEY), 'the access key left Warden');
      assert.match(h.body, /UPDATE orders SET card =/, 'the notice still shows the call');
      assert.match(h.body, /\[credit_card\]/);
    }
    // The store and the reviewer views keep the exact call: masking is for the channel only.
    const shown = await approvalsCli(['show', id, '--json', '--config', dir.configPath]);
    assert.ok(shown.out.includes(CARD), 'the reviewer view shows the exact call');
  });
}

test('warden serve: the `requested` notice of a waiting call is masked by the live policy\'s detectors', async () => {
  const db = await createTestDatabase({ prefix: 'hookmask' });
  const hook = await startReceiver(0);
  await db.query('CREATE TABLE orders (id int PRIMARY KEY, card text)');
  await ownTables(db, ['orders']);
  const warden = await startSqlWarden(db, {
    'p.yaml': `masking:\n  detectors: [credit_card]\nrules:\n  - id: fix\n    effect: allow\n    who: { groups: [analysts] }\n    tool: query_database\n    sql: { statements: [update], write: [public.orders] }\n    approval: { reviewers: { groups: [dba] }, expires: 30m, wait: 0s, notify: { webhook: "${hook.url}" } }\n`,
  }, sqlConfig());
  try {
    const r = await warden.query(`UPDATE orders SET card = '${CARD}' WHERE id = 1`);
    assert.match(r.text, /WARDEN_APPROVAL_PENDING/);
    const [h] = await until(() => (hook.hits.length ? hook.hits : undefined), 10_000, 'the requested notice');
    assert.match(h!.body, /"event":"requested"/);
    assert.ok(!h!.body.includes(CARD), `the card number left Warden: ${h!.body.slice(0, 400)}`);
    assert.match(h!.body, /UPDATE orders SET card = '\[credit_card\]'/);
  } finally {
    await warden.close();
    await hook.close();
    await db.drop();
  }
});
