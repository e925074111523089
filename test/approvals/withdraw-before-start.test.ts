/**
 * Red-team neighbour of withdraw-in-flight: the withdrawal lands after the call that used the
 * approval was recorded and before it executes; or, from another process on the same store,
 * after the use and before the call's intent is recorded (once missed: the sweep took a use with
 * no call on record for history, and the call ran on the approval). The call stops at the execute boundary: answered
 * WARDEN_APPROVAL_WITHDRAWN, nothing executed, the request given back short of its count
 * (pending, not approved), recorded. Real SQLite store, the real pipeline and approval service; a
 * plug-in tool counts its executions, and the store's intent write is wrapped only to deliver
 * the withdrawal at that moment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { z } from 'zod';
import Database from 'better-sqlite3';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import { compilePolicy } from '../../src/policy/load.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createApprovalService } from '../../src/approvals/index.js';
import type { GovernedTool, Principal } from '../../src/tool-api.js';
import { tempDir } from '../recorder/fixtures.js';
import { until } from './support.js';

const POLICY = `rules:
  - id: probe-approved
    effect: allow
    who: { groups: [g] }
    tool: probe
    approval: { reviewers: { groups: [dba] }, approvals: 1, expires: 30m, wait: 20s }
`;
const alice: Principal = { subject: 'alice', groups: ['g'], claims: {}, authMethod: 'stdio' };
const dana: Principal = { subject: 'dana', groups: ['dba'], claims: { iss: 'https://idp.example' }, authMethod: 'oidc' };

/**
 * Where the withdrawal lands: after the call's intent is recorded, by the service the pipeline
 * holds its calls in; or between the use and the intent, by another service on the same store
 * (the CLI, another replica: no held call of its own to stop); or so for a read whose intent is
 * written while it runs (`read_intent: overlap`): its result is dropped.
 */
type Moment = 'after-intent' | 'before-intent-elsewhere' | 'overlap-elsewhere' | 'store-fails';

