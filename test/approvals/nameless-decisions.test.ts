/**
 * Decisions recorded before reviewer names existed (SQLite schema v16, PostgreSQL v13) carry none,
 * so their person cannot be told apart from a later reviewer's. Found: dana, who approved a
 * 2-approval request as `00u9dana` before the upgrade, approved it again after it as
 * `dana@corp.example` and filled it alone. Now a name-less decision and the named ones are not
 * added up: the larger group counts (approval-rules.ts approvingPersons). Real SQLite store taken
 * back to the v15 shape and migrated, the service as the reviewers use it; verify replays it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createApprovalService } from '../../src/approvals/index.js';
import type { Principal } from '../../src/tool-api.js';
import { approvalRequest, tempDir } from '../recorder/fixtures.js';
import { AS_V15 } from '../recorder/signed-head-row.js';

const LATER = '2099-01-01T00:00:00.000Z';
const reviewer = (subject: string, claims: Record<string, unknown> = {}): Principal => ({ subject, groups: ['dba'], claims, authMethod: 'local' });

test('a name-less old approval and one by another name do not fill a 2-person requirement; a second named reviewer does', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const first = openSqliteStore(path);
  await first.approvals.create(approvalRequest('r1', new Date().toISOString(), { approvalsRequired: 2, expiresAt: LATER, reviewers: { groups: ['dba'] } }));
  await first.approvals.decide('r1', { reviewer: '00u9dana', decision: 'approve', comment: null, auth: 'oidc', at: new Date().toISOString() }, () => undefined);
  await first.close();
  // As a Warden before v16 left it: the decision has no names.
  const raw = new Database(path);
  raw.exec(AS_V15);
  raw.close();
  const s = openSqliteStore(path);
  t.after(() => void s.close());
  const svc = createApprovalService(s.approvals, { personClaims: ['email'] });
  // dana again, under another name: recorded, but one person may be both.
  await svc.approve('r1', reviewer('dana@corp.example'));
  const after = await s.approvals.get('r1');
  assert.equal(after?.state, 'pending', 'a name-less old approval and a second name filled the 2-person requirement');
  // A second named reviewer, distinct from the first by name: two people at least.
  await svc.approve('r1', reviewer('00u7kim', { email: 'kim@corp.example' }));
  assert.equal((await s.approvals.get('r1'))?.state, 'approved');
  const v = await s.verify();
  assert.equal(v.ok, true, JSON.stringify(v));
});

test('new decisions always record their names, [] for none: a reviewer of today with no names is a person, counted with a named one', async (t) => {
  const s = openSqliteStore(join(tempDir(t), 'n.db'));
  t.after(() => void s.close());
  await s.approvals.create(approvalRequest('r2', new Date().toISOString(), { approvalsRequired: 2, expiresAt: LATER, reviewers: { groups: ['dba'] } }));
  const svc = createApprovalService(s.approvals, { personClaims: ['email'] });
  await svc.approve('r2', reviewer('dora'));
  assert.equal(s.db.prepare(`SELECT reviewer_names FROM approval_decisions WHERE approval_id = 'r2'`).pluck().get(), '[]');
  await svc.approve('r2', reviewer('00u7kim', { email: 'kim@corp.example' }));
  assert.equal((await s.approvals.get('r2'))?.state, 'approved');
  assert.equal((await s.verify()).ok, true);
  // A forged row that turns a recorded list into NULL only counts stricter; the reverse is reported.
  s.db.prepare(`UPDATE approval_decisions SET reviewer_names = '["x@corp.example"]' WHERE approval_id = 'r2' AND reviewer = 'dora'`).run();
  const bad = await s.verify();
  assert.equal(bad.ok, false);
  assert.match(bad.firstBroken?.reason ?? '', /approval_decisions of "r2" differ/);
});
