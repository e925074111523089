/**
 * The store's clock for the gate, and the deny cooldown. Why: after a reviewer denies a call, the
 * agent asking the identical call again at once opens a fresh request, and reviewers asked the
 * same thing over and over may click approve to make it stop. For `deny_cooldown` after a denial
 * the same requester's same call (exactly, or as it would run: reworded by whitespace, comments,
 * keyword case, quoting, the spelling of a number or a schema its name resolves to) is refused without a new request. It is read from the stored
 * denied request (so it survives a restart and holds on every replica) and judged by the store's
 * clock (on PostgreSQL the database's, which also set the denial's decided_at).
 */
import { ErrorCode } from '../errors.js';
import type { ApprovalRequirement } from '../policy/types.js';
import type { ApprovalRow, ApprovalStore } from '../recorder/index.js';
import type { GateResult } from './service.js';
import { humanDuration } from './views.js';

/** The cooldown of a rule that does not name one: 5 minutes. */
export const DEFAULT_DENY_COOLDOWN_MS = 5 * 60_000;

/** The combination's cooldown: the longest of its requirements' (fail closed, like the other terms). */
export function denyCooldownOf(needs: readonly ApprovalRequirement[]): number {
  return Math.max(0, ...needs.map((n) => n.deny_cooldown ?? DEFAULT_DENY_COOLDOWN_MS));
}

/**
 * A clock reading the store's time: the caller's `now` shifted by the store's offset, measured
 * once (one round trip per gate, not per poll). A store without its own clock (SQLite) is `now`.
 */
export async function storeClock(tables: ApprovalStore, now: () => number): Promise<() => number> {
  if (!tables.now) return now;
  const before = now();
  const at = Date.parse(await tables.now());
  const offset = at - Math.round((before + now()) / 2);
  return () => now() + offset;
}

/**
 * The refusal of a call still cooling down after a denial of this requester's same call at `t`, or
 * undefined. The requester is the subject and its identity source (subjects.ts identitySource: `oidc:` with the issuer), as in the gate:
 * another principal spelled alike is neither held back nor told the reviewer's comment. The same
 * call is the exact one (`callHash`) or the one that would run alike (`cooldownHash`: the same
 * statement or command line up to whitespace, comments, keyword case and quoting); requests stored
 * before the cooldown hash existed are matched by their exact hash only.
 */
export async function cooldownRefusal(
  tables: ApprovalStore,
  requester: { subject: string; authMethod: string },
  call: { callHash: string; cooldownHash: string },
  cooldownMs: number,
  t: number,
): Promise<GateResult | undefined> {
  if (cooldownMs <= 0) return undefined;
  return cooldownOf(await tables.lastDenied(requester.subject, requester.authMethod, call.callHash, call.cooldownHash), call, cooldownMs, t);
}

/**
 * The cooldown refusal of `denied` (this requester's last denial of the call, as lastDenied finds
 * it) at time `t`, or undefined. Why apart: the gate judges it again inside the store's write that
 * makes a new request (store createUnless), so a denial landing after the first check still holds.
 */
export function cooldownOf(denied: ApprovalRow | null, call: { callHash: string }, cooldownMs: number, t: number): GateResult | undefined {
  if (cooldownMs <= 0 || !denied?.decidedAt) return undefined;
  const retryAt = Date.parse(denied.decidedAt) + cooldownMs;
  if (!(retryAt > t)) return undefined;
  const d = denied.decisions.find((x) => x.decision === 'deny');
  const by = d ? `${d.reviewer}${d.comment ? `: ${d.comment}` : ' (no comment)'}` : 'a reviewer';
  const which = denied.callHash === call.callHash ? 'this same call' : 'a call that is the same as this one up to whitespace/comments/case, quoting, params, the spelling of numbers and a resolved schema';
  return {
    granted: false,
    code: ErrorCode.APPROVAL_DENIED,
    approvalId: denied.id,
    message:
      `approval ${denied.id} for ${which} was denied by ${by}; the same call is not asked again until ${new Date(retryAt).toISOString()} ` +
      `(in ${humanDuration(retryAt - t)}, the rule's deny_cooldown). Change the call, or ask the reviewers directly`,
  };
}
