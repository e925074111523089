/**
 * A requester is bound by its subject AND the OIDC issuer that vouched for it, not by `oidc`
 * alone. Found: with the issuer changed (a restart trusting another IdP, or a replica of the
 * shared store configured with another one), the same `sub` minted by the other issuer spent the
 * approval given to the first one's principal, saw its requests in approval_status and was held
 * back by (and told the comment of) its denial. Requests recorded before the binding (auth `oidc`)
 * match no principal now (fail closed: the call asks again). Two real local issuers, the real
 * verifier, one SQLite store read by two approval services (a restart).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { openSqliteStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import { createApprovalService, type ApprovalService } from '../../src/approvals/index.js';
import type { Principal } from '../../src/tool-api.js';
import type { OidcIssuer } from '../support/oidc-issuer.js';
import { tempDir } from '../recorder/fixtures.js';
import { FIX_DECISION, principalOf, twoIssuers } from './support.js';

const decision = FIX_DECISION;

let a: OidcIssuer;
let b: OidcIssuer;

twoIssuers((x, y) => ((a = x), (b = y)));

const as = principalOf;

function gate(svc: ApprovalService, principal: Principal, sql: string) {
  return svc.gate({
    callId: `call-${Math.random()}`, sessionId: 's1', principal, tool: 'query_database', connection: 'shop',
    canonicalArgs: { connection: 'shop', sql }, decision, factsSummary: sql, signal: new AbortController().signal,
  }) as Promise<{ granted: boolean; code?: string; approvalId?: string; message?: string }>;
}

function setup(t: { after(fn: () => Promise<void>): void }): { path: string; open(): { store: SqliteTranscriptStore; svc: ApprovalService } } {
  const path = join(tempDir(t as never), 'w.db');
  return {
    path,
    open() {
      const store = openSqliteStore(path);
      t.after(() => store.close().catch(() => undefined));
      return { store, svc: createApprovalService(store.approvals, { pollMs: 5 }) };
    },
  };
}

test("the same sub from another issuer does not spend, see or list the first issuer's approved request", async (t) => {
  const s = setup(t);
  const before = s.open().svc; // Warden trusting issuer A
  const samA = await as(a, { sub: 'sam', groups: ['sre'] });
  const first = await gate(before, samA, 'UPDATE orders SET total = 0');
  assert.equal(first.code, 'WARDEN_APPROVAL_PENDING');
  await before.approve(first.approvalId!, await as(a, { sub: 'dana', groups: ['dba'] }));

  const afterRestart = s.open().svc; // restarted trusting issuer B
  const samB = await as(b, { sub: 'sam', groups: ['sre'] });
  assert.equal(await afterRestart.statusFor(samB, first.approvalId!), null, "issuer B's sam sees issuer A's request");
  assert.deepEqual((await afterRestart.listFor(samB)).map((v) => v.id), [], "issuer B's sam lists issuer A's request");
  const other = await gate(afterRestart, samB, 'UPDATE orders SET total = 0');
  assert.equal(other.granted, false, "issuer B's sam ran the call on the approval given to issuer A's sam");
  assert.equal(other.code, 'WARDEN_APPROVAL_PENDING');
  assert.notEqual(other.approvalId, first.approvalId);
  // Issuer A's sam still has it.
  assert.ok(await afterRestart.statusFor(samA, first.approvalId!));
  assert.equal((await gate(afterRestart, samA, 'UPDATE orders SET total = 0')).granted, true);
});

test("a denial of issuer A's sam does not hold back (nor tell its comment to) issuer B's sam", async (t) => {
  const svc = setup(t).open().svc;
  const samA = await as(a, { sub: 'sam', groups: ['sre'] });
  const r = await gate(svc, samA, 'DELETE FROM orders');
  await svc.deny(r.approvalId!, await as(a, { sub: 'dana', groups: ['dba'] }), 'secret reason');
  assert.equal((await gate(svc, samA, 'DELETE FROM orders')).code, 'WARDEN_APPROVAL_DENIED');
  const b1 = await gate(svc, await as(b, { sub: 'sam', groups: ['sre'] }), 'DELETE FROM orders');
  assert.equal(b1.code, 'WARDEN_APPROVAL_PENDING', b1.message);
});

test('a request recorded before the issuer was bound (auth `oidc`) is matched by no principal: the call asks again', async (t) => {
  const s = setup(t);
  const { svc } = s.open();
  const samA = await as(a, { sub: 'sam', groups: ['sre'] });
  const r = await gate(svc, samA, 'UPDATE legacy');
  await svc.approve(r.approvalId!, await as(a, { sub: 'dana', groups: ['dba'] }));
  const db = new Database(s.path);
  db.prepare("UPDATE approvals SET requester_auth = 'oidc' WHERE id = ?").run(r.approvalId);
  db.close();
  for (const p of [samA, await as(b, { sub: 'sam', groups: ['sre'] })]) {
    assert.equal(await svc.statusFor(p, r.approvalId!), null);
    const again = await gate(svc, p, 'UPDATE legacy');
    assert.equal(again.granted, false);
    assert.notEqual(again.approvalId, r.approvalId);
  }
});

test('the reviewer\'s decision records the issuer; "own request" still refuses the same sub from any issuer', async (t) => {
  const svc = setup(t).open().svc;
  const r = await gate(svc, await as(a, { sub: 'sam', groups: ['sre', 'dba'] }), 'UPDATE own');
  await assert.rejects(svc.approve(r.approvalId!, await as(b, { sub: 'sam', groups: ['dba'] })), /requested this call/);
  const v = await svc.approve(r.approvalId!, await as(b, { sub: 'dana', groups: ['dba'] }));
  assert.equal(v.decisions[0]?.auth, `oidc:${b.issuer}`);
});

test("another issuer's same-named reviewer, out of the reviewers' group, withdraws nothing of the first one's approvals", async (t) => {
  const s = setup(t);
  const svc = s.open().svc;
  const samA = await as(a, { sub: 'sam', groups: ['sre'] });
  const first = await gate(svc, samA, 'UPDATE orders SET total = 1');
  await svc.approve(first.approvalId!, await as(a, { sub: 'dana', groups: ['dba'] }));
  assert.equal((await svc.statusFor(samA, first.approvalId!))?.state, 'approved');
  // Issuer B's dana is someone else: her token without dba says nothing of issuer A's dana.
  assert.deepEqual(await svc.withdrawIneligible!(await as(b, { sub: 'dana', groups: [] })), []);
  assert.equal((await svc.statusFor(samA, first.approvalId!))?.state, 'approved');
  // Issuer A's dana out of dba: her approval is withdrawn, as before.
  assert.deepEqual(await svc.withdrawIneligible!(await as(a, { sub: 'dana', groups: [] })), [first.approvalId]);
  assert.equal((await svc.statusFor(samA, first.approvalId!))?.state, 'pending');
});