async function withdrawnBeforeStart(t: { after(fn: () => void): void }, moment: Moment): Promise<void> {
  const dbPath = join(tempDir(t), 't.db');
  const store = openSqliteStore(dbPath);
  t.after(() => void store.close());
  await store.openSession({ id: 's1', principal: { subject: 'alice', groups: ['g'], authMethod: 'stdio' }, client: {}, transport: 'in-process', startedAt: new Date().toISOString() });
  let executed = 0;
  const tool: GovernedTool<{ connection: string }, { family: string; summary: string }> = {
    name: 'probe', title: 'probe', description: 'a write that needs approval', connectionTypes: ['probe'],
    input: z.object({ connection: z.string() }).strict(), annotations: {},
    parse: () => ({ family: 'probe', summary: 'write' }),
    isReadOnly: () => moment === 'overlap-elsewhere',
    async execute() {
      executed++;
      return { kind: 'text', streams: { stdout: 'ran' }, exitCode: 0, truncated: false };
    },
  };
  const policy = compilePolicy(['p.yaml'], [], { 'p.yaml': POLICY });
  // store-fails: the store answers no read of a request once the intent is recorded (the recheck's).
  let failing = false;
  const approvals = Object.create(store.approvals) as typeof store.approvals;
  approvals.get = (id) => (failing ? Promise.reject(new Error('store unavailable')) : store.approvals.get(id));
  const svc = createApprovalService(approvals, { pollMs: 5, policy: () => policy });
  const elsewhere = createApprovalService(store.approvals, { pollMs: 5, policy: () => policy });
  // The withdrawal lands once the call's intent is recorded (its use now open to the sweep), or
  // just before it (the use not yet on record), before it executes.
  let withdrawn: string[] = [];
  const recording = Object.create(store) as typeof store;
  recording.recordIntent = async (c, o) => {
    if (c.tool === 'probe' && moment !== 'after-intent' && moment !== 'store-fails') withdrawn = await elsewhere.withdrawIneligible!({ ...dana, groups: ['g'] });
    await store.recordIntent(c, o);
    if (c.tool === 'probe' && moment === 'after-intent') withdrawn = await svc.withdrawIneligible!({ ...dana, groups: ['g'] });
    if (c.tool === 'probe' && moment === 'store-fails') failing = true;
  };
  const pipeline = createPipeline({
    tools: [tool as unknown as GovernedTool], connections: [{ name: 'c', type: 'probe' }], policy: () => policy, store: recording,
    masking: { apply: (v) => v, scanner: () => ({ scan: (text: string) => ({ text, hits: {} }) }) },
    limits: { maxInputBytes: 65536, maxResultBytes: 1 << 20, defaultTimeoutMs: 5000, defaultMaxRows: 100 },
    log: () => undefined, approvals: svc,
    ...(moment === 'overlap-elsewhere' ? { readIntent: 'overlap' as const } : {}),
  });
  const answer = pipeline.handle({ sessionId: 's1', principal: alice, tool: 'probe', args: { connection: 'c' }, signal: new AbortController().signal });
  const req = await until(async () => (await store.approvals.list({ limit: 10 })).find((r) => r.state === 'pending'), 15_000, 'the request');
  await svc.approve(req.id, dana);
  const r = await answer;
  if (moment === 'store-fails') {
    // The recheck could not read the request: refused before it executes (fail closed), nothing withdrawn.
    failing = false;
    assert.equal(r.isError, true, r.content[0]!.text);
    assert.match(r.content[0]!.text, /^WARDEN_TRANSCRIPT_UNAVAILABLE: .*did not run/, 'a coded refusal');
    assert.doesNotMatch(r.content[0]!.text, /store unavailable/, 'the store error\'s own text is not passed on');
    assert.doesNotMatch(JSON.stringify(r), /stdout/, 'no result');
    assert.equal(executed, 0, 'the call never ran');
    assert.equal((await store.approvals.get(req.id))?.state, 'used');
    return;
  }
  assert.deepEqual(withdrawn, [req.id], 'the sweep withdrew dana\'s approval from the recorded call');
  assert.match(r.content[0]!.text, /^WARDEN_APPROVAL_WITHDRAWN: /, r.content[0]!.text);
  assert.doesNotMatch(JSON.stringify(r), /stdout/, 'no result');
  const row = await store.approvals.get(req.id);
  if (moment === 'overlap-elsewhere') {
    // The read ran with its intent on its way; its result is dropped, its use stands (it ran).
    assert.equal(executed, 1);
    assert.equal(row?.state, 'used');
    assert.deepEqual(row?.decisions, [], 'dana\'s approval withdrawn');
    assert.deepEqual((await store.getSession('s1'))!.calls.map((c) => c.outcome?.errorCode), ['WARDEN_APPROVAL_WITHDRAWN']);
    assert.equal((await store.verify()).ok, true);
    return;
  }
  assert.equal(executed, 0, 'the call never ran');
  assert.equal(row?.state, 'pending', 'given back short of its count: pending, not approved');
  // The give-back's record names the withdrawal, not a client cancel.
  const file = new Database(dbPath, { readonly: true });
  const returned = (file.prepare("SELECT body FROM records WHERE kind = 'approval_event' AND body LIKE '%\"returned\"%'").all() as { body: string }[]).map((r) => r.body);
  file.close();
  assert.equal(returned.length, 1);
  assert.match(JSON.stringify(returned), /WARDEN_APPROVAL_WITHDRAWN/);
  assert.doesNotMatch(JSON.stringify(returned), /client cancelled/);
  const calls = (await store.getSession('s1'))!.calls;
  assert.deepEqual(calls.map((c) => c.outcome?.errorCode), ['WARDEN_APPROVAL_WITHDRAWN']);
  assert.equal((await store.verify()).ok, true);
}

test('an approval withdrawn between its use and the call\'s start: the call does not run, answered WARDEN_APPROVAL_WITHDRAWN', (t) => withdrawnBeforeStart(t, 'after-intent'));

test('withdrawn by another process between the use and the intent (no call on record yet): the call re-reads its request once its intent is in and does not run', (t) =>
  withdrawnBeforeStart(t, 'before-intent-elsewhere'));

test('a read whose intent is written while it runs (read_intent: overlap), withdrawn so: its result is dropped, answered WARDEN_APPROVAL_WITHDRAWN', (t) =>
  withdrawnBeforeStart(t, 'overlap-elsewhere'));

test('a store that cannot answer the recheck once the intent is recorded: the call is refused before it executes (fail closed)', (t) =>
  withdrawnBeforeStart(t, 'store-fails'));
