/**
 * A reviewer who approved a call hears when a policy reload voided that approval (the webhook
 * gets a `voided` notice with the live policy's refusal), as it heard of the approval itself.
 * Driven through the real pipeline, a real SQLite store and the real approval service, with the
 * policy swapped while the call waits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { z } from 'zod';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import { compilePolicy } from '../../src/policy/load.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import { compileScanner, createMasker } from '../../src/masking/index.js';
import { createApprovalService, jsonBody, slackBody, type ApprovalNotice, type NotifySpec } from '../../src/approvals/index.js';
import type { GovernedTool, Principal, ToolOutput } from '../../src/tool-api.js';
import { tempDir } from '../recorder/fixtures.js';
import { until } from './support.js';

const RULE = `  - id: fix
    effect: allow
    who: { groups: [dev] }
    tool: probe
    approval: { reviewers: { groups: [dba] }, approvals: 1, expires: 30m, wait: 20s, notify: { webhook: "https://hooks.example/dba" } }
`;
const FREEZE = `  - { id: freeze, effect: deny, who: { groups: [dev] }, tool: probe, reason: incident freeze }\n`;
const p = (subject: string, groups: string[]): Principal => ({ subject, groups, claims: {}, authMethod: 'local' });
const sam = p('sam', ['dev']);
const dana = p('dana', ['dba']);

test('a reload that refuses a waiting call notifies the rule\'s webhook that its approval was voided, with the refusal', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 't.db'));
  t.after(() => void store.close());
  await store.openSession({ id: 's1', principal: { subject: 'sam', groups: sam.groups, authMethod: 'local' }, client: {}, transport: 'in-process', startedAt: new Date().toISOString() });
  const ran: string[] = [];
  const tool: GovernedTool<{ connection: string; what: string }> = {
    name: 'probe',
    title: 'probe',
    description: 'records that it ran',
    connectionTypes: ['probe'],
    input: z.object({ connection: z.string(), what: z.string() }).strict(),
    annotations: {},
    parse: (input) => ({ family: 'probe', summary: `probe ${input.what}` }),
    isReadOnly: () => false,
    async execute(input): Promise<ToolOutput> {
      ran.push(input.what);
      return { kind: 'text', streams: { stdout: 'done' }, exitCode: 0, truncated: false };
    },
  };
  let policy = compilePolicy(['p.yaml'], [], { 'p.yaml': `rules:\n${RULE}` });
  const notices: { spec: NotifySpec; n: ApprovalNotice }[] = [];
  const approvals = createApprovalService(store.approvals, {
    pollMs: 5,
    policy: () => policy,
    notifier: { notify: (spec, n) => void notices.push({ spec, n }), drain: async () => undefined },
  });
  const masker = createMasker({ hashKey: 'k' });
  const pipeline = createPipeline({
    tools: [tool as unknown as GovernedTool],
    connections: [{ name: 'c', type: 'probe' }],
    policy: () => policy,
    store,
    approvals,
    masking: { apply: masker.apply, scanner: (pol) => compileScanner({ detectors: pol.masking.detectors, custom: pol.masking.custom }) },
    limits: { maxInputBytes: 4096, maxResultBytes: 1 << 20, defaultTimeoutMs: 5000, defaultMaxRows: 100 },
    log: () => undefined,
  });
  const waiting = pipeline.handle({ sessionId: 's1', principal: sam, tool: 'probe', args: { connection: 'c', what: 'fix' }, signal: new AbortController().signal });
  await until(() => notices.find((x) => x.n.event === 'requested'), 5000, 'the request');
  const id = notices.find((x) => x.n.event === 'requested')!.n.approval.id;
  // The freeze lands while the call waits; then the reviewer approves.
  policy = compilePolicy(['p.yaml'], [], { 'p.yaml': `rules:\n${RULE}${FREEZE}` });
  await approvals.approve(id, dana, 'ok');
  const r = await waiting;
  assert.equal(r.isError, true);
  assert.deepEqual(ran, []);
  assert.equal((await approvals.get(id))?.state, 'voided');
  const voided = notices.filter((x) => x.n.event === 'voided');
  assert.equal(voided.length, 1, JSON.stringify(notices.map((x) => x.n.event)));
  assert.equal(voided[0]!.spec.webhook, 'https://hooks.example/dba');
  assert.equal(voided[0]!.n.approval.id, id);
  assert.equal(voided[0]!.n.approval.state, 'voided');
  const body = jsonBody(voided[0]!.n);
  assert.equal(body.event, 'voided');
  assert.match(String(body.text), /is now voided.*freeze/);
  assert.match(JSON.stringify(slackBody(voided[0]!.n)), /voided/);
});
