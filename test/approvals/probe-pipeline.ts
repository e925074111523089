/**
 * The real pipeline, a real SQLite store and the real approval service around a `probe` tool that
 * records that it ran, in process: for approval tests that swap or compare policies. Notices the
 * service would send to webhooks are kept in `notices`.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import { compileScanner, createMasker } from '../../src/masking/index.js';
import { createApprovalService, type ApprovalNotice, type NotifySpec } from '../../src/approvals/index.js';
import type { CompiledPolicy } from '../../src/policy/types.js';
import type { GovernedTool, Principal, ToolOutput } from '../../src/tool-api.js';
import { tempDir } from '../recorder/fixtures.js';

/** Set up the pipeline for `requester` under the live `policy()`; closed with the test. */
export async function probePipeline(t: { after: (fn: () => void) => void }, policy: () => CompiledPolicy, requester: Principal) {
  const store = openSqliteStore(join(tempDir(t), 't.db'));
  t.after(() => void store.close());
  await store.openSession({ id: 's1', principal: { subject: requester.subject, groups: requester.groups, authMethod: 'local' }, client: {}, transport: 'in-process', startedAt: new Date().toISOString() });
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
  const notices: { spec: NotifySpec; n: ApprovalNotice }[] = [];
  const approvals = createApprovalService(store.approvals, {
    pollMs: 5,
    policy,
    notifier: { notify: (spec, n) => void notices.push({ spec, n }), drain: async () => undefined },
  });
  const masker = createMasker({ hashKey: 'k' });
  const pipeline = createPipeline({
    tools: [tool as unknown as GovernedTool],
    connections: [{ name: 'c', type: 'probe' }],
    policy,
    store,
    approvals,
    masking: { apply: masker.apply, scanner: (pol) => compileScanner({ detectors: pol.masking.detectors, custom: pol.masking.custom }) },
    limits: { maxInputBytes: 4096, maxResultBytes: 1 << 20, defaultTimeoutMs: 5000, defaultMaxRows: 100 },
    log: () => undefined,
  });
  /** One probe call by the requester. */
  const call = (what: string, signal = new AbortController().signal) => pipeline.handle({ sessionId: 's1', principal: requester, tool: 'probe', args: { connection: 'c', what }, signal });
  return { store, ran, notices, approvals, pipeline, call, tool: tool as unknown as GovernedTool };
}
