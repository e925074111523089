/**
 * A client that cancels right after its approvals were spent (used in the gate's transaction,
 * before the call's next stage) gets nothing run, and the approvals are given back: approved
 * again, to be spent once by the identical call. Found: they stayed `used` though nothing ran, so
 * reviewers read that the call ran and the agent had to ask them again. Real SQLite store, the
 * real pipeline and approval service; a small plug-in tool counts its executions, and the gate is
 * wrapped only to deliver the client's cancel at that moment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { z } from 'zod';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import { compilePolicy } from '../../src/policy/load.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createApprovalService, type GateInput } from '../../src/approvals/index.js';
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
const dana: Principal = { subject: 'dana', groups: ['dba'], claims: {}, authMethod: 'local' };

test('cancelled right after its approval was spent: nothing runs, the approval is given back and runs the identical call once', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 't.db'), { synchronous: 'FULL' });
  t.after(() => void store.close());
  await store.openSession({ id: 's1', principal: { subject: 'alice', groups: ['g'], authMethod: 'stdio' }, client: {}, transport: 'in-process', startedAt: new Date().toISOString() });
  let executed = 0;
  const tool: GovernedTool<{ connection: string }, { family: string; summary: string }> = {
    name: 'probe', title: 'probe', description: 'a write that needs approval', connectionTypes: ['probe'],
    input: z.object({ connection: z.string() }).strict(), annotations: {},
    parse: () => ({ family: 'probe', summary: 'write' }),
    isReadOnly: () => false,
    async execute() {
      executed++;
      return { kind: 'text', streams: { stdout: 'ran' }, exitCode: 0, truncated: false };
    },
  };
  const policy = compilePolicy(['p.yaml'], [], { 'p.yaml': POLICY });
  const svc = createApprovalService(store.approvals, { pollMs: 5, policy: () => policy });
  // The client's cancel arrives the moment the gate has spent the approval.
  let cancelNext: AbortController | undefined;
  const approvals = { ...svc, gate: async (input: GateInput) => {
    const r = await svc.gate(input);
    cancelNext?.abort();
    return r;
  } };
  const pipeline = createPipeline({
    tools: [tool as unknown as GovernedTool], connections: [{ name: 'c', type: 'probe' }], policy: () => policy, store,
    masking: { apply: (v) => v, scanner: () => ({ scan: (text: string) => ({ text, hits: {} }) }) },
    limits: { maxInputBytes: 65536, maxResultBytes: 1 << 20, defaultTimeoutMs: 5000, defaultMaxRows: 100 },
    log: () => undefined, approvals,
  });
  const call = (signal: AbortSignal) => pipeline.handle({ sessionId: 's1', principal: alice, tool: 'probe', args: { connection: 'c' }, signal });

  cancelNext = new AbortController();
  const first = call(cancelNext.signal);
  const req = await until(async () => (await store.approvals.list({ limit: 10 })).find((r) => r.state === 'pending'), 15_000, 'the request');
  await svc.approve(req.id, dana);
  const r1 = await first;
  assert.match(r1.content[0]!.text, /^WARDEN_CANCELLED: /);
  assert.equal(executed, 0, 'the cancelled call never ran');
  const back = await store.approvals.get(req.id);
  assert.equal(back?.state, 'approved', 'the approval of a call that never ran is given back');
  assert.equal(back?.usedByCall, null);

  // The identical call runs on it, once.
  cancelNext = undefined;
  const r2 = await call(new AbortController().signal);
  assert.equal(r2.isError, undefined, JSON.stringify(r2.content));
  assert.equal(executed, 1);
  const used = await store.approvals.get(req.id);
  assert.equal(used?.state, 'used');
  // Single use still: it cannot be spent again.
  const again = await store.approvals.consumeAll([req.id], { callId: 'other', callHash: req.callHash, requester: 'alice' }, new Date().toISOString());
  assert.equal(again.used, false);
  // A give-back names only the call that spent it: another call's id returns nothing.
  assert.deepEqual(await store.approvals.giveBack([req.id], 'not-the-spender', { code: 'WARDEN_CANCELLED', message: 'x', ruleIds: [] }, new Date().toISOString()), []);
  assert.equal((await store.approvals.get(req.id))?.state, 'used');
  const v = await store.verify();
  assert.equal(v.ok, true, JSON.stringify(v));
});
