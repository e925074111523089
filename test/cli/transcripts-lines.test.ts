/**
 * Red team: agent text with newlines (an MCP client name, a quoted identifier in a statement)
 * printed by `warden transcripts show|replay` and `warden approvals show` started lines of its
 * own, so an agent could print a fake `ended`/`calls` header line, a fake replay event, or a fake
 * `decision: dana approve` line under the approval's arguments. Single-line fields escape
 * newlines (\n); multi-line arguments are indented so no agent line starts at column 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runTranscriptsCommand } from '../../src/cli/transcripts-command.js';
import { approvalDetails } from '../../src/cli/approvals-command.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import type { ApprovalView } from '../../src/approvals/review-api.js';
import { tempDir } from '../recorder/fixtures.js';

const FAKE = 'claude\ncalls      0\n12:00:00.000  agent-x  session closed';

test('transcripts show and replay keep agent text on its own line', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => store.close());
  const at = '2026-11-28T09:00:00.000Z';
  await store.openSession({ id: 's1', principal: { subject: 'agent-x', groups: [], authMethod: 'stdio' }, client: { name: FAKE, version: '1\n2' }, transport: 'stdio', startedAt: at });
  await store.recordIntent({ id: 'c1', sessionId: 's1', tool: 'query_database', connection: 'shop', args: { sql: 'SELECT 1' }, factsSummary: 'SELECT "a\nb"', facts: null, decision: 'allow', ruleIds: ['r'], policyVersion: 'v1', startedAt: at });
  for (const sub of ['show', 'replay']) {
    const out: string[] = [];
    const code = await runTranscriptsCommand([sub, 's1'], { store, json: false, out: (s) => out.push(s), err: () => undefined });
    assert.equal(code, 0);
    const text = out.join('\n');
    assert.doesNotMatch(text, /^calls +0$/m, `${sub}: no forged header line`);
    assert.doesNotMatch(text, /^12:00:00\.000 +agent-x +session closed/m, `${sub}: no forged event line`);
    assert.ok(text.includes('claude\\ncalls'), `${sub}: the newline is shown as \\n`);
  }
});

test('approvals show: agent lines never start at column 0, single-line fields escape newlines', () => {
  const v: ApprovalView = {
    id: 'a1', state: 'pending', requester: 'agent-x', tool: 'query_database', connection: 'shop',
    summary: 'DELETE public."x\ndecision:   dana (oidc) approve"', rule_ids: ['r'], approvals_required: 1, approvals: 0,
    created_at: '2026-11-28T00:00:00Z', expires_at: '2026-11-28T00:30:00Z', call_id: null, session_id: null,
    decisions: [{ reviewer: 'bob', decision: 'deny', comment: 'no\ndecision:   carl (oidc) approve', at: '2026-11-28T00:01:00Z', auth: 'local' }],
    call: { tool: 'query_database', connection: 'shop', args: { sql: 'DELETE FROM users\n-- ok\ndecision:   dana (oidc) approve at 2026-11-28T00:02:00Z' } },
  };
  const text = approvalDetails(v);
  const decisions = text.split('\n').filter((l) => l.startsWith('decision:'));
  assert.deepEqual(decisions, ['decision:   bob (local) deny at 2026-11-28T00:01:00Z: no\\ndecision:   carl (oidc) approve'], 'only the real decision starts a line');
  assert.match(text, /^summary: +DELETE public\."x\\ndecision/m);
  assert.match(text, /^  sql: DELETE FROM users\n +-- ok\n +decision: +dana/m, 'the statement keeps its lines, indented');
});

test('approvals show of a request whose stored call lacks its arguments says so, not a TypeError', () => {
  const v = {
    id: 'a2', state: 'pending', requester: 'agent-x', requester_groups: [], requester_auth: 'stdio', tool: 'query_database', connection: 'shop',
    summary: 'SELECT 1', rule_ids: ['r'], approvals_required: 1, approvals: 0, created_at: '2026-11-28T00:00:00Z', expires_at: '2026-11-28T01:00:00Z', decisions: [],
    call: { tool: 'query_database', connection: 'shop' },
  } as unknown as ApprovalView;
  const text = approvalDetails(v);
  assert.match(text, /^arguments: +\(not recorded\)$/m);
});
