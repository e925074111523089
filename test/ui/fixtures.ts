/** Seed data for the UI tests; why: the same masked and hostile transcripts in every UI test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import { createApprovalService } from '../../src/approvals/index.js';
import { startStandaloneUi } from '../../src/cli/ui-serve.js';
import type { Principal } from '../../src/tool-api.js';

/** A stored XSS attempt: it must render as text. */
export const XSS = `<img src=x onerror=alert(1)></script><script>alert(2)</script>`;

/** Seed sessions: agent-alpha (masked email), agent-evil (XSS), and some filler. */
export async function seedUi(store: SqliteTranscriptStore): Promise<void> {
  const t = (m: number) => new Date(Date.UTC(2026, 10, 27, 9, m)).toISOString();
  for (let i = 0; i < 12; i++) {
    await store.openSession({ id: `filler-${i}`, principal: { subject: 'agent-filler', groups: [], authMethod: 'stdio' }, client: { name: 'bot' }, transport: 'stdio', startedAt: t(i) });
    await store.recordIntent({ id: `fc-${i}`, sessionId: `filler-${i}`, tool: 'ssh_run', connection: 'web1', args: { command: 'uptime' }, factsSummary: 'uptime', facts: null, decision: 'allow', ruleIds: ['ops-read'], policyVersion: 'v1', startedAt: t(i) });
    await store.recordOutcome(`fc-${i}`, { status: 'ok', errorCode: null, result: { stdout: 'up 3 days' }, masking: null, durationMs: 5, endedAt: t(i) });
    await store.closeSession(`filler-${i}`, t(i + 1));
  }
  await store.openSession({ id: 'sess-alpha', principal: { subject: 'agent-alpha', groups: ['analysts'], authMethod: 'oidc' }, client: { name: 'claude-code', version: '2.0.1' }, transport: 'http', startedAt: t(30) });
  await store.recordIntent({ id: 'call-alpha', sessionId: 'sess-alpha', tool: 'query_database', connection: 'shop', args: { connection: 'shop', sql: 'SELECT name, email FROM users' }, factsSummary: 'SELECT public.users(name, email)', facts: null, decision: 'allow', ruleIds: ['analysts-read'], policyVersion: 'sha256:1234', startedAt: t(30) });
  await store.recordOutcome('call-alpha', {
    status: 'ok', errorCode: null,
    result: { columns: [{ name: 'name' }, { name: 'email', masked: 'partial' }], rows: [['Alice', 'a***@example.com'], ['Bob', 'b***@example.com']], row_count: 2, big: 'x'.repeat(20_000) },
    masking: { columns: { email: 'partial' } }, durationMs: 12.5, endedAt: t(30),
  });
  await store.recordIntent({ id: 'call-alpha-2', sessionId: 'sess-alpha', tool: 'query_database', connection: 'shop', args: { connection: 'shop', sql: 'DROP TABLE users' }, factsSummary: 'DROP public.users', facts: null, decision: 'deny', ruleIds: ['no-ddl'], policyVersion: 'sha256:1234', startedAt: t(31) });
  await store.recordOutcome('call-alpha-2', { status: 'denied', errorCode: 'WARDEN_DENIED', result: { error: 'denied by no-ddl' }, masking: null, durationMs: 0.4, endedAt: t(31) });
  await store.openSession({ id: 'sess-evil', principal: { subject: 'agent-evil', groups: [], authMethod: 'stdio' }, client: { name: XSS }, transport: 'stdio', startedAt: t(40) });
  await store.recordIntent({ id: 'call-evil', sessionId: 'sess-evil', tool: 'query_database', connection: 'shop', args: { sql: XSS }, factsSummary: XSS, facts: null, decision: 'allow', ruleIds: ['analysts-read'], policyVersion: 'v1', startedAt: t(40) });
  await store.recordOutcome('call-evil', { status: 'ok', errorCode: null, result: { rows: [[XSS]] }, masking: null, durationMs: 3, endedAt: t(40) });
}

/**
 * `calls` calls (50 a session) whose arguments hold 40 distinct words starting with `s` each, as
 * identifiers in SQL do: a one-letter prefix search then merges a posting list per word, the
 * costliest free-text read there is. Written through the real store (group commit).
 */
export async function seedWords(store: SqliteTranscriptStore, calls: number, perSession = 50): Promise<void> {
  const at = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
  for (let from = 0; from < calls; from += 2000) {
    const w: Promise<void>[] = [];
    for (let c = from; c < Math.min(calls, from + 2000); c++) {
      const sid = `s${Math.floor(c / perSession)}`;
      if (c % perSession === 0) w.push(store.openSession({ id: sid, principal: { subject: `agent-${c % 7}`, groups: [], authMethod: 'oidc' }, client: { name: 'bench' }, transport: 'http', startedAt: at(c) }));
      const words = Array.from({ length: 40 }, (_, k) => `s${c}x${k}`).join(' ');
      w.push(store.recordIntent({ id: `c${c}`, sessionId: sid, tool: 'query_database', connection: 'shop', args: { sql: `SELECT ${words} FROM t` }, factsSummary: 'SELECT', facts: null, decision: 'allow', ruleIds: ['r'], policyVersion: 'v1', startedAt: at(c) }));
      w.push(store.recordOutcome(`c${c}`, { status: 'ok', errorCode: null, result: { rows: [] }, masking: null, durationMs: 1, endedAt: at(c) }));
    }
    await Promise.all(w);
  }
}

/** A standalone reviewer UI on a fresh SQLite store, rita (dba) its local reviewer; closed after the test. `approvalOpts`: the approval service's (pollMs). */
export async function startReviewUi(t: { after: (fn: () => Promise<void>) => void }, approvalOpts: Parameters<typeof createApprovalService>[1] = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'warden-review-ui-'));
  const store = openSqliteStore(join(dir, 'w.db'));
  const approvals = createApprovalService(store.approvals, approvalOpts);
  const rita: Principal = { subject: 'rita', groups: ['dba'], claims: {}, authMethod: 'local' };
  const ui = await startStandaloneUi({ store, approvals, log: () => undefined, localPrincipal: rita }, { host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await ui.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, approvals, ui };
}
