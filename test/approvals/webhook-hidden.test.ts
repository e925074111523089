/**
 * Red team: the generic JSON approval webhook carries `approval` and `call` exactly, for
 * machines. JSON.stringify left C1 controls, bidi overrides and zero-width characters raw in the
 * posted body, so a receiver that logs or relays it showed a statement other than the one bound.
 * The body now has them as \uXXXX escapes: a byte-level look shows them, a JSON parser gets the
 * exact call.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rawHidden } from '../support/hidden-chars.js';
import { startReceiver } from './support.js';
import { createWebhookNotifier } from '../../src/approvals/index.js';

const SQL = 'DELETE FROM orders WHERE id = 1 \u202e-- \x9b8m OR true\u200b';

test('the JSON webhook body has no raw hidden character and the exact call once parsed', async () => {
  const receiver = await startReceiver(0);
  const url = receiver.url;
  const n = createWebhookNotifier({ attempts: 1 });
  try {
    for (const format of ['json', 'slack'] as const) {
      n.notify({ webhook: url, format }, {
        event: 'requested',
        seq: 1,
        approval: { id: 'a', state: 'pending', requester: 'sam\u2066', tool: 'query_database', connection: 'db', summary: 'DELETE orders\x9b8m', rule_ids: ['r'], approvals_required: 1, approvals: 0, created_at: '', expires_at: '', call_id: null, session_id: null, decisions: [] },
        call: { tool: 'query_database', connection: 'db', args: { sql: SQL } },
      });
    }
    await n.drain(5000);
  } finally {
    await receiver.close();
  }
  const bodies = receiver.hits.map((h) => h.body);
  assert.equal(bodies.length, 2);
  for (const b of bodies) assert.equal(rawHidden(b), null, `raw hidden character in ${b}`);
  const json = JSON.parse(bodies.find((b) => b.includes('"warden.approval"'))!) as { call: { args: { sql: string } }; approval: { requester: string } };
  assert.equal(json.call.args.sql, SQL);
  assert.equal(json.approval.requester, 'sam\u2066');
});
