/**
 * The approval service: the pipeline's gate (find or create the requests bound to the exact call,
 * one per approval the decision needs, wait for reviewers with progress, consume each once) and
 * the reviewers' API (list, show, approve, deny). State lives in the transcript store, so a CLI
 * in another process and a restarted server see the same requests; the waiting call polls the store.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, WardenError } from '../errors.js';
import type { Principal } from '../tool-api.js';
import { whoMatches } from '../policy/engine.js';
import type { ApprovalRequirement, CompiledPolicy, Decision } from '../policy/types.js';
import { approvalRequirements, combinedTiming, requirementLabel } from '../policy/approval-terms.js';
import type { ApprovalRow, ApprovalStore } from '../recorder/index.js';
import { canonicalCall } from './canonical.js';
import { canonicalJson } from '../recorder/index.js';
import { sameSubject } from './subjects.js';
import { confirmWithRequester } from './confirm.js';
import type { ApprovalNotice, Notifier, NotifySpec } from './notifier.js';
import type { ApprovalReviewApi, ApprovalView } from './review-api.js';
import { reviewersLabel, toView, waitingLine, withCombination } from './views.js';

/** What the gate receives; the pipeline's ApprovalGate uses this type (pipeline -> approvals). */
export interface GateInput {
  callId: string;
  sessionId: string;
  principal: Principal;
  tool: string;
  connection: string | null;
  canonicalArgs: Record<string, unknown>;
  decision: Decision;
  factsSummary: string;
  signal: AbortSignal;
  progress?: (message: string, progress: number, total?: number) => void;
  elicit?: (message: string, schema: Record<string, unknown>) => Promise<{ action: string; content?: Record<string, unknown> }>;
}

/**
 * The gate's answer. A call that needs several approvals is granted with all of their ids
 * (`approvalIds`, in requirement order; `approvalId` is the first); a refusal names the request
 * that refused it, and "pending" the first request still waiting.
 */
export type GateResult = { granted: true; approvalId: string; approvalIds?: string[] } | { granted: false; code: string; message: string; approvalId?: string };

/** Options; why: tests shorten polling, the runtime supplies the live policy and a notifier. */
export interface ApprovalServiceOptions {
  /** The live policy, to find a rule's `notify:` when a decision arrives (CLI, UI). */
  policy?: () => CompiledPolicy;
  notifier?: Notifier;
  /** How often a waiting call re-reads the store (another process may have decided). */
  pollMs?: number;
  /** How often a waiting call sends a progress notification. */
  progressEveryMs?: number;
  now?: () => number;
}

/** The service: gate for the pipeline, review API for people, status for the requester. */
export interface ApprovalService extends ApprovalReviewApi {
  gate(input: GateInput): Promise<GateResult>;
  /** The caller's own request (null when it does not exist or belongs to someone else). */
  statusFor(principal: Principal, id: string): Promise<ApprovalView | null>;
  /** The caller's own recent requests. */
  listFor(principal: Principal, limit?: number): Promise<ApprovalView[]>;
}

const MAX_COMMENT = 2000;
const refused = (m: string) => new WardenError(ErrorCode.DENIED, m);

