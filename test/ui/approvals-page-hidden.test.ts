/**
 * The approval card's other texts (the parsed summary, which quotes names from the agent's
 * statement, the requester, reviewers and their comments) show hidden characters too: a review
 * found a right-to-left override in a quoted table name reordering the summary a reviewer reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { approvalsBody } from '../../src/ui/approvals-page.js';
import type { ApprovalReviewApi, ApprovalView } from '../../src/approvals/review-api.js';

const view: ApprovalView = {
  id: 'a1', state: 'pending', requester: 'mal\u200blory', tool: 'query_database', connection: 'db',
  summary: 'update; writes public."sredro\u202e"', rule_ids: ['fix'], approvals_required: 2, approvals: 1,
  created_at: '2026-11-28T00:00:00Z', expires_at: '2026-11-28T00:30:00Z', call_id: null, session_id: null,
  decisions: [{ reviewer: 'dana', decision: 'approve', comment: 'ok\u202e kool', at: '2026-11-28T00:01:00Z', auth: 'local' }],
  call: { tool: 'query_database', connection: 'db', args: { connection: 'db', sql: 'UPDATE x' } },
};
const api = { queueFor: async () => [{ view: view, refused: { approve: null, deny: null } }] } as unknown as ApprovalReviewApi;

test('summary, requester and comments on the approval card show hidden characters', async () => {
  const page = String(await approvalsBody(api, 'csrf-token', { subject: 'reviewer', groups: [], claims: {}, authMethod: 'local' }));
  assert.ok(!/[\u200b\u202e]/.test(page), 'no raw bidi or zero-width character reaches the page');
  assert.match(page, /mal\\u\{200b\}lory/);
  assert.match(page, /sredro\\u\{202e\}/);
  assert.match(page, /ok\\u\{202e\} kool/);
});

test('texts nested in the card are escaped once: a comment, a connection and the reviewers read as written', async () => {
  const plain: ApprovalView = {
    ...view, requester: 'sam', connection: 'db & co', summary: 'update',
    approval_rule: 'fix', reviewers: { groups: ["dba's"] },
    decisions: [{ reviewer: 'dana', decision: 'approve', comment: `it's <fine> & "done"`, at: '2026-11-28T00:01:00Z', auth: 'local' }],
  };
  const page = String(await approvalsBody({ queueFor: async () => [{ view: plain, refused: { approve: null, deny: null } }] } as unknown as ApprovalReviewApi, 'csrf-token', { subject: 'reviewer', groups: [], claims: {}, authMethod: 'local' }));
  assert.match(page, /: “it&#39;s &lt;fine&gt; &amp; &quot;done&quot;”/);
  assert.match(page, / @ db &amp; co/);
  assert.match(page, /dba&#39;s/);
  assert.ok(!/&amp;(amp|lt|gt|quot|#39);/.test(page), 'nothing is escaped twice');
});

test('the card notes right-to-left letters (drawn in stored order) only when it holds some', async () => {
  const render = async (v: ApprovalView) =>
    String(await approvalsBody({ queueFor: async () => [{ view: v, refused: { approve: null, deny: null } }] } as unknown as ApprovalReviewApi, 'csrf-token', { subject: 'reviewer', groups: [], claims: {}, authMethod: 'local' }));
  const plain: ApprovalView = { ...view, requester: 'sam', summary: 'update', decisions: [] };
  assert.doesNotMatch(await render(plain), /rtl-note/);
  assert.match(await render({ ...plain, call: { tool: 'query_database', connection: 'db', args: { sql: "SELECT pay_out(/*א*/ 5, 50000 /*ב*/)" } } }), /class="rtl-note">Right-to-left letters/);
  assert.match(await render({ ...plain, decisions: [{ reviewer: 'dana', decision: 'approve', comment: 'موافق', at: '2026-11-28T00:01:00Z', auth: 'local' }] }), /rtl-note/);
});

test('a stored call without arguments (a damaged or hand-made row) draws its card, never an internal error of the whole queue', async () => {
  const bare: ApprovalView = { ...view, requester: 'sam', summary: 'update', decisions: [], call: { tool: 'query_database', connection: 'db' } as unknown as ApprovalView['call'] };
  const page = String(await approvalsBody({ queueFor: async () => [{ view: bare, refused: { approve: null, deny: null } }] } as unknown as ApprovalReviewApi, 'csrf-token', { subject: 'reviewer', groups: [], claims: {}, authMethod: 'local' }));
  assert.match(page, /id="approval-a1"/);
  assert.match(page, />null</);
});
