/**
 * Red team, through the real `warden` bin and a real bidi algorithm (Chromium's): a terminal that
 * applies the Unicode bidi algorithm to each line (VTE >= 0.58, Konsole, mintty) drew
 * `pay_out(/*א*\/ 5, 50000 /*ב*\/)` as paying out 50000 in `approvals show|list` and
 * `transcripts show|replay`: right-to-left letters need no control character to reorder what
 * surrounds them. Every human line holding them is now written in stored order with a note; the
 * `--json` documents and the export are unchanged (exact values, valid JSON, no marks).
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { canonicalCall } from '../../src/approvals/index.js';
import { WARDEN_BIN } from '../support/repo.js';
import { cliStoreDir } from '../support/cli-store-dir.js';
import { rawHidden } from '../support/hidden-chars.js';
import { bidiPage, reordered, withoutOrderMarks } from '../support/bidi-order.js';

// The agent's own PDF tries to close Warden's override early.
const SQL = "SELECT pay_out(/*א*/ 5, 50000 /*ב*/) WHERE 'ג' > 5 OR 'ד' < 1 --\u202c 'ה' 7, 70000 'ו'";
const SUMMARY = "call public.pay_out(/*א*/ 5, 50000 /*ב*/) --\u202c 'ה' 7, 70000 'ו'";

const scratch = cliStoreDir('warden-cli-rtl-');
const dir = scratch.dir;

before(async () => {
  const store = scratch.open();
  const at = '2026-11-28T09:00:00.000Z';
  await store.openSession({ id: 's1', principal: { subject: 'agent-x', groups: ['agents'], authMethod: 'stdio' }, client: { name: 'c', version: '1' }, transport: 'stdio', startedAt: at });
  await store.recordIntent({ id: 'c1', sessionId: 's1', tool: 'query_database', connection: 'shop', args: { sql: SQL }, factsSummary: SUMMARY, facts: null, decision: 'allow', ruleIds: ['r'], policyVersion: 'v1', startedAt: at });
  await store.recordOutcome('c1', { status: 'ok', errorCode: null, result: { rows: [['א', 5, 50000, 'ב']] }, masking: null, durationMs: 1, endedAt: at });
  const call = canonicalCall('query_database', 'shop', { connection: 'shop', sql: SQL });
  await store.approvals.create({
    id: 'a1', requester: 'agent-x', requesterGroups: ['agents'], requesterAuth: 'stdio', tool: 'query_database', connection: 'shop', canonicalCall: call.text, callHash: call.hash,
    summary: SUMMARY, ruleIds: ['r'], approvalRule: 'r', approvalsRequired: 1, reviewers: { groups: ['dba'] }, confirm: null,
    callId: 'c1', sessionId: 's1', createdAt: at, expiresAt: '2999-01-01T00:00:00.000Z',
  });
  await store.close();
});

function warden(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [WARDEN_BIN, ...args], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('approvals show|list and transcripts show|replay: every line drawn in stored order, with a note', { timeout: 120_000 }, async (t) => {
  const page = await bidiPage(t);
  for (const args of [['approvals', 'show', 'a1'], ['approvals', 'list'], ['transcripts', 'show', 's1'], ['transcripts', 'replay', 's1']]) {
    const name = args.join(' ');
    const r = warden(...args);
    assert.equal(r.code, 0, `${name}: ${r.err}`);
    assert.ok(r.out.includes('5, 50000'), `${name}: the call is shown: ${r.out}`);
    assert.deepEqual(await reordered(page, r.out), [], `${name}: drawn in the order it is stored`);
    assert.equal(r.out.match(/^note: right-to-left letters .* read reversed/gm)?.length, 1, `${name}: one note: ${r.out}`);
    assert.equal(rawHidden(withoutOrderMarks(r.out)), null, `${name}: no raw control but Warden's marks`);
    assert.ok(r.out.includes('--\\u{202c}'), `${name}: the agent's own PDF is shown escaped: ${r.out}`);
  }
});

test('--json documents and the export carry no marks: the exact values, valid JSON', () => {
  for (const args of [['approvals', 'show', 'a1', '--json'], ['approvals', 'list', '--json'], ['transcripts', 'show', 's1', '--json'], ['transcripts', 'replay', 's1', '--json'], ['transcripts', 'export']]) {
    const r = warden(...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
    assert.equal(rawHidden(r.out), null, `${args.join(' ')}: no raw mark`);
    assert.doesNotMatch(r.out, /right-to-left/, 'no note in a JSON document');
    const docs = args[1] === 'export' ? r.out.trim().split('\n').map((l) => JSON.parse(l) as unknown) : [JSON.parse(r.out) as unknown];
    assert.ok(JSON.stringify(docs).includes(JSON.stringify(SQL).slice(1, -1)) || JSON.stringify(docs).includes(JSON.stringify(SUMMARY).slice(1, -1)), `${args.join(' ')}: the exact text`);
  }
});
