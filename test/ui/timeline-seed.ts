/**
 * A session for the timeline's before/after comparison (timeline-reads.test.ts): ordinary calls
 * of every shape the preview cuts (long strings, long arrays, deep values, a surrogate pair and
 * hidden characters at the cut, HTML in results, a running call, an approval event), written
 * through the real store; why: the timeline must draw them exactly as it did before it read previews.
 */
import type { ApprovalStore, TranscriptStore } from '../../src/recorder/index.js';
import { approvalRequest } from '../recorder/fixtures.js';

const at = (s: number) => new Date(Date.UTC(2026, 10, 27, 9, 0, s)).toISOString();

/** Seed session `mixed` (8 calls); `big`: also calls whose results are `big` characters each. */
export async function seedMixed(store: TranscriptStore & { approvals: ApprovalStore }, big = 0, bigCalls = 0): Promise<void> {
  await store.openSession({ id: 'mixed', principal: { subject: 'agent-m', groups: ['analysts'], authMethod: 'oidc' }, client: { name: 'cli', version: '1' }, transport: 'http', startedAt: at(0) });
  const calls: Array<[string, unknown, unknown]> = [
    ['m-plain', { connection: 'shop', sql: 'SELECT 1' }, { rows: [[1]], row_count: 1 }],
    ['m-long', { connection: 'shop', sql: `SELECT '${'a'.repeat(299)}😀${'b'.repeat(2500)}'` }, { stdout: `${'x'.repeat(299)}😀tail`, note: '<b>&amp;</b>' }],
    ['m-array', { command: 'ls' }, { rows: Array.from({ length: 80 }, (_, i) => [i, `r${i}`]) }],
    ['m-deep', { x: 1 }, JSON.parse(`${'{"a":'.repeat(25)}"deep"${'}'.repeat(25)}`)],
    ['m-hidden', { sql: 'SELECT \u202Eevil\u202C, \u200B' }, { text: `${'y'.repeat(3999)}😀\u202E${'z'.repeat(100)}` }],
    ['m-wide', { sql: 'SELECT 2' }, { cols: Array.from({ length: 200 }, (_, i) => ({ [`c${i}`]: 'é'.repeat(40) })) }],
    ['m-string', { sql: 'SELECT 3' }, 'just a string result "quoted" \\ back'],
  ];
  let s = 1;
  for (const [id, args, result] of calls) {
    await store.recordIntent({ id, sessionId: 'mixed', tool: 'query_database', connection: 'shop', args, factsSummary: `summary ${id}`, facts: { big: 'f'.repeat(1000) }, decision: 'allow', ruleIds: ['r1'], policyVersion: 'v1', startedAt: at(s) });
    await store.recordOutcome(id, { status: 'ok', errorCode: null, result, masking: id === 'm-plain' ? { columns: { email: 'partial' } } : null, durationMs: s, endedAt: at(s++) });
  }
  await store.approvals.create(approvalRequest('ap-1', at(s), { callId: 'm-running', sessionId: 'mixed', expiresAt: '2099-01-01T00:00:00.000Z' }));
  await store.recordIntent({ id: 'm-running', sessionId: 'mixed', tool: 'ssh_run', connection: 'web1', args: { command: 'sleep 100' }, factsSummary: 'sleep', facts: null, decision: 'allow', ruleIds: ['slow'], policyVersion: 'v1', startedAt: at(s++) });
  for (let i = 0; i < bigCalls; i++) {
    const id = `m-big-${i}`;
    await store.recordIntent({ id, sessionId: 'mixed', tool: 'query_database', connection: 'shop', args: { sql: `SELECT big ${i}` }, factsSummary: 'SELECT', facts: null, decision: 'allow', ruleIds: ['r1'], policyVersion: 'v1', startedAt: at(s) });
    await store.recordOutcome(id, { status: 'ok', errorCode: null, result: { rows: [[`${'R'.repeat(big)}TAILMARK${i}`]] }, masking: null, durationMs: 1, endedAt: at(s++) });
  }
}
