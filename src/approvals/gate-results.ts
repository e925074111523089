/**
 * The gate's answers when a call does not run: a refusal (a request of the combination was
 * denied, expired or used by another call, or the live policy refused the call: its requests are
 * voided) or "pending" (not decided in time, or cancelled).
 * Why a module: the wait loop and the failed use of a combination refuse with the same words.
 */
import { ErrorCode } from '../errors.js';
import { requirementLabel } from '../policy/approval-terms.js';
import type { ApprovalRow, ApprovalStore, VoidReason } from '../recorder/index.js';
import type { GateInput, GateResult, ServiceContext } from './service.js';
import { waitingLine } from './views.js';

// One request reads as before; several are named by their place and rule.
const nameOf = (r: ApprovalRow, i: number, n: number) => (n > 1 ? `approval ${r.id} (${i + 1} of ${n}, rule ${r.approvalRule})` : `approval ${r.id}`);

/**
 * The refusal of the first request (of `rows`, as just read) that can no longer be granted at
 * time `t`, or undefined; `usableUntil` is a request's expiry for this combination.
 */
export function refusalOf(rows: readonly ApprovalRow[], t: number, usableUntil: (r: ApprovalRow) => number): GateResult | undefined {
  const name = (r: ApprovalRow, i: number) => nameOf(r, i, rows.length);
  for (const [i, c] of rows.entries()) {
    if (c.state === 'denied') {
      const d = c.decisions.find((x) => x.decision === 'deny');
      return { granted: false, code: ErrorCode.APPROVAL_DENIED, approvalId: c.id, message: `${name(c, i)} was denied by ${d?.reviewer ?? 'a reviewer'}${d?.comment ? `: ${d.comment}` : ' (no comment)'}` };
    }
    if (c.state === 'expired' || ((c.state === 'pending' || c.state === 'approved') && usableUntil(c) <= t)) {
      return { granted: false, code: ErrorCode.APPROVAL_EXPIRED, approvalId: c.id, message: `${name(c, i)} expired before it was approved and used; calling again asks for a new approval` };
    }
    if (c.state === 'used') {
      return { granted: false, code: ErrorCode.APPROVAL_DENIED, approvalId: c.id, message: `${name(c, i)} was already used by another call; an approval runs one call, so calling again asks for a new approval` };
    }
  }
  return undefined;
}

/**
 * The refusal of a call the live policy refused after a reload (the gate's recheck, or a rule's
 * changed terms): the requests it waited on are voided with that reason, in one transaction, so
 * that none of them ever runs a call, even if the policy is reloaded back. Why void rather than
 * keep them: an approval given for a call the live policy refused must not wait in the store
 * for the next policy that would let it through. `approvalId` names the request that refused.
 */
export async function voidedRefusal(
  tables: ApprovalStore,
  rows: readonly ApprovalRow[],
  reason: VoidReason,
  at: string,
  notify: VoidNotify,
  approvalId = rows[0]!.id,
): Promise<GateResult> {
  const voided = new Map((await tables.voidAll(rows.map((r) => r.id), reason, at)).map((v) => [v.id, v.seq]));
  // The rule's webhook heard of the request and its approval: it hears that they ran nothing.
  for (const r of rows) {
    const seq = voided.get(r.id);
    if (seq !== undefined) notify((await tables.get(r.id)) ?? r, reason, seq);
  }
  return { granted: false, code: reason.code, approvalId, message: reason.message };
}

/**
 * The refusal of a call whose caller's token expired while it waited (GateInput.tokenExpiresAt),
 * or undefined (no expiry, or not yet past it). Checked when the approvals are granted, before any
 * is used: a call runs only on a token that still holds. Why not void them: the approval is for
 * the call, not the token; the same call with a fresh token runs on it.
 */
