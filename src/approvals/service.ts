/**
 * The approval service: the pipeline's gate (find or create the request bound to the exact call,
 * wait for reviewers with progress, consume once) and the reviewers' API (list, show, approve,
 * deny). State lives in the transcript store, so a CLI in another process and a restarted server
 * see the same requests; the waiting call polls the store.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, WardenError } from '../errors.js';
import type { Principal } from '../tool-api.js';
import { whoMatches } from '../policy/engine.js';
import type { CompiledPolicy, Decision } from '../policy/types.js';
import type { ApprovalRow, ApprovalStore } from '../recorder/index.js';
import { canonicalCall } from './canonical.js';
import { canonicalJson } from '../recorder/index.js';
import { sameSubject } from './subjects.js';
import { confirmWithRequester } from './confirm.js';
import type { ApprovalNotice, Notifier, NotifySpec } from './notifier.js';
import type { ApprovalReviewApi, ApprovalView } from './review-api.js';
import { reviewersLabel, toView, waitingLine } from './views.js';

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

/** The gate's answer. */
export type GateResult = { granted: true; approvalId: string } | { granted: false; code: string; message: string; approvalId?: string };

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

  function notify(row: ApprovalRow, event: ApprovalNotice['event'], extra: Partial<ApprovalNotice> = {}, spec?: NotifySpec): void {
    const s = notifySpec(row.approvalRule, spec);
    if (!s || !opts.notifier) return;
    try {
      opts.notifier.notify(s, { event, approval: toView(row), call: JSON.parse(row.canonicalCall) as unknown, ...extra });
    } catch {
      /* notifications never affect the call */
    }
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
    notify(row, 'decision', { reviewer: rv });
    if (row.state !== before?.state && (row.state === 'approved' || row.state === 'denied')) notify(row, row.state, { reviewer: rv });
    return toView(row);
  }

  function pending(row: ApprovalRow, why: string): GateResult {
    return {
      granted: false,
      code: ErrorCode.APPROVAL_PENDING,
      approvalId: row.id,
      message: `${why}: approval ${row.id} is ${waitingLine(row, now()).replace(/ \(approval id [^)]*\)$/, '')}. Call ${row.tool} again with the same arguments once it is approved; approval_status reports its state`,
    };
  }

  async function wait(row: ApprovalRow, input: GateInput, waitMs: number): Promise<GateResult> {
    const deadline = now() + waitMs;
    let lastProgress = -Infinity;
    let tick = 0;
    for (;;) {
      const t = now();
      await tables.expireDue(iso(t));
      const cur = await tables.get(row.id);
      if (!cur) throw new WardenError(ErrorCode.INTERNAL, `approval request ${row.id} vanished`);
      switch (cur.state) {
        case 'approved':
          if (await tables.consume(cur.id, input.callId, iso())) return { granted: true, approvalId: cur.id };
          continue;
        case 'denied': {
          const d = cur.decisions.find((x) => x.decision === 'deny');
          return {
            granted: false,
            code: ErrorCode.APPROVAL_DENIED,
            approvalId: cur.id,
            message: `approval ${cur.id} was denied by ${d?.reviewer ?? 'a reviewer'}${d?.comment ? `: ${d.comment}` : ' (no comment)'}`,
          };
        }
        case 'expired':
          return { granted: false, code: ErrorCode.APPROVAL_EXPIRED, approvalId: cur.id, message: `approval ${cur.id} expired before it was approved and used; calling again asks for a new approval` };
        case 'used':
          return { granted: false, code: ErrorCode.APPROVAL_DENIED, approvalId: cur.id, message: `approval ${cur.id} was already used by another call; an approval runs one call, so calling again asks for a new approval` };
        default:
          break;
      }
      if (input.signal.aborted) return pending(cur, 'cancelled while waiting');
      if (t >= deadline) return pending(cur, 'not decided in time');
      if (input.progress && t - lastProgress >= progressEveryMs) {
        lastProgress = t;
        input.progress(waitingLine(cur, t), ++tick);
      }
      const ms = Math.max(1, Math.min(pollMs, deadline - t));
      // Another replica's decision wakes the wait at once (LISTEN/NOTIFY); polling is the fallback.
      await (tables.changed ? tables.changed(ms, input.signal) : sleep(ms, input.signal));
    }
  }

  const service: ApprovalService = {
    async gate(input) {
      const need = input.decision.approval;
      if (!need) return { granted: false, code: ErrorCode.INTERNAL, message: 'approval gate called without an approval obligation' };
      const call = canonicalCall(input.tool, input.connection, input.canonicalArgs);
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
        approvalRule: need.ruleId,
        approvalsRequired: need.approvals,
        callId: input.callId,
        sessionId: input.sessionId,
      };
      if (need.confirm === 'requester') {
        const created = iso();
        const row = await tables.create({ ...base, id: randomUUID(), reviewers: { subjects: [input.principal.subject] }, approvalsRequired: 1, confirm: 'requester', createdAt: created, expiresAt: iso(now() + need.expires) });
        const r = await confirmWithRequester(tables, row, input, iso);
        if (!r.granted || !need.reviewers) return r;
      }
      const at = iso();
      await tables.expireDue(at);
      // A stored request serves this call only when it was made by the same identity source and
      // under the approval terms the live policy asks for now (rule, reviewers, count): the same
      // subject over stdio does not spend an OIDC principal's approval, and after a reload that
      // tightens a rule, a request approved (or pending) under the looser terms is not enough.
      const reviewersNow = canonicalJson(need.reviewers ?? {});
      const fits = (r: ApprovalRow | null): r is ApprovalRow =>
        r !== null &&
        r.requesterAuth === input.principal.authMethod &&
        r.approvalRule === need.ruleId &&
        r.approvalsRequired >= need.approvals &&
        canonicalJson(r.reviewers) === reviewersNow;
      const ready = await tables.findFor(base.requester, call.hash, 'approved', at);
      if (fits(ready) && await tables.consume(ready.id, input.callId, at)) return { granted: true, approvalId: ready.id };
      let row = await tables.findFor(base.requester, call.hash, 'pending', at);
      if (!fits(row)) {
        row = await tables.create({ ...base, id: randomUUID(), reviewers: need.reviewers ?? {}, confirm: null, createdAt: at, expiresAt: iso(Date.parse(at) + need.expires) });
        notify(row, 'requested', {}, need.notify as NotifySpec | undefined);
      }
      return wait(row, input, need.wait);
    },
    async list(filter = {}) {
      await tables.expireDue(iso());
      return (await tables.list(filter)).map(toView);
    },
    async get(id) {
      await tables.expireDue(iso());
      const r = await tables.get(id);
      return r ? toView(r) : null;
    },
    approve: (id, reviewer, comment) => decide(id, reviewer, 'approve', comment),
    deny: (id, reviewer, comment) => decide(id, reviewer, 'deny', comment),
    async statusFor(principal, id) {
      const v = await service.get(id);
      return v && v.requester === principal.subject ? v : null;
    },
    async listFor(principal, limit = 20) {
      await tables.expireDue(iso());
      return (await tables.list({ requester: principal.subject, limit })).map(toView);
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
