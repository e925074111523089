/**
 * A reviewer approves exactly what runs: the approval card shows the whole bound call, with
 * long whitespace runs and invisible (control, bidi) characters made visible. A review found
 * `WHERE id = 1 /* ticket *\/` + 4,100 spaces + `OR true` approved from a card cut at 4,000.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { approvalsBody } from '../../src/ui/approvals-page.js';
import type { ApprovalReviewApi, ApprovalView } from '../../src/approvals/review-api.js';

const sql = `UPDATE orders SET total = 0 WHERE id = 1 /* ticket 4711 */${' '.repeat(4100)}OR true AND note = '\u202Eeurt RO'`;
const view: ApprovalView = {
  id: 'a1', state: 'pending', requester: 'mallory', tool: 'query_database', connection: 'db', summary: 'update; writes public.orders',
  rule_ids: ['fix'], approvals_required: 1, approvals: 0, created_at: '2026-11-28T00:00:00Z', expires_at: '2026-11-28T00:30:00Z', call_id: null, session_id: null,
  decisions: [], call: { tool: 'query_database', connection: 'db', args: { connection: 'db', sql } },
};
const api = { queueFor: async () => [{ view: view, refused: { approve: null, deny: null } }] } as unknown as ApprovalReviewApi;

test('the approval card shows the whole call: nothing cut, whitespace runs and bidi controls visible', async () => {
  const page = String(await approvalsBody(api, 'csrf-token', { subject: 'reviewer', groups: [], claims: {}, authMethod: 'local' }));
  assert.match(page, /⟨4100 spaces⟩ OR true/, 'the tail after the spaces is on the card');
  assert.match(page, /\\u\{202e\}/, 'a right-to-left override is shown, not applied');
  assert.doesNotMatch(page, /more characters/, 'no excerpt');
  assert.ok(!page.includes(' '.repeat(40)), 'no long run of raw spaces pushes text out of sight');
  assert.match(page, /Approve/);
});
