/**
 * The pipeline's gate of the approval service (service.ts): find or create the requests bound to
 * the exact call, one per approval the decision needs, linked as one combination; wait for
 * reviewers with progress; use them all up at once, in one store transaction, or none. The
 * requester's confirmation, when a rule asks for it besides reviewers, is used in that same
 * transaction, and voided when the call does not run.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, WardenError } from '../errors.js';
import type { ApprovalRequirement } from '../policy/types.js';
import { approvalRequirements, combinedTiming, requirementLabel } from '../policy/approval-terms.js';
import type { ApprovalRow, Recorded } from '../recorder/index.js';
import { canonicalJson } from '../recorder/index.js';
import { canonicalCall } from './canonical.js';
import { requesterChain, unreadableChain } from './actors.js';
import { identitySource, MAX_REQUESTER_NAME_CHARS, MAX_REQUESTER_NAMES, requesterNames } from './subjects.js';
import { confirmWithRequester, delegatedConfirmRefusal, unaskableConfirmRefusal } from './confirm.js';
import type { NotifySpec } from './notifier.js';
import { waitingLine, withCombination } from './views.js';
import { combinationIdFor } from './combination.js';
import { pendingResult, refusalOf, tokenEndMs, tokenExpiredRefusal, tokenLapsedWaiting, voidConfirmation, voidedRefusal, voidNotifier } from './gate-results.js';
import { confirmationLapsed, liveExpiresMs, ruleChanged, staleTerms } from './live-terms.js';
import { ruleHashOf } from './rule-terms.js';
import { expireDue, notifyExpired } from './expiry.js';
import { cooldownOf, cooldownRefusal, denyCooldownOf, storeClock } from './cooldown.js';
import type { GateInput, GateResult, ServiceContext } from './service.js';

/** Gate one call that the policy says needs approval. */
export async function gate(ctx: ServiceContext, input: GateInput): Promise<GateResult> {
  const { tables, now, iso, notify } = ctx;
  const needs = approvalRequirements(input.decision);
  if (!needs.length) return { granted: false, code: ErrorCode.INTERNAL, message: 'approval gate called without an approval obligation' };
  const call = canonicalCall(input.tool, input.connection, input.canonicalArgs, input.connectionConfig ?? null, input.masking ?? null);
  // The deny cooldown's key: the call as it would run (same tool, connection and other
  // arguments), so a denied call respelled is held too; whatever the masks (a denied call is not
  // asked again because a reload changed them). Approvals bind to `call` only.
  const cooldownHash = input.cooldownArgs || input.masking
    ? canonicalCall(input.tool, input.connection, input.cooldownArgs ?? input.canonicalArgs, input.connectionConfig ?? null).hash
    : call.hash;
  // Several approvals combine (policy/approval-terms.ts): every request expires with the
  // shortest matching `expires`, and the call waits the shortest matching `wait` for all.
  const timing = combinedTiming(needs);
  // Every name the requester goes by (its email...), recorded so that no reviewer so named
  // approves; a token whose names cannot all be recorded is refused before anyone is asked.
  const names = requesterNames(input.principal, ctx.opts.personClaims);
  if (typeof names === 'string') {
    return { granted: false, code: ErrorCode.DENIED, message: `approval cannot be requested: ${names}; at most ${MAX_REQUESTER_NAMES} names of at most ${MAX_REQUESTER_NAME_CHARS} characters are recorded` };
  }
  const base = {
    requester: input.principal.subject,
    requesterGroups: input.principal.groups,
    requesterAuth: identitySource(input.principal),
    requesterActors: requesterChain(input.principal.claims),
    requesterNames: names,
    tool: input.tool,
    connection: input.connection,
    canonicalCall: call.text,
    callHash: call.hash,
    cooldownHash,
    summary: input.factsSummary,
    ruleIds: input.decision.ruleIds,
    callId: input.callId,
    sessionId: input.sessionId,
  };
  // A rule with `confirm: requester` and no reviewers needs the confirmation only.
  const reviewed = needs.filter((n) => !(n.confirm === 'requester' && !n.reviewers));
  // Times the gate judges by are the store's (on PostgreSQL the database's: replicas' clocks differ).
  const clock = await storeClock(tables, now);
  // Denied a moment ago: refused for the cooldown, before anyone is asked anything (cooldown.ts).
  const cooling = reviewed.length ? await cooldownRefusal(tables, { subject: input.principal.subject, authMethod: base.requesterAuth }, { callHash: call.hash, cooldownHash }, denyCooldownOf(reviewed), clock()) : undefined;
  if (cooling) return cooling;
  // The requester confirms the call once, for every rule that asks it to (the same act).
  const confirms = needs.filter((n) => n.confirm === 'requester');
  let confirmed: GateResult | undefined;
  // With reviewers to ask too, the confirmation waits, approved, to be used with their approvals.
  let confirmation: ApprovalRow | undefined;
  if (confirms.length) {
    // An agent acting for the requester is not the requester: refused before any request or prompt.
    const delegated = delegatedConfirmRefusal(input.principal, confirms.map((n) => n.ruleId).join(', '));
    if (delegated) return delegated;
    // A client that can never be asked (per-request HTTP): refused plainly, before any request.
    const unaskable = unaskableConfirmRefusal(input, confirms.map((n) => n.ruleId).join(', '));
    if (unaskable) return unaskable;
    const made = clock();
    const row = await tables.create({
      ...base, id: randomUUID(), approvalRule: confirms.map((n) => n.ruleId).join(', '), reviewers: { subjects: [input.principal.subject] },
      approvalsRequired: 1, confirm: 'requester', createdAt: iso(made), expiresAt: iso(made + timing.expires), ttlMs: timing.expires,
    });
    // Judged by the live rules' `expires` once answered, as the reviewers' requests are.
    const lapsed = () => confirmationLapsed(row, ctx.opts.policy?.(), clock());
    confirmed = await confirmWithRequester(tables, row, input, iso, voidNotifier(ctx), !reviewed.length, lapsed);
    if (!confirmed.granted) return confirmed;
    if (reviewed.length) confirmation = row;
  }
  if (!reviewed.length) return confirmed!;
  // Every actor of the chain is a requester, and the chain binds the request: a token whose `act`
  // cannot be read as a chain is refused before any reviewer is asked (actors.ts unreadableChain;
  // a confirmation already refuses every delegated caller, confirm.ts).
  const chain = unreadableChain(input.principal.claims);
  if (chain) return { granted: false, code: ErrorCode.DENIED, message: `approval cannot be requested: ${chain}; ask the identity provider for a token-exchange token whose act is one (or call acting directly)` };
  const at = iso(clock());
  const atMs = Date.parse(at);
  await expireDue(ctx, at);
  // A combination with the confirmation is usable no longer than the confirmation is.
  const confirmedUntil = confirmation ? Date.parse(confirmation.expiresAt) : Infinity;
  const usableUntil = (r: ApprovalRow) => Math.min(Date.parse(r.expiresAt), Date.parse(r.createdAt) + timing.expires, confirmedUntil);
  // A stored request serves a requirement only when it was made by the same identity source and
  // under the approval terms the live policy asks for now (rule, reviewers, count), and is
  // younger than the combination's expiry: the same subject over stdio does not spend an OIDC
  // principal's approval, nor agent-y acting for alice one given to agent-x acting for her;
  // nor one recorded without one of its person names (the IdP changed its email: that email's
  // owner was not known as the requester); and after a reload that tightens a rule, or adds a
  // stricter one the call also matches, a request approved (or pending) under the looser terms is not enough.
  // The approving rule as it is now (rule-terms.ts): a request made under another scope of it does not serve.
  const policyNow = ctx.opts.policy?.();
  const ruleHash = (need: ApprovalRequirement) => ruleHashOf(policyNow, need.ruleId);
  const fits = (r: ApprovalRow, need: ApprovalRequirement): boolean =>
    r.requesterAuth === base.requesterAuth &&
    canonicalJson(r.requesterActors) === canonicalJson(base.requesterActors) &&
    names.every((x) => r.requesterNames.includes(x)) &&
    r.approvalRule === need.ruleId &&
    r.ruleHash === ruleHash(need) &&
    r.approvalsRequired >= need.approvals &&
    canonicalJson(r.reviewers) === canonicalJson(need.reviewers ?? {}) &&
    usableUntil(r) > atMs;
  const pick = (rows: readonly ApprovalRow[], need: ApprovalRequirement): ApprovalRow | undefined => {
    const fitting = rows.filter((r) => fits(r, need));
    return fitting.findLast((r) => r.state === 'approved') ?? fitting.findLast((r) => r.state === 'pending');
  };
  const open = await tables.openFor(base.requester, call.hash, at);
  // One request per requirement, all at once: reviewers of every rule can decide in parallel.
  // An open request that fits is taken up again; all of them share one stored combination id.
  const picks = reviewed.map((need) => ({ need, row: pick(open, need) }));
  const reused = picks.flatMap((p) => (p.row ? [p.row] : []));
  const combinationId = combinationIdFor(reused, open);
  await tables.link(reused.filter((r) => r.combinationId !== combinationId).map((r) => r.id), combinationId, input.callId, at);
  const rows: ApprovalRow[] = [];
  const created: [ApprovalRow & Recorded, ApprovalRequirement][] = [];
  for (const { need, row: reusedRow } of picks) {
    let row: ApprovalRow | undefined = reusedRow ? { ...reusedRow, combinationId } : undefined;
    if (!row) {
      // Judged again inside the write that stores it (store createUnless): an identical call of
      // this requester (another session, another replica) that made the request meanwhile is
      // waited on together, not asked twice; a denial that landed meanwhile refuses (the cooldown).
      const made = await tables.createUnless(
        {
          ...base, id: randomUUID(), approvalRule: need.ruleId, ruleHash: ruleHash(need), approvalsRequired: need.approvals, reviewers: need.reviewers ?? {},
          confirm: null, createdAt: at, expiresAt: iso(atMs + timing.expires), ttlMs: timing.expires, combinationId,
        },
        (openNow, denied, t): { reuse: ApprovalRow } | { refuse: GateResult } | null => {
          const twin = pick(openNow, need);
          if (twin) return { reuse: twin };
          const refusal = cooldownOf(denied, { callHash: call.hash }, denyCooldownOf(reviewed), Date.parse(t));
          return refusal ? { refuse: refusal } : null;
        },
      );
      if ('refuse' in made) return refusedBeforeAsking(ctx, made.refuse, created.map(([r]) => r), confirmation, iso(clock()));
      if ('reuse' in made) {
        if (made.reuse.combinationId !== combinationId) await tables.link([made.reuse.id], combinationId, input.callId, at);
        row = { ...made.reuse, combinationId };
      } else {
        created.push([made.created, need]);
        row = made.created;
      }
    }
    rows.push(row);
  }
  for (const [row, need] of created) notify(row, 'requested', row.seq, {}, need.notify as NotifySpec | undefined, withCombination(row, rows));
  const result = await wait(ctx, rows, input, call.hash, timing.wait, usableUntil, clock, confirmation);
  if (!result.granted && confirmation) await voidConfirmation(tables, confirmation, result, iso(clock()), voidNotifier(ctx));
  return result;
}

