/**
 * Red-team: an approval outliving the masks its result was to get. A reviewer approves a call
 * whose output the policy masks (a content detector, a column mask); a reload (or a replica of the
 * shared store with another policy) removes or loosens that mask; the approved call must not then
 * return in clear what the reviewer approved seeing masked: the retry asks anew, and a call
 * already waiting is refused with its approvals voided. A reload that leaves the masks as they
 * were runs the call on its approval, masked. Real pipeline, real SQLite store, real approval
 * service, in process, around a tool whose output holds a value the policy's custom detector masks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { z } from 'zod';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import { compilePolicy } from '../../src/policy/load.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import { compileScanner, createMasker } from '../../src/masking/index.js';
import { createApprovalService } from '../../src/approvals/index.js';
import { maskingLoosened } from '../../src/approvals/mask-terms.js';
import { maskingDigest } from '../../src/approvals/canonical.js';
import type { CompiledPolicy } from '../../src/policy/types.js';
import type { GovernedTool, Principal, ToolOutput } from '../../src/tool-api.js';
import { tempDir } from '../recorder/fixtures.js';

const SECRET = 'TKT-448812';

const RULE = (wait: string) => `
rules:
  - id: read-vault
    effect: allow
    who: { groups: [dev] }
    tool: probe
    approval: { reviewers: { groups: [ops] }, approvals: 1, expires: 30m, wait: ${wait} }
  - id: other
    effect: allow
    who: { groups: [nobody] }
    tool: probe
`;
const MASKED = (wait = '0s') => `masking:\n  custom: [{ name: ticket, pattern: 'TKT-\\d+' }]\n${RULE(wait)}`;
const policyOf = (text: string): CompiledPolicy => compilePolicy(['p.yaml'], [], { 'p.yaml': text });

const p = (subject: string, groups: string[]): Principal => ({ subject, groups, claims: {}, authMethod: 'local' });
const sam = p('sam', ['dev']);
const olga = p('olga', ['ops']);

async function setup(t: { after: (fn: () => void) => void }, first: CompiledPolicy) {
  const store = openSqliteStore(join(tempDir(t), 't.db'));
  t.after(() => void store.close());
  await store.openSession({ id: 's1', principal: { subject: 'sam', groups: sam.groups, authMethod: 'local' }, client: {}, transport: 'in-process', startedAt: new Date().toISOString() });
  const live = { policy: first };
  const ran: string[] = [];
  const tool: GovernedTool<{ connection: string; what: string }> = {
    name: 'probe', title: 'probe', description: 'prints a ticket number', connectionTypes: ['probe'],
    input: z.object({ connection: z.string(), what: z.string() }).strict(),
    annotations: {},
    parse: (input) => ({ family: 'probe', summary: `probe ${input.what}` }),
    isReadOnly: () => true,
    async execute(input): Promise<ToolOutput> {
      ran.push(input.what);
      return { kind: 'text', streams: { stdout: `the ticket is ${SECRET}` }, exitCode: 0, truncated: false };
    },
  };
  const approvals = createApprovalService(store.approvals, { pollMs: 5, policy: () => live.policy });
  const masker = createMasker({ hashKey: 'k' });
  const pipeline = createPipeline({
    tools: [tool as unknown as GovernedTool], connections: [{ name: 'c', type: 'probe' }], policy: () => live.policy, store, approvals,
    masking: { apply: masker.apply, scanner: (pol) => compileScanner({ detectors: pol.masking.detectors, custom: pol.masking.custom }) },
    limits: { maxInputBytes: 4096, maxResultBytes: 1 << 20, defaultTimeoutMs: 5000, defaultMaxRows: 100 },
    log: () => undefined,
  });
  const call = async (what: string) => {
    const r = await pipeline.handle({ sessionId: 's1', principal: sam, tool: 'probe', args: { connection: 'c', what }, signal: new AbortController().signal });
    const text = r.content.map((c) => c.text).join('\n');
    return { text, code: /^(WARDEN_[A-Z_]+)/.exec(r.content[0]?.text ?? '')?.[1] ?? null };
  };
  const pendingId = async (what: string): Promise<string> => {
    for (let i = 0; i < 400; i++) {
      const r = (await approvals.list({ state: 'pending' })).find((v) => v.summary === `probe ${what}`);
      if (r) return r.id;
      await new Promise((res) => setTimeout(res, 10));
    }
    throw new Error(`no pending request for ${what}`);
  };
  return { store, live, ran, approvals, call, pendingId };
}

test('an approval given while the result was masked does not run the call after a reload removed the mask: it asks anew', async (t) => {
  const { live, ran, approvals, call, pendingId, store } = await setup(t, policyOf(MASKED()));
  const first = await call('cat');
  assert.equal(first.code, 'WARDEN_APPROVAL_PENDING', first.text);
  const id = await pendingId('cat');
  await approvals.approve(id, olga, 'fine, the ticket numbers are masked');
  // The reload drops the detector (the same rule, reviewers and count).
  live.policy = policyOf(RULE('0s'));
  const retry = await call('cat');
  assert.doesNotMatch(retry.text, new RegExp(SECRET), 'the approval given for a masked result returned the value in clear');
  assert.equal(retry.code, 'WARDEN_APPROVAL_PENDING', retry.text);
  assert.deepEqual(ran, []);
  assert.equal((await approvals.get(id))?.state, 'approved', 'not used up by a call under other masks');
  // Back under the masks it was approved under: it runs once, masked.
  live.policy = policyOf(MASKED());
  const same = await call('cat');
  assert.equal(same.code, null, same.text);
  assert.doesNotMatch(same.text, new RegExp(SECRET));
  assert.match(same.text, /\[ticket\]|ticket/);
  assert.deepEqual(ran, ['cat']);
  assert.equal((await store.verify()).ok, true);
});

test('a call waiting for approval is refused when a reload removes the mask its result was to get; its approval is voided', async (t) => {
  const { live, ran, approvals, call, pendingId } = await setup(t, policyOf(MASKED('20s')));
  const waiting = call('less');
  const id = await pendingId('less');
  live.policy = policyOf(RULE('20s'));
  await approvals.approve(id, olga, 'fine, masked');
  const r = await waiting;
  assert.doesNotMatch(r.text, new RegExp(SECRET), 'the waiting call returned the value in clear');
  assert.equal(r.code, 'WARDEN_APPROVAL_DENIED', r.text);
  assert.match(r.text, /mask/);
  assert.deepEqual(ran, []);
  assert.equal((await approvals.get(id))?.state, 'voided');
});

test('legit: a reload that leaves the masks as they were (another rule changed) runs the approved call, masked', async (t) => {
  const { live, ran, approvals, call, pendingId } = await setup(t, policyOf(MASKED()));
  assert.equal((await call('head')).code, 'WARDEN_APPROVAL_PENDING');
  await approvals.approve(await pendingId('head'), olga);
  live.policy = policyOf(MASKED().replace('groups: [nobody]', 'groups: [somebody]'));
  const retry = await call('head');
  assert.equal(retry.code, null, retry.text);
  assert.doesNotMatch(retry.text, new RegExp(SECRET));
  assert.deepEqual(ran, ['head']);

  // And while a call waits: a reload that keeps the masks lets the approval run it.
  live.policy = policyOf(MASKED('20s'));
  const waiting = call('tail');
  const id = await pendingId('tail');
  live.policy = policyOf(MASKED('20s').replace('groups: [nobody]', 'groups: [anybody]'));
  await approvals.approve(id, olga);
  const r = await waiting;
  assert.equal(r.code, null, r.text);
  assert.doesNotMatch(r.text, new RegExp(SECRET));
  assert.deepEqual(ran, ['head', 'tail']);

  // A reload that adds masks while a call waits: it runs, masked by the live policy (tighter, not looser).
  live.policy = policyOf(RULE('20s'));
  const plain = call('more');
  const plainId = await pendingId('more');
  live.policy = policyOf(MASKED('20s'));
  await approvals.approve(plainId, olga);
  const masked = await plain;
  assert.equal(masked.code, null, masked.text);
  assert.doesNotMatch(masked.text, new RegExp(SECRET), 'masked by the live policy');
  assert.deepEqual(ran, ['head', 'tail', 'more']);
});

test('loosened masks are told by kind and count, never by column or pattern; added ones are not loosened', () => {
  const was = { columns: [{ column: 'public.users.email', strategy: 'redact' }], detectors: ['email'], custom: [{ name: 'ticket', pattern: 'TKT-\\d+' }], onDerived: 'deny' as const };
  assert.equal(maskingLoosened(was, { ...was, columns: [...was.columns, { column: 'public.users.phone', strategy: 'redact' }], detectors: ['email', 'iban'] }), null);
  assert.equal(maskingLoosened({ ...was, onDerived: 'mask' }, was), null, 'mask to deny is tighter');
  const why = maskingLoosened(was, { columns: [{ column: 'public.users.email', strategy: 'partial' }], detectors: [], custom: [{ name: 'ticket', pattern: 'TKT-\\d{6}' }], onDerived: 'mask' });
  assert.equal(why, '1 column mask(s) removed or changed; 1 detector(s) removed; 1 custom detector(s) removed or changed; on_derived: deny became mask');
  assert.doesNotMatch(why!, /email|ticket|TKT/);
  // The bound digest: the same masks in another order are the same; any change is another.
  const two = { ...was, columns: [...was.columns, { column: 'public.users.phone', strategy: 'redact' }], detectors: ['email', 'iban'] };
  assert.equal(maskingDigest(two), maskingDigest({ ...two, columns: [...two.columns].reverse(), detectors: ['iban', 'email'] }));
  assert.notEqual(maskingDigest(two), maskingDigest(was));
  assert.notEqual(maskingDigest(was), maskingDigest({ ...was, onDerived: 'mask' }));
});
