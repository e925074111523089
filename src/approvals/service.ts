/**
 * The approval service: the pipeline's gate (gate.ts: find or create the requests bound to the
 * exact call, one per approval the decision needs, linked as one combination; wait for reviewers
 * with progress; use them all up at once, in one store transaction, or none) and the reviewers'
 * API (list and show here, approve and deny in decide.ts). State lives in the transcript store, so
 * a CLI in another process and a restarted server see the same requests; the waiting call polls the store.
 */
import type { Principal } from '../tool-api.js';
import type { WardenError } from '../errors.js';
import type { CompiledPolicy, Decision } from '../policy/types.js';
import type { ApprovalRow, ApprovalStore } from '../recorder/index.js';
import type { ApprovalNotice, Notifier, NotifySpec } from './notifier.js';
import type { ApprovalReviewApi, ApprovalView } from './review-api.js';
import { toView } from './views.js';
import { combinedView, combinedViews } from './combination.js';
import { gate } from './gate.js';
import { giveBack } from './give-back.js';
import { requesterChain, unreadableChain } from './actors.js';
import { identitySource } from './subjects.js';
import { asSettledAt, canonicalJson } from '../recorder/index.js';
import { decide } from './decide.js';
import { decisionRefusal } from './decision-refusal.js';
import { withdrawIneligible } from './withdraw.js';
import { expireDue } from './expiry.js';
import { inFlightCalls, type CallHold, type InFlightCalls } from './in-flight.js';

/** Why the recheck refused a waiting call (GateInput.recheck). */
export interface RecheckRefusal {
  code: string;
  message: string;
  ruleIds?: string[];
}

/** What the gate receives; the pipeline's ApprovalGate uses this type (pipeline -> approvals). */
export interface GateInput {
  callId: string;
  sessionId: string;
  principal: Principal;
  tool: string;
  connection: string | null;
  canonicalArgs: Record<string, unknown>;
  /** The arguments as they would run whatever their spelling (GovernedTool.cooldownArgs): the deny cooldown's wider key; absent: canonicalArgs. */
  cooldownArgs?: Record<string, unknown>;
  /** connectionDigest of the configured connection (canonical.ts); bound with the call. */
  connectionConfig?: string | null;
  /** maskingDigest of the masks the call's result gets (canonical.ts); bound with the call, never with the deny cooldown. */
  masking?: string | null;
  decision: Decision;
  /**
   * Judge the call again under the live policy, just before its approvals are used: a reload
   * while the call waited (a freeze rule added, the grant narrowed) must not let it run on the
   * decision taken before. A refusal (with the live decision's rule ids), or null when the live
   * policy still allows it on these approvals. Refused, the approvals are voided (never used).
   * A promise when it reads something again (the connection's target, approve-call.ts).
   */
  recheck?: () => RecheckRefusal | null | Promise<RecheckRefusal | null>;
  factsSummary: string;
  signal: AbortSignal;
  progress?: (message: string, progress: number, total?: number) => void;
  /** Ask the requester; `signal` withdraws the question (the call was cancelled, or the token expired). */
  elicit?: (message: string, schema: Record<string, unknown>, signal?: AbortSignal) => Promise<{ action: string; content?: Record<string, unknown> }>;
  /** Why the client can never be asked to confirm (pipeline CallRequest.cannotElicit). */
  cannotElicit?: 'per-request';
  /**
   * When the caller's token expires (epoch seconds; pipeline CallRequest.tokenExpiresAt). Past it
   * when the approvals are granted, the call is refused (WARDEN_UNAUTHENTICATED) and they are not used.
   */
  tokenExpiresAt?: number;
}

/**
 * The gate's answer. A call that needs several approvals is granted with all of their ids
 * (`approvalIds`, in requirement order; `approvalId` is the first); a refusal names the request
 * that refused it, and "pending" the first request still waiting.
 */