/**
 * The cooldown refused the call while its requests were being made (a denial landed after the
 * gate's first check): the ones this call already made (never announced) and its confirmation
 * are voided with that refusal, so nothing of this call waits for reviewers.
 */
async function refusedBeforeAsking(ctx: ServiceContext, refusal: GateResult, made: readonly ApprovalRow[], confirmation: ApprovalRow | undefined, at: string): Promise<GateResult> {
  if (refusal.granted) return refusal;
  const reason = { code: refusal.code, message: refusal.message, ruleIds: made.map((r) => r.approvalRule) };
  if (made.length) await ctx.tables.voidAll(made.map((r) => r.id), reason, at);
  if (confirmation) await voidConfirmation(ctx.tables, confirmation, refusal, at, voidNotifier(ctx));
  return refusal;
}

/**
 * Wait until every request is approved (then use them all up for this call), or any is denied,
 * expired or used by another call, or the combination's wait ends. `usableUntil` is a request's
 * expiry for this combination: never later than the shortest matching rule's (approval-terms.ts).
 * The store uses up the whole combination in one transaction or none of it: if one request can
 * no longer be used at that moment (it expired, or another call used it), the call is refused
 * and the others stay approved for the next attempt. The requester's `confirmation` of this call,
 * when a rule asks for one too, is used (or voided by a reload) in the same transaction.
 */