export function tokenExpiredRefusal(input: Pick<GateInput, 'tokenExpiresAt'>, approvalId: string): GateResult | undefined {
  if (input.tokenExpiresAt === undefined || Date.now() < input.tokenExpiresAt * 1000) return undefined;
  return {
    granted: false,
    code: ErrorCode.UNAUTHENTICATED,
    approvalId,
    message: `the token expired while the call waited for approval; nothing ran. Approval ${approvalId} stays approved: call again with the same arguments and a fresh token to run it`,
  };
}

/**
 * When the caller's token ends the wait (epoch ms), or Infinity. The same rule as the session's
 * own expiry check (server/mcp-server.ts `expired`, http-expiry.ts): at `exp`, no leeway; the
 * verifier's clock tolerance admits a token, it does not lengthen a wait on it.
 */
export function tokenEndMs(input: Pick<GateInput, 'tokenExpiresAt'>): number {
  return input.tokenExpiresAt === undefined ? Infinity : input.tokenExpiresAt * 1000;
}

/**
 * The answer of a call whose token expired while it still waited for reviewers: refused
 * (WARDEN_UNAUTHENTICATED), nothing ran, nothing used or voided. The requests stay open: approved
 * meanwhile, the same call with a fresh token runs on them.
 */
export function tokenLapsedWaiting(rows: readonly ApprovalRow[], t: number, usableUntil: (r: ApprovalRow) => number): GateResult {
  const pending = pendingResult(rows, 'the token expired while the call waited for approval; nothing ran', t, usableUntil) as Extract<GateResult, { granted: false }>;
  return { ...pending, code: ErrorCode.UNAUTHENTICATED, message: pending.message.replace(/ again with the same arguments/, ' again with the same arguments and a fresh token') };
}

/** The "pending" answer at time `t`: which requests still wait, and to call again once they are approved. */
export function pendingResult(rows: readonly ApprovalRow[], why: string, t: number, usableUntil: (r: ApprovalRow) => number): GateResult {
  const first = rows.find((r) => r.state === 'pending') ?? rows[0]!;
  const waiting = (r: ApprovalRow) => waitingLine(r, t, usableUntil(r)).replace(/ \(approval id [^)]*\)$/, '');
  if (rows.length === 1) {
    return {
      granted: false,
      code: ErrorCode.APPROVAL_PENDING,
      approvalId: first.id,
      message: `${why}: approval ${first.id} is ${waiting(first)}. Call ${first.tool} again with the same arguments once it is approved; approval_status reports its state`,
    };
  }
  const parts = rows.map((r, i) => `${requirementLabel(r.approvalRule, i, rows.length)} ${r.id} is ${r.state === 'approved' ? 'approved' : waiting(r)}`);
  return {
    granted: false,
    code: ErrorCode.APPROVAL_PENDING,
    approvalId: first.id,
    message: `${why}: this call needs ${rows.length} approvals, each its own request: ${parts.join('; ')}. Call ${first.tool} again with the same arguments once every one is approved; approval_status reports each one's state`,
  };
}

/** Sends the `voided` notice of a request whose `voided` record has `seq`. */
export type VoidNotify = (row: ApprovalRow, reason: VoidReason, seq: number) => void;

/** The `voided` notice of a request, to its rule's `notify:` (ServiceContext.notify). */
export function voidNotifier(ctx: Pick<ServiceContext, 'notify'>): VoidNotify {
  return (row, reason, seq) => ctx.notify(row, 'voided', seq, { reason });
}

/**
 * A call that needed the requester's confirmation and reviewer approvals did not run (`result`):
 * its confirmation, given for this call only, is voided with the same answer, so that it never
 * reads as used, nor waits in the store for a call it cannot serve. Already settled: left as is.
 */
export async function voidConfirmation(
  tables: ApprovalStore,
  confirmation: ApprovalRow,
  result: Extract<GateResult, { granted: false }>,
  at: string,
  notify: VoidNotify,
): Promise<void> {
  const reason: VoidReason = { code: result.code, message: result.message, ruleIds: confirmation.approvalRule.split(', ') };
  const [voided] = await tables.voidAll([confirmation.id], reason, at);
  if (voided) notify((await tables.get(confirmation.id)) ?? confirmation, reason, voided.seq);
}
