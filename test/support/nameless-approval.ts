/**
 * A SQLite store holding one approval request (2 approvals by `dba`, requested by ana over `local`)
 * with one approval given before reviewer names were recorded: `00u9dana` approved it, then the
 * store was taken back to the v15 shape (its decision has no names), migrated on the next open.
 * Why: every surface that counts approvals is tested on the request the gate counts as 1 of 2.
 */
import Database from 'better-sqlite3';
import { openSqliteStore, type NewApproval } from '../../src/recorder/index.js';
import { canonicalCall } from '../../src/approvals/index.js';
import { approvalRequest } from '../recorder/fixtures.js';
import { AS_V15 } from '../recorder/signed-head-row.js';

/** The approving rule the request names, as a policy file (a live rule with the same terms: not stale). */
export const NAMELESS_RULE_YAML = `rules:
  - id: fixes
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    approval: { reviewers: { groups: [dba] }, approvals: 2, expires: 30m }
`;

/** Make request `id` at `path` (the store must not be open); `over` changes the request. */
export async function seedNamelessApproval(path: string, id = 'r1', over: Partial<NewApproval> = {}): Promise<void> {
  const call = canonicalCall('query_database', 'shop', { connection: 'shop', sql: 'UPDATE orders SET total = 1 WHERE id = 7' });
  const s = openSqliteStore(path);
  try {
    await s.approvals.create(approvalRequest(id, new Date().toISOString(), {
      requesterAuth: 'local', canonicalCall: call.text, callHash: call.hash, approvalsRequired: 2, expiresAt: '2999-01-01T00:00:00.000Z', reviewers: { groups: ['dba'] }, ...over,
    }));
    await s.approvals.decide(id, { reviewer: '00u9dana', decision: 'approve', comment: 'before the upgrade', auth: 'oidc', at: new Date().toISOString() }, () => undefined);
  } finally {
    await s.close();
  }
  const raw = new Database(path);
  try {
    raw.exec(AS_V15);
  } finally {
    raw.close();
  }
}
