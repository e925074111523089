/**
 * explain (`warden policy explain --json`, `policy test`, the admin tool explain_call) shows a
 * decision's approval, but never an inline webhook URL: a Slack or generic webhook URL is a
 * credential, and explain's report goes to CI logs, agents and transcripts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy } from '../../src/policy/load.js';
import { explainCall, formatExplain, offlineTools } from '../../src/policy/explain.js';
import { families } from '../../tools/index.js';
import type { ConnectionConfig } from '../../src/tool-api.js';

const connections: ConnectionConfig[] = [{ name: 'db', type: 'postgres', url: 'env:NEVER_SET', statement_timeout: 1000, max_rows: 10, max_bytes: 65536, pool_size: 1 }];
const conditions = [...new Map(families.flatMap((f) => f.conditions).map((c) => [c.key, c])).values()];

const policy = (webhook: string) =>
  compilePolicy(['/p/a.yaml'], conditions, {
    '/p/a.yaml': `rules:
  - id: fix
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    sql: { statements: [update], write: [public.t] }
    approval: { reviewers: { groups: [dba] }, notify: { webhook: "${webhook}", format: slack } }
`,
  });

async function explained(webhook: string) {
  const env = { policy: policy(webhook), tools: offlineTools(families, connections), connections };
  const r = await explainCall(env, { subject: 'sam', groups: ['sre'], claims: {}, authMethod: 'local' }, 'query_database', { connection: 'db', sql: 'UPDATE t SET a = 1' });
  assert.equal(r.decision.effect, 'allow');
  return { json: JSON.stringify(r), text: formatExplain(r), approval: r.decision.approval };
}

test('an inline webhook URL is cut to its origin in the report', async () => {
  const r = await explained('https://hooks.slack.com/services/T0001/B0001/s3cretT0ken');
  assert.ok(!r.json.includes('s3cretT0ken') && !r.json.includes('T0001'), r.json);
  assert.ok(!r.text.includes('s3cretT0ken'));
  assert.equal(r.approval?.notify?.webhook, 'https://hooks.slack.com/…');
  assert.equal(r.approval?.notify?.format, 'slack');
  const creds = await explained('https://user:pa55@hooks.example.com/x?token=t0k');
  assert.ok(!/pa55|t0k|user/.test(creds.json), creds.json);
});

test('a secret reference is a name and is shown as written', async () => {
  assert.equal((await explained('env:SLACK_WEBHOOK')).approval?.notify?.webhook, 'env:SLACK_WEBHOOK');
});