async function wait(
  ctx: ServiceContext,
  rows: ApprovalRow[],
  input: GateInput,
  callHash: string,
  waitMs: number,
  boundUntil: (r: ApprovalRow) => number,
  clock: () => number,
  confirmation?: ApprovalRow,
): Promise<GateResult> {
  const { tables, opts, iso, pollMs, progressEveryMs } = ctx;
  // Judged by the live policy's `expires` too, as a retry is: a reload that shortens a rule's
  // expiry while the call waits expires its requests for this call (WARDEN_APPROVAL_EXPIRED).
  const usableUntil = (r: ApprovalRow) => Math.min(boundUntil(r), Date.parse(r.createdAt) + liveExpiresMs(rows, opts.policy?.()));
  const notifyVoided = voidNotifier(ctx);
  const deadline = clock() + waitMs;
  // The caller's token ends the wait too (local time, as every token check reads it).
  const tokenEnd = tokenEndMs(input);
  const n = rows.length;
  const line = (r: ApprovalRow, i: number, t: number) =>
    n > 1 ? `${requirementLabel(r.approvalRule, i, n)}: ${r.state === 'approved' ? `approved (approval id ${r.id})` : waitingLine(r, t, usableUntil(r))}` : waitingLine(r, t, usableUntil(r));
  const reread = async (): Promise<ApprovalRow[]> => {
    const cur: ApprovalRow[] = [];
    for (const r of rows) {
      const c = await tables.get(r.id);
      if (!c) throw new WardenError(ErrorCode.INTERNAL, `approval request ${r.id} vanished`);
      cur.push(c);
    }
    return cur;
  };
  let lastProgress = -Infinity;
  let tick = 0;
  for (;;) {
    const t = clock();
    await expireDue(ctx, iso(t));
    const cur = await reread();
    const refused = refusalOf(cur, t, usableUntil);
    if (refused) return refused;
    // A cancelled call consumes nothing: approvals given meanwhile stay for the next attempt.
    if (input.signal.aborted) return pendingResult(cur, 'cancelled while waiting', clock(), usableUntil);
    // The requester's confirmation is judged by the live `expires` too (gate voids it on refusal).
    const unconfirmed = confirmation && confirmationLapsed(confirmation, opts.policy?.(), t);
    if (unconfirmed) return unconfirmed;
    if (cur.every((c) => c.state === 'approved')) {
      // The caller's token expired while it waited: refused, nothing used (gate-results.ts).
      const lapsed = tokenExpiredRefusal(input, rows[0]!.id);
      if (lapsed) return lapsed;
      // A reload while the call waited changed a rule's terms: approvals under the old ones do not
      // run it. Refused either way below, the approvals are voided (gate-results.ts voidedRefusal).
      const live = opts.policy?.();
      const all = confirmation ? [...cur, confirmation] : cur;
      const staleRow = cur.find((c) => staleTerms(c, live));
      if (staleRow) {
        const reason = { code: ErrorCode.APPROVAL_DENIED, message: staleTerms(staleRow, live)!, ruleIds: [staleRow.approvalRule] };
        return voidedRefusal(tables, all, reason, iso(clock()), notifyVoided, staleRow.id);
      }
      // The call itself is judged again under the live policy.
      const now = input.recheck ? await input.recheck() : null;
      if (now) return voidedRefusal(tables, all, { code: now.code, message: now.message, ruleIds: now.ruleIds ?? [] }, iso(clock()), notifyVoided);
      // The approving rule itself changed (rule-terms.ts): a widened rule does not widen these approvals.
      const widened = cur.find((c) => ruleChanged(c, live));
      if (widened) return voidedRefusal(tables, all, { code: ErrorCode.APPROVAL_DENIED, message: ruleChanged(widened, live)!, ruleIds: [widened.approvalRule] }, iso(clock()), notifyVoided, widened.id);
      const at = iso(clock());
      // Not past its (live) expiry at the moment of use either.
      const late = refusalOf(cur, Date.parse(at), usableUntil) ?? (confirmation && confirmationLapsed(confirmation, live, Date.parse(at)));
      if (late) return late;
      const binding = { callId: input.callId, callHash, requester: input.principal.subject, ...(confirmation ? { confirmation: confirmation.id } : {}) };
      const r = await tables.consumeAll(all.map((c) => c.id), binding, at);
      if (!r.used && r.expired) await notifyExpired(ctx, r.expired);
      const spent = all.map((c) => c.id);
      if (r.used) return n > 1 ? { granted: true, approvalId: rows[0]!.id, approvalIds: rows.map((x) => x.id), spent } : { granted: true, approvalId: rows[0]!.id, spent };
      // None was used: say which request refused the call, as the store found it.
      const after = await reread();
      if (confirmation && r.id === confirmation.id) {
        return { granted: false, code: ErrorCode.APPROVAL_EXPIRED, approvalId: r.id, message: `your confirmation ${r.id} could no longer be used with the approvals (${r.reason}); calling again asks anew` };
      }
      return (
        refusalOf(after, Date.parse(at), usableUntil) ?? { granted: false, code: ErrorCode.APPROVAL_DENIED, approvalId: r.id || rows[0]!.id, message: `the approvals could not be used for this call (${r.reason}); calling again asks anew` }
      );
    }
    if (Date.now() >= tokenEnd) return tokenLapsedWaiting(cur, clock(), usableUntil);
    if (t >= deadline) return pendingResult(cur, 'not decided in time', clock(), usableUntil);
    if (input.progress && t - lastProgress >= progressEveryMs) {
      lastProgress = t;
      input.progress(cur.map((c, i) => line(c, i, t)).join('; '), ++tick);
    }
    const ms = Math.max(1, Math.min(pollMs, deadline - t, tokenEnd - Date.now()));
    // Another replica's decision wakes the wait at once (LISTEN/NOTIFY); polling is the fallback.
    await (tables.changed ? tables.changed(ms, input.signal) : sleep(ms, input.signal));
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