/** `spent`: every request the granted call used up (its confirmation too), to give back if it never starts (give-back.ts). */
export type GateResult = { granted: true; approvalId: string; approvalIds?: string[]; spent?: string[] } | { granted: false; code: string; message: string; approvalId?: string };

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
  /**
   * A reader's service over a store opened read-only (`warden approvals list|show`): list and get
   * settle no expiry (a write); a request past its expiry is shown, and filtered, as expired, as the
   * next writer will record it, judged by the store's clock (PostgreSQL: the database's).
   */
  readOnly?: boolean;
  /**
   * Claims whose values name a person across identity sources (config `approvals.person_claims`):
   * the gate records the requester's (subjects.ts requesterNames), and a reviewer whose subject or
   * such a claim names the requester (its subject, an actor of its chain or a recorded name) is the
   * requester. Default subjects.ts DEFAULT_PERSON_CLAIMS (`email`); [] compares subjects only.
   */
  personClaims?: readonly string[];
  /** How often a call running on approvals re-reads them for a withdrawal made elsewhere (in-flight.ts IN_FLIGHT_CHECK_MS). */
  inFlightCheckMs?: number;
}

/** The service: gate for the pipeline, review API for people, status for the requester. */
export interface ApprovalService extends ApprovalReviewApi {
  gate(input: GateInput): Promise<GateResult>;
  /** Give back what a granted call spent when it was cancelled before it started (give-back.ts); the ids given back. */
  giveBack(callId: string, spent: readonly string[], why?: WardenError): Promise<string[]>;
  /** Hold a granted call while it runs: its signal aborts when an approval it used is withdrawn (in-flight.ts). */
  hold(callId: string, spent: readonly string[]): CallHold;
  /** The caller's own request (null when it does not exist or belongs to someone else). */
  statusFor(principal: Principal, id: string): Promise<ApprovalView | null>;
  /** The caller's own recent requests. */
  listFor(principal: Principal, limit?: number): Promise<ApprovalView[]>;
}

/** What the gate (gate.ts) and the decide path (decide.ts) share of one service instance. */
export interface ServiceContext {
  tables: ApprovalStore;
  opts: ApprovalServiceOptions;
  now: () => number;
  iso: (ms?: number) => string;
  pollMs: number;
  progressEveryMs: number;
  /** Notify the rule's `notify:` of `event`, whose approval_event record has `seq` (the store write's answer). */
  notify(row: ApprovalRow, event: ApprovalNotice['event'], seq: number, extra?: Partial<ApprovalNotice>, spec?: NotifySpec, view?: ApprovalView): void;
  /** A request's view with the other requests its call needs (combination.ts). */
  viewOf(row: ApprovalRow): Promise<ApprovalView>;
  /** The calls of this process running on approvals: a withdrawal stops the one it leaves short (in-flight.ts). */
  inFlight?: InFlightCalls;
}

