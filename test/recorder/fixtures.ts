/** Shared test data for the recorder tests; why: one realistic session shape everywhere. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallIntent, CallOutcome, SessionStart } from '../../src/recorder/types.js';
import type { NewApproval } from '../../src/recorder/approval-store.js';

/** A temp dir removed after the test. */
export function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-recorder-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A session as the server would open it. */
export function session(id: string, subject = 'alice', startedAt = '2026-11-27T10:00:00.000Z'): SessionStart {
  return {
    id,
    principal: { subject, groups: ['agents', 'dba'], authMethod: 'oidc' },
    client: { name: 'claude-code', version: '2.0.1' },
    transport: 'stdio',
    startedAt,
  };
}

/** A call intent with nested args and facts (key order deliberately unsorted). */
export function intent(id: string, sessionId: string, tool = 'query_database', startedAt = '2026-11-27T10:00:01.000Z'): CallIntent {
  return {
    id,
    sessionId,
    tool,
    connection: 'analytics',
    args: { sql: 'SELECT id, email FROM users LIMIT 2', connection: 'analytics', options: { z: 1, a: [3, { y: 2, b: 1 }] } },
    factsSummary: 'SELECT users(id, email)',
    facts: { statements: [{ kind: 'select', tables: ['users'] }] },
    decision: 'allow',
    ruleIds: ['analysts-read'],
    policyVersion: 'sha256:abc',
    startedAt,
  };
}

/** An ok outcome with a masked result. */
export function outcome(endedAt = '2026-11-27T10:00:01.120Z'): CallOutcome {
  return {
    status: 'ok',
    errorCode: null,
    result: { columns: ['id', 'email'], rows: [[1, '***'], [2, '***']] },
    masking: { columns: { email: 'email' }, counts: { email: 2 } },
    durationMs: 120,
    endedAt,
  };
}

/** A pending approval request for an UPDATE, in session s1 unless `over` says otherwise. */
export function approvalRequest(id: string, createdAt = '2026-11-28T10:00:00.000Z', over: Partial<NewApproval> = {}): NewApproval {
  return {
    id, requester: 'ana', requesterGroups: ['analysts'], requesterAuth: 'oidc', tool: 'query_database', connection: 'shop',
    canonicalCall: '{"sql":"UPDATE orders SET total = 1"}', callHash: `h-${id}`, summary: 'update public.orders', ruleIds: ['fixes'],
    approvalRule: 'fixes', approvalsRequired: 1, reviewers: { groups: ['dba'] }, confirm: null, callId: `call-${id}`, sessionId: 's1',
    createdAt, expiresAt: '2026-11-28T12:00:00.000Z', ...over,
  };
}

/**
 * Undo the PostgreSQL migrations from v7 on (v7, v8: rate-limit counters, liveness marks; v9: the
 * voided approval state, whose CHECK v9 replaces anyway), for tests that rebuild an older database.
 */
export const PG_UNDO_V7 = 'DROP TABLE rate_usage, rate_inflight, rate_buckets, liveness_marks; DROP FUNCTION warden_rate_admit, warden_rate_take, warden_rate_release_dead, warden_rate_lock, warden_rate_now, warden_owner_dead; ALTER TABLE approvals DROP COLUMN voided_reason;';