/** Build the approval service over the store's approval tables. */
export function createApprovalService(tables: ApprovalStore, opts: ApprovalServiceOptions = {}): ApprovalService {
  const now = opts.now ?? Date.now;
  const iso = (ms = now()) => new Date(ms).toISOString();
  const pollMs = opts.pollMs ?? 250;
  const progressEveryMs = opts.progressEveryMs ?? 1000;

  function notifySpec(ruleId: string, given?: NotifySpec): NotifySpec | undefined {
    if (given) return given;
    return opts.policy?.().rules.find((r) => r.id === ruleId)?.approval?.notify as NotifySpec | undefined;
  }

  function notify(row: ApprovalRow, event: ApprovalNotice['event'], extra: Partial<ApprovalNotice> = {}, spec?: NotifySpec, view: ApprovalView = toView(row)): void {
    const s = notifySpec(row.approvalRule, spec);
    if (!s || !opts.notifier) return;
    try {
      opts.notifier.notify(s, { event, approval: view, call: JSON.parse(row.canonicalCall) as unknown, ...extra });
    } catch {
      /* notifications never affect the call */
    }
  }

  /**
   * A request's view with the other open requests the same call needs (one store read); a
   * request that is not open, or a failed read, shows the request alone.
   */
  async function viewOf(row: ApprovalRow, open?: ApprovalRow[]): Promise<ApprovalView> {
    if (row.confirm !== null || (row.state !== 'pending' && row.state !== 'approved')) return toView(row);
    try {
      return withCombination(row, open ?? (await tables.openFor(row.requester, row.callHash, iso())));
    } catch {
      return toView(row);
    }
  }

  /** Views of listed rows, each with its combination (one store read per open call listed). */
  async function viewsOf(rows: ApprovalRow[]): Promise<ApprovalView[]> {
    const open = new Map<string, Promise<ApprovalRow[]>>();
    return Promise.all(
      rows.map((r) => {
        if (r.confirm !== null || (r.state !== 'pending' && r.state !== 'approved')) return toView(r);
        const key = `${r.requester}\u0000${r.callHash}`;
        if (!open.has(key)) open.set(key, tables.openFor(r.requester, r.callHash, iso()));
        return open.get(key)!.then((o) => viewOf(r, o), () => toView(r));
      }),
    );
  }

  async function decide(id: string, reviewer: Principal, decision: 'approve' | 'deny', comment?: string): Promise<ApprovalView> {
    if (typeof id !== 'string' || !id) throw refused('an approval id is required');
    const at = iso();
    await tables.expireDue(at);
    const before = await tables.get(id);
    const row = await tables.decide(
      id,
      { reviewer: reviewer.subject, decision, comment: comment ? comment.slice(0, MAX_COMMENT) : null, auth: reviewer.authMethod, at },
      (r) => {
        // The store compares subjects exactly; a variant spelling of the requester or of an
        // earlier reviewer (case, width, whitespace, zero-width characters) is the same person.
        if (sameSubject(reviewer.subject, r.requester)) throw refused(`${reviewer.subject} requested this call (as ${r.requester}) and cannot approve or deny it`);
        const twice = r.decisions.find((x) => sameSubject(x.reviewer, reviewer.subject));
        if (twice) throw refused(`${reviewer.subject} has already decided on approval request ${r.id} (as ${twice.reviewer})`);
        if (!whoMatches({ who: r.reviewers }, reviewer)) throw refused(`${reviewer.subject} is not a reviewer for this request (reviewers: ${reviewersLabel(r)})`);
      },
    );
    const rv = { subject: reviewer.subject, decision, comment: comment ?? null };
    const view = await viewOf(row);
    notify(row, 'decision', { reviewer: rv }, undefined, view);
    if (row.state !== before?.state && (row.state === 'approved' || row.state === 'denied')) notify(row, row.state, { reviewer: rv }, undefined, view);
    return view;
  }

  /**
   * Wait until every request is approved (then consume each for this call), or any is denied,
   * expired or used by another call, or the combination's wait ends. `usableUntil` is a request's
   * expiry for this combination: never later than the shortest matching rule's (approval-terms.ts).
   * Consumption is one request at a time: if one can no longer be used when the others were
   * already consumed (it expired in between), the call is refused and those stay spent.
   */
  async function wait(rows: ApprovalRow[], input: GateInput, waitMs: number, usableUntil: (r: ApprovalRow) => number): Promise<GateResult> {
    const deadline = now() + waitMs;
    const n = rows.length;
    // One request reads as before; several are named by their place and rule.
    const name = (r: ApprovalRow, i: number) => (n > 1 ? `approval ${r.id} (${i + 1} of ${n}, rule ${r.approvalRule})` : `approval ${r.id}`);
    const line = (r: ApprovalRow, i: number, t: number) =>
      n > 1 ? `${requirementLabel(r.approvalRule, i, n)}: ${r.state === 'approved' ? `approved (approval id ${r.id})` : waitingLine(r, t, usableUntil(r))}` : waitingLine(r, t, usableUntil(r));
    const used = new Set<string>();
    let lastProgress = -Infinity;
    let tick = 0;
    for (;;) {
      const t = now();
      await tables.expireDue(iso(t));
      const cur: ApprovalRow[] = [];
      for (const r of rows) {
        const c = await tables.get(r.id);
        if (!c) throw new WardenError(ErrorCode.INTERNAL, `approval request ${r.id} vanished`);
        cur.push(c);
      }
      // Any request that can no longer be granted refuses the call.
      for (const [i, c] of cur.entries()) {
        if (c.state === 'denied') {
          const d = c.decisions.find((x) => x.decision === 'deny');
          return { granted: false, code: ErrorCode.APPROVAL_DENIED, approvalId: c.id, message: `${name(c, i)} was denied by ${d?.reviewer ?? 'a reviewer'}${d?.comment ? `: ${d.comment}` : ' (no comment)'}` };
        }
        if (c.state === 'expired' || ((c.state === 'pending' || c.state === 'approved') && usableUntil(c) <= t)) {
          return { granted: false, code: ErrorCode.APPROVAL_EXPIRED, approvalId: c.id, message: `${name(c, i)} expired before it was approved and used; calling again asks for a new approval` };
        }
        if (c.state === 'used' && !used.has(c.id)) {
          return { granted: false, code: ErrorCode.APPROVAL_DENIED, approvalId: c.id, message: `${name(c, i)} was already used by another call; an approval runs one call, so calling again asks for a new approval` };
        }
      }
      if (cur.every((c) => c.state === 'approved' || used.has(c.id))) {
        for (const c of cur) {
          if (used.has(c.id)) continue;
          if (!(await tables.consume(c.id, input.callId, iso()))) break;
          used.add(c.id);
        }
        if (used.size === n) return n > 1 ? { granted: true, approvalId: rows[0]!.id, approvalIds: rows.map((r) => r.id) } : { granted: true, approvalId: rows[0]!.id };
        continue;
      }
      if (input.signal.aborted) return pending(cur, 'cancelled while waiting', usableUntil);
      if (t >= deadline) return pending(cur, 'not decided in time', usableUntil);
      if (input.progress && t - lastProgress >= progressEveryMs) {
        lastProgress = t;
        input.progress(cur.map((c, i) => line(c, i, t)).join('; '), ++tick);
      }
      const ms = Math.max(1, Math.min(pollMs, deadline - t));
      // Another replica's decision wakes the wait at once (LISTEN/NOTIFY); polling is the fallback.
      await (tables.changed ? tables.changed(ms, input.signal) : sleep(ms, input.signal));
    }
  }

  function pending(rows: ApprovalRow[], why: string, usableUntil: (r: ApprovalRow) => number): GateResult {
    const t = now();
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

  const service: ApprovalService = {
    async gate(input) {
      const needs = approvalRequirements(input.decision);
      if (!needs.length) return { granted: false, code: ErrorCode.INTERNAL, message: 'approval gate called without an approval obligation' };
      const call = canonicalCall(input.tool, input.connection, input.canonicalArgs);
      // Several approvals combine (policy/approval-terms.ts): every request expires with the
      // shortest matching `expires`, and the call waits the shortest matching `wait` for all.
      const timing = combinedTiming(needs);
      const base = {
        requester: input.principal.subject,
        requesterGroups: input.principal.groups,
        requesterAuth: input.principal.authMethod,
        tool: input.tool,
        connection: input.connection,
        canonicalCall: call.text,
        callHash: call.hash,
        summary: input.factsSummary,
        ruleIds: input.decision.ruleIds,
        callId: input.callId,
        sessionId: input.sessionId,
      };
      // The requester confirms the call once, for every rule that asks it to (the same act).
      const confirms = needs.filter((n) => n.confirm === 'requester');
      let confirmed: GateResult | undefined;
      if (confirms.length) {
        const row = await tables.create({
          ...base, id: randomUUID(), approvalRule: confirms.map((n) => n.ruleId).join(', '), reviewers: { subjects: [input.principal.subject] },
          approvalsRequired: 1, confirm: 'requester', createdAt: iso(), expiresAt: iso(now() + timing.expires),
        });
        confirmed = await confirmWithRequester(tables, row, input, iso);
        if (!confirmed.granted) return confirmed;
      }
      // A rule with `confirm: requester` and no reviewers needs the confirmation only.
      const reviewed = needs.filter((n) => !(n.confirm === 'requester' && !n.reviewers));
      if (!reviewed.length) return confirmed!;
      const at = iso();
      const atMs = Date.parse(at);
      await tables.expireDue(at);
      const usableUntil = (r: ApprovalRow) => Math.min(Date.parse(r.expiresAt), Date.parse(r.createdAt) + timing.expires);
      // A stored request serves a requirement only when it was made by the same identity source and
      // under the approval terms the live policy asks for now (rule, reviewers, count), and is
      // younger than the combination's expiry: the same subject over stdio does not spend an OIDC
      // principal's approval, and after a reload that tightens a rule, or adds a stricter one the
      // call also matches, a request approved (or pending) under the looser terms is not enough.
      const fits = (r: ApprovalRow, need: ApprovalRequirement): boolean =>
        r.requesterAuth === input.principal.authMethod &&
        r.approvalRule === need.ruleId &&
        r.approvalsRequired >= need.approvals &&
        canonicalJson(r.reviewers) === canonicalJson(need.reviewers ?? {}) &&
        usableUntil(r) > atMs;
      const open = await tables.openFor(base.requester, call.hash, at);
      // One request per requirement, all at once: reviewers of every rule can decide in parallel.
      const rows: ApprovalRow[] = [];
      const created: [ApprovalRow, ApprovalRequirement][] = [];
      for (const need of reviewed) {
        const fitting = open.filter((r) => fits(r, need));
        let row = fitting.findLast((r) => r.state === 'approved') ?? fitting.findLast((r) => r.state === 'pending');
        if (!row) {
          row = await tables.create({
            ...base, id: randomUUID(), approvalRule: need.ruleId, approvalsRequired: need.approvals, reviewers: need.reviewers ?? {},
            confirm: null, createdAt: at, expiresAt: iso(atMs + timing.expires),
          });
          created.push([row, need]);
        }
        rows.push(row);
      }
      for (const [row, need] of created) notify(row, 'requested', {}, need.notify as NotifySpec | undefined, withCombination(row, rows));
      return wait(rows, input, timing.wait, usableUntil);
    },
    async list(filter = {}) {
      await tables.expireDue(iso());
      return viewsOf(await tables.list(filter));
    },
    async get(id) {
      await tables.expireDue(iso());
      const r = await tables.get(id);
      return r ? viewOf(r) : null;
    },
    approve: (id, reviewer, comment) => decide(id, reviewer, 'approve', comment),
    deny: (id, reviewer, comment) => decide(id, reviewer, 'deny', comment),
    async statusFor(principal, id) {
      const v = await service.get(id);
      return v && v.requester === principal.subject ? v : null;
    },
    async listFor(principal, limit = 20) {
      await tables.expireDue(iso());
      return viewsOf(await tables.list({ requester: principal.subject, limit }));
    },
  };
  return service;
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