/** Requesters a reviewer's queue shows, and pending requests of each (oldest first): 200 cards at most. */
export const QUEUE_REQUESTERS = 20;
export const QUEUE_PER_REQUESTER = 10;

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

  function notify(row: ApprovalRow, event: ApprovalNotice['event'], seq: number, extra: Partial<ApprovalNotice> = {}, spec?: NotifySpec, view: ApprovalView = toView(row)): void {
    const s = notifySpec(row.approvalRule, spec);
    if (!s || !opts.notifier) return;
    try {
      opts.notifier.notify(s, { ...extra, event, seq, approval: view, call: JSON.parse(row.canonicalCall) as unknown });
    } catch {
      /* notifications never affect the call */
    }
  }

  /** A request's view with the other requests its call needs (combination.ts). */
  const viewOf = (row: ApprovalRow): Promise<ApprovalView> => combinedView(tables, row, iso());

  // The clock a read-only reader judges expiry by: the store's when it has one (as expireDue would).
  const readerNow = async (): Promise<string> => (tables.now ? tables.now() : iso());

  const inFlight = inFlightCalls(tables, opts.inFlightCheckMs);
  const ctx: ServiceContext = { tables, opts, now, iso, pollMs, progressEveryMs, notify, viewOf, inFlight };
  const service: ApprovalService = {
    gate: (input) => gate(ctx, input),
    giveBack: (callId, spent, why) => giveBack(ctx, callId, spent, why),
    hold: (callId, spent) => inFlight.hold(callId, spent),
    async list(filter = {}) {
      if (opts.readOnly) {
        const at = await readerNow();
        return combinedViews(tables, (await tables.list({ ...filter, asOf: at })).map((r) => asSettledAt(r, at)), at);
      }
      await expireDue(ctx, iso());
      return combinedViews(tables, await tables.list(filter), iso());
    },
    async queueFor(reviewer, limit = QUEUE_REQUESTERS * QUEUE_PER_REQUESTER) {
      const q = await service.queue!(reviewer);
      return q.groups.flatMap((g) => g.entries).slice(0, limit);
    },
    // Fair and bounded (recorder/approval-queue-sql.ts): the oldest of each requester, not the newest of all.
    async queue(reviewer, filter = {}) {
      await expireDue(ctx, iso());
      const q = await tables.pendingQueue(QUEUE_PER_REQUESTER, QUEUE_REQUESTERS, filter.requester);
      const policy = opts.policy?.();
      const groups = [];
      for (const g of q.groups) {
        const views = await combinedViews(tables, g.rows, iso());
        const entries = g.rows.map((r, i) => ({
          view: views[i]!,
          refused: { approve: decisionRefusal(r, reviewer, 'approve', policy, opts.personClaims), deny: decisionRefusal(r, reviewer, 'deny', policy, opts.personClaims) },
        }));
        groups.push({ requester: g.requester, requesterAuth: g.requesterAuth, count: g.count, entries });
      }
      // In the store's order: by each requester's oldest pending request (its seq, the one order of records).
      return { total: q.total, groups, requesters: q.requesters, moreRequesters: q.moreRequesters, ...(q.requestersCapped ? { requestersCapped: true } : {}) };
    },
    async pendingIds(limit) {
      const at = opts.readOnly ? await readerNow() : iso();
      if (!opts.readOnly) await expireDue(ctx, at);
      if (tables.pendingIds) return tables.pendingIds(limit, opts.readOnly ? at : undefined);
      return (await service.list({ state: 'pending', limit })).map((v) => v.id);
    },
    async get(id) {
      if (opts.readOnly) {
        const at = await readerNow();
        const r = await tables.get(id);
        return r ? combinedView(tables, asSettledAt(r, at), at) : null;
      }
      await expireDue(ctx, iso());
      const r = await tables.get(id);
      return r ? viewOf(r) : null;
    },
    approve: (id, reviewer, comment) => decide(ctx, id, reviewer, 'approve', comment),
    deny: (id, reviewer, comment) => decide(ctx, id, reviewer, 'deny', comment),
    withdrawIneligible: async (reviewer) => (await withdrawIneligible(ctx, reviewer)).map((w) => w.id),
    // The caller's own requests: the same subject, the same identity source and the same actor
    // chain, exactly as the gate's `fits` takes a request up (a stdio subject and an OIDC subject
    // spelled alike are two principals; agent-x acting for alice, agent-y acting for her and alice
    // herself are three). Exact, not folded (subjects.ts): folding only ever refuses a decision,
    // and here it would show `Sam`'s requests to `sam`.
    async statusFor(principal, id) {
      await expireDue(ctx, iso());
      const r = await tables.get(id);
      return r && ownRequest(r, principal) ? viewOf(r) : null;
    },
    async listFor(principal, limit = 20) {
      await expireDue(ctx, iso());
      // A token whose act is no readable chain made no request (gate.ts) and owns none.
      if (unreadableChain(principal.claims)) return [];
      // Narrowed in the store, before the limit: an agent's requests are not crowded out by the human's.
      const filter = { requester: principal.subject, requesterAuth: identitySource(principal), requesterActors: requesterChain(principal.claims), limit };
      const mine = (await tables.list(filter)).filter((r) => ownRequest(r, principal));
      return combinedViews(tables, mine, iso());
    },
  };
  return service;
}

/**
 * Whether the principal made this request: subject, identity source and actor chain all equal. A
 * token whose `act` is no readable chain owns none: actorChain would read it as acting directly.
 */
function ownRequest(r: ApprovalRow, p: Principal): boolean {
  return !unreadableChain(p.claims) && r.requester === p.subject && r.requesterAuth === identitySource(p) && canonicalJson(r.requesterActors) === canonicalJson(requesterChain(p.claims));
}
