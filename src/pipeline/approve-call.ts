/**
 * The approve stage (stages.ts): the approvals a decision needs, asked of the approval service
 * (gate.ts), bound to the call as it would run, its connection's target and its masks; a reload
 * while the call waits is judged anew before its approvals are used.
 */
import { ErrorCode, WardenError } from '../errors.js';
import { approvalRequirements } from '../policy/approval-terms.js';
import { connectionDigest, maskingDigest } from '../approvals/canonical.js';
import { maskingLoosened } from '../approvals/mask-terms.js';
import type { CompiledPolicy, Decision } from '../policy/types.js';
import type { CallState } from './call-state.js';
import { decideUnder, missingApprovals } from './decide-call.js';
import type { PipelineDeps } from './types.js';

/** Gate the call on every approval its decision needs; the live policy's decision and grants replace the call's when a reload was judged. */
export async function approveCall(deps: PipelineDeps, s: CallState): Promise<void> {
  // Every approval the decision needs (one per matching approval rule); the gate grants all or none.
  const needs = approvalRequirements(s.decision!);
  if (!needs.length) return;
  if (!deps.approvals) {
    const ids = needs.map((n) => n.ruleId);
    throw new WardenError(ErrorCode.DENIED, `rule ${ids.join(', ')} requires approval, and no approval service is configured`, { ruleIds: ids });
  }
  const canonicalArgs = s.tool!.canonicalArgs?.(s.input!, s.facts!) ?? s.input!;
  // The call as it would run whatever its spelling: the deny cooldown also holds rewordings.
  const cooldownArgs = s.tool!.cooldownArgs?.(s.input!, s.facts!);
  // A reload while the call waits: judged again under the live policy before its approvals
  // are used (gate.ts), and run under that policy (its masks, its judge) when it still allows
  // on the same approvals and masks no looser (maskingChanged).
  let relive: { policy: CompiledPolicy; decision: Decision; grants?: Record<string, unknown>[] } | undefined;
  const recheckPolicy = (): { code: string; message: string; ruleIds: string[] } | null => {
    relive = undefined;
    const live = deps.policy();
    if (live === s.policy) return null;
    const d = decideUnder(live, s);
    const why = d.decision.effect === 'deny'
      ? `the policy was reloaded (version ${live.version}) while the call waited for approval, and now denies it: ${d.decision.reason}`
      : (missingApprovals(needs, approvalRequirements(d.decision)) ?? maskingChanged(s.policy, live));
    // Kept either way: a refusal names the live rules and policy version that refused it.
    relive = { policy: live, ...d };
    return why ? { code: d.decision.effect === 'deny' ? ErrorCode.DENIED : ErrorCode.APPROVAL_DENIED, message: why, ruleIds: d.decision.ruleIds } : null;
  };
  // Where the connection's secret reference resolves (its URL's host and database), bound too:
  // only for a call that needs approval, never on the plain read path.
  const targetOf = s.connection && s.tool!.connectionTarget ? s.tool!.connectionTarget.bind(s.tool) : null;
  const target = targetOf ? await targetOf(s.connection!) : null;
  // The policy first, then the target read again just before the approvals are used: a file the
  // connection reads (a kubeconfig's CA, a token file) swapped while the call waited is another
  // target, and the approvals given for the first do not run it (voided, nothing runs).
  const recheck = async (): Promise<{ code: string; message: string; ruleIds: string[] } | null> => {
    const why = recheckPolicy();
    if (why || !targetOf) return why;
    const ruleIds = (relive?.decision ?? s.decision!).ruleIds;
    try {
      if ((await targetOf(s.connection!)) === target) return null;
    } catch (e) {
      const detail = e instanceof WardenError ? e.message : 'it could not be read';
      return { code: ErrorCode.APPROVAL_DENIED, message: `the connection's target could not be read again before the approved call ran (${detail}); nothing ran, calling again asks anew`, ruleIds };
    }
    return { code: ErrorCode.APPROVAL_DENIED, message: `the connection's target changed while the call waited for approval (a file its secret reference or kubeconfig names now reaches or trusts another server); the approvals were given for the target as it was, so nothing ran; calling again asks anew`, ruleIds };
  };
  const r = await deps.approvals.gate({
    recheck,
    callId: s.id,
    sessionId: s.req.sessionId,
    principal: s.principal!,
    tool: s.tool!.name,
    connection: s.connection?.name ?? null,
    canonicalArgs,
    ...(cooldownArgs ? { cooldownArgs } : {}),
    // The connection as configured, not only its name (approvals/canonical.ts).
    connectionConfig: connectionDigest(s.connection, target),
    // The masks its result gets: an approval given for a masked result never returns it in clear.
    masking: maskingDigest(s.policy.masking),
    decision: s.decision!,
    factsSummary: s.facts!.summary,
    signal: s.req.signal,
    progress: s.req.progress,
    elicit: s.req.elicit,
    ...(s.req.cannotElicit ? { cannotElicit: s.req.cannotElicit } : {}),
    ...(s.req.tokenExpiresAt !== undefined ? { tokenExpiresAt: s.req.tokenExpiresAt } : {}),
  });
  const now = relive as { policy: CompiledPolicy; decision: Decision; grants?: Record<string, unknown>[] } | undefined;
  if (now) {
    s.policy = now.policy;
    s.decision = now.decision;
    if (now.grants) s.grants = now.grants;
  }
  if (!r.granted) {
    throw new WardenError(r.code as (typeof ErrorCode)[keyof typeof ErrorCode], r.message, { ruleIds: s.decision!.ruleIds, ...(r.approvalId ? { approvalId: r.approvalId } : {}) });
  }
  s.spent = r.spent;
  // Held while it runs: an approval withdrawn meanwhile cancels it (approvals/in-flight.ts).
  if (r.spent?.length && deps.approvals.hold) s.hold = deps.approvals.hold(s.id, r.spent);
}

/**
 * Why a reload while the call waited loosened the masks its result gets, or null. Why refuse: its
 * approvals were given for the result as masked then (approvals/mask-terms.ts); removed or
 * loosened masks would return in clear what the reviewer approved seeing masked. Added masks run
 * it, masked by the live policy.
 */
function maskingChanged(was: CompiledPolicy, live: CompiledPolicy): string | null {
  const why = maskingLoosened(was.masking, live.masking);
  if (!why) return null;
  return `the policy was reloaded (version ${live.version}) while the call waited for approval, and it loosened the masks its result gets (${why}); the approvals were given for the result as masked before, so it was not run; calling again asks anew under the current masks`;
}
