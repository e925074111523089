/**
 * An approval binds the connection as configured, not only its name: a request approved for a
 * call on connection `c` while `c` pointed at staging must not run the same call after a config
 * change (a restart, another replica on the shared store) points `c` at production. Driven
 * through the real pipeline, a real SQLite store and the real approval service.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { z } from 'zod';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import { compilePolicy } from '../../src/policy/load.js';
import { openSqliteStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import { compileScanner, createMasker } from '../../src/masking/index.js';
import { createApprovalService, type ApprovalService } from '../../src/approvals/index.js';
import type { ConnectionConfig, GovernedTool, Principal, ToolOutput } from '../../src/tool-api.js';
import { tempDir } from '../recorder/fixtures.js';

const POLICY = `
rules:
  - id: fix
    effect: allow
    who: { groups: [dev] }
    tool: probe
    approval: { reviewers: { groups: [ops] }, approvals: 1, expires: 30m, wait: 0s }
`;

const p = (subject: string, groups: string[]): Principal => ({ subject, groups, claims: {}, authMethod: 'local' });
const sam = p('sam', ['dev']);
const olga = p('olga', ['ops']);

/** One server process over the shared store, with its own view of connection `c`. */
function server(store: SqliteTranscriptStore, approvals: ApprovalService, conn: ConnectionConfig, ran: string[]) {
  const tool: GovernedTool<{ connection: string; what: string }> = {
    name: 'probe', title: 'probe', description: 'records where it ran', connectionTypes: ['probe'],
    input: z.object({ connection: z.string(), what: z.string() }).strict(),
    annotations: {},
    parse: (input) => ({ family: 'probe', summary: `probe ${input.what}` }),
    isReadOnly: () => false,
    async execute(input, _facts, ctx): Promise<ToolOutput> {
      ran.push(`${input.what}@${String(ctx.connection?.target)}`);
      return { kind: 'text', streams: { stdout: 'done' }, exitCode: 0, truncated: false };
    },
  };
  const policy = compilePolicy(['p.yaml'], [], { 'p.yaml': POLICY });
  const masker = createMasker({ hashKey: 'k' });
  const pipeline = createPipeline({
    tools: [tool as unknown as GovernedTool], connections: [conn], policy: () => policy, store, approvals,
    masking: { apply: masker.apply, scanner: (pol) => compileScanner({ detectors: pol.masking.detectors, custom: pol.masking.custom }) },
    limits: { maxInputBytes: 4096, maxResultBytes: 1 << 20, defaultTimeoutMs: 5000, defaultMaxRows: 100 },
    log: () => undefined,
  });
  return async (what: string) => {
    const r = await pipeline.handle({ sessionId: 's1', principal: sam, tool: 'probe', args: { connection: 'c', what }, signal: new AbortController().signal });
    return { text: r.content.map((c) => c.text).join('\n'), code: /^(WARDEN_[A-Z_]+)/.exec(r.content[0]?.text ?? '')?.[1] ?? null };
  };
}

test('an approval given while a connection pointed elsewhere does not run the call after its config changed', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 't.db'));
  t.after(() => void store.close());
  await store.openSession({ id: 's1', principal: { subject: 'sam', groups: sam.groups, authMethod: 'local' }, client: {}, transport: 'in-process', startedAt: new Date().toISOString() });
  const approvals = createApprovalService(store.approvals, { pollMs: 5 });
  const ran: string[] = [];
  const staging = server(store, approvals, { name: 'c', type: 'probe', target: 'env:STAGING_URL' }, ran);
  const prod = server(store, approvals, { name: 'c', type: 'probe', target: 'env:PROD_URL' }, ran);

  const first = await staging('wipe');
  assert.equal(first.code, 'WARDEN_APPROVAL_PENDING', first.text);
  const [req] = await approvals.list({ state: 'pending' });
  await approvals.approve(req!.id, olga, 'staging is fine');

  const moved = await prod('wipe');
  assert.equal(moved.code, 'WARDEN_APPROVAL_PENDING', moved.text);
  assert.deepEqual(ran, [], 'the staging approval ran the call on the reconfigured connection');
  assert.equal((await approvals.get(req!.id))?.state, 'approved', 'not used up by the other configuration');

  const same = await staging('wipe');
  assert.equal(same.code, null, same.text);
  assert.deepEqual(ran, ['wipe@env:STAGING_URL']);
});
