/**
 * Attacks on what a reviewer sees and on who counts as whom (review findings):
 * - terminal escapes and carriage returns in the agent's SQL rewrote `warden approvals show`
 *   output, and the elicitation (confirm: requester) message showed the text raw;
 * - the requester approved their own request under a case, whitespace, width or zero-width
 *   variant of their subject, and one person counted twice the same way;
 * - an approval was consumed by the same subject through another auth method, or under a
 *   stricter rule (after a reload) than the one it was approved under.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import { confirmMessage, createApprovalService, type ApprovalService } from '../../src/approvals/index.js';
import type { Principal } from '../../src/tool-api.js';
import type { Decision } from '../../src/policy/types.js';
import { writeWardenDir, type WardenDir } from '../support/warden-process.js';
import { approvalsCli } from './support.js';

let tmp: string;
let store: SqliteTranscriptStore;
let svc: ApprovalService;
let dir: WardenDir;

const p = (subject: string, groups: string[], authMethod: Principal['authMethod'] = 'local'): Principal => ({ subject, groups, claims: {}, authMethod });
const sam = p('sam', ['sre', 'dba'], 'oidc');
const decision = (approvals = 1, reviewers: { groups?: string[]; subjects?: string[] } = { groups: ['dba'] }, ruleId = 'fix'): Decision => ({
  effect: 'allow', ruleIds: [ruleId], reason: 'x', trace: [], alternatives: [],
  approval: { reviewers, approvals, expires: 60_000, wait: 0, ruleId },
});

function gate(sql: string, d: Decision, who: Principal = sam, s: ApprovalService = svc) {
  return s.gate({
    callId: `call-${Math.random()}`, sessionId: 's1', principal: who, tool: 'query_database', connection: 'db',
    canonicalArgs: { connection: 'db', sql }, decision: d, factsSummary: 'update; writes public.orders', signal: new AbortController().signal,
  });
}

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'warden-approvals-hard-'));
  store = openSqliteStore(join(tmp, 'w.db'));
  svc = createApprovalService(store.approvals, { pollMs: 5 });
  dir = writeWardenDir(
    `transcripts: { store: sqlite:warden.db }
connections:
  db: { type: postgres, url: env:UNUSED_URL }
policies: [policies/*.yaml]
`,
    {
      'p.yaml': `rules:
  - id: fix
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [db]
    sql: { statements: [update], write: [public.orders] }
    approval: { reviewers: { groups: [dba] }, approvals: 1, expires: 30m, wait: 0s }
`,
    },
  );
});

after(async () => {
  await store.close();
  rmSync(tmp, { recursive: true, force: true });
  dir?.cleanup();
});

// What the parser keeps: the `--` comment runs to the newline, so `OR true` is live SQL.
const SNEAKY = "UPDATE public.orders SET status = 'x' WHERE id = 1 -- \r\u001b[2K\u001b[1A\u001b[2K\nOR true";

test('`warden approvals show` and `list` print no terminal escapes or carriage returns from the call', async () => {
  const s = openSqliteStore(dir.dbPath);
  let id: string;
  try {
    const r = await gate(SNEAKY, decision(), sam, createApprovalService(s.approvals));
    id = (r as { approvalId: string }).approvalId;
  } finally {
    await s.close();
  }
  const show = await approvalsCli(['show', id, '--config', dir.configPath]);
  assert.equal(show.code, 0, show.err);
  assert.ok(!/[\u001b\r]/.test(show.out), `raw control characters reached the terminal: ${JSON.stringify(show.out)}`);
  assert.match(show.out, /\\u\{1b\}/, 'the escape is shown, visibly');
  assert.match(show.out, /OR true/);
  const list = await approvalsCli(['list', '--config', dir.configPath]);
  assert.equal(list.code, 0, list.err);
  assert.ok(!/[\u001b\r]/.test(list.out));
  const json = await approvalsCli(['show', id, '--json', '--config', dir.configPath]);
  assert.equal((JSON.parse(json.out) as { call: { args: { sql: string } } }).call.args.sql, SNEAKY, '--json keeps the exact text');
});

test('the elicitation message shows hidden characters and long blank runs visibly', async () => {
  const hidden = "UPDATE public.orders SET status = 'x' WHERE id = 1 /* \u202e */" + ' '.repeat(400) + 'OR true \r\u001b[2K';
  const r = await gate(hidden, decision());
  const row = await store.approvals.get((r as { approvalId: string }).approvalId);
  const m = confirmMessage(row!);
  assert.ok(!/[\u001b\r\u202e]/.test(m), JSON.stringify(m));
  assert.match(m, /\\u\{202e\}/);
  assert.match(m, /⟨400 spaces⟩ OR true/);
});

test('no self-approval under a variant of the requester subject', async () => {
  const r = (await gate('UPDATE v1', decision())) as { approvalId: string };
  for (const variant of ['Sam', 'SAM', ' sam', 'sam\u200b', '\uff53\uff41\uff4d', 's\u00ADam']) {
    await assert.rejects(svc.approve(r.approvalId, p(variant, ['dba'])), /cannot approve/, JSON.stringify(variant));
  }
  assert.equal((await svc.get(r.approvalId))?.state, 'pending');
});

test('one person under two spellings is one reviewer', async () => {
  const r = (await gate('UPDATE v2', decision(2))) as { approvalId: string };
  await svc.approve(r.approvalId, p('dana', ['dba']));
  for (const variant of ['Dana', 'dana ', 'dan\u200ba', '\uff44ana']) {
    await assert.rejects(svc.approve(r.approvalId, p(variant, ['dba'])), /already decided/, JSON.stringify(variant));
  }
  assert.equal((await svc.get(r.approvalId))?.state, 'pending');
  assert.equal((await svc.approve(r.approvalId, p('omar', ['dba']))).state, 'approved');
});

test('an approval is consumed only by the same auth method and under the same approval terms', async () => {
  const r = (await gate('UPDATE v3', decision())) as { approvalId: string };
  await svc.approve(r.approvalId, p('dana', ['dba']));
  // The same subject over stdio (another identity source) does not consume sam's OIDC approval.
  const other = await gate('UPDATE v3', decision(), p('sam', ['sre'], 'stdio'));
  assert.equal(other.granted, false);
  assert.notEqual((other as { approvalId: string }).approvalId, r.approvalId);
  // After a reload that asks for 2 approvals (or other reviewers, or another rule), the old approval is not enough.
  for (const d of [decision(2), decision(1, { groups: ['security'] }), decision(1, { groups: ['dba'] }, 'other-rule')]) {
    const g = await gate('UPDATE v3', d);
    assert.equal(g.granted, false, JSON.stringify(d.approval));
    assert.notEqual((g as { approvalId: string }).approvalId, r.approvalId);
  }
  assert.equal((await svc.get(r.approvalId))?.state, 'approved', 'still waiting for its own requester');
  assert.deepEqual(await gate('UPDATE v3', decision()), { granted: true, approvalId: r.approvalId, spent: [r.approvalId] });
});

test('a pending request made under looser terms is not the one a stricter call waits on', async () => {
  const loose = (await gate('UPDATE v4', decision(1))) as { approvalId: string };
  const strict = (await gate('UPDATE v4', decision(2))) as { approvalId: string };
  assert.notEqual(strict.approvalId, loose.approvalId);
  await svc.approve(loose.approvalId, p('dana', ['dba']));
  assert.equal((await gate('UPDATE v4', decision(2))).granted, false, 'one approval does not satisfy a rule that now needs two');
});
