/**
 * The approval store's contract, whatever the database: the row shapes the service, CLI and UI
 * read (a table row is read into them by approval-rows.ts), and the ApprovalStore interface that the SQLite
 * (sqlite-approvals.ts) and PostgreSQL (pg-approvals.ts) stores both implement.
 */
import type { CallBinding, ConsumeRefusal } from './approval-rules.js';

/**
 * Approval states; why: one closed list shared by the schema CHECK, the service and views.
 * pending -> approved | denied | expired | voided; approved -> used | expired | voided; used -> approved, or pending when an approval was withdrawn while it was used (returned: its call was cancelled before it started). `voided`:
 * the call it waited for was refused by the live policy after a reload (approvals/gate.ts,
 * confirm.ts), so it can never run a call, whatever the policy becomes (SQLite v10, PostgreSQL v9).
 */
export type ApprovalState = 'pending' | 'approved' | 'denied' | 'expired' | 'used' | 'voided';

/** The states, in order (CLI `--state`, the schema CHECKs); why: one list, no drift. */
export const APPROVAL_STATES: readonly ApprovalState[] = ['pending', 'approved', 'denied', 'expired', 'used', 'voided'];

/** Why a request was voided: the live policy's refusal of its call (code, message, the live rule ids). */
export interface VoidReason {
  code: string;
  message: string;
  ruleIds: string[];
}

/** A stored reviewer decision. */
export interface ApprovalDecisionRow {
  reviewer: string;
  decision: 'approve' | 'deny';
  comment: string | null;
  at: string;
  auth: string;
  /**
   * The reviewer's person names (approvals/subjects.ts decisionNames: the values of its
   * `approvals.person_claims`, e.g. its email, when its subject is not one of them): a later
   * reviewer named so is the same person and does not count again. NULL in rows stored before
   * SQLite v16 / PostgreSQL v13: [] (the subject alone, as then). Never shown in views.
   */
  reviewerNames: string[];
  /**
   * Whether its names were recorded (the column holds a list, [] for a reviewer with none): false
   * for a decision stored before names existed, whose person cannot be told apart from a later
   * reviewer's (approval-rules.ts approvingPersons). Optional: absent reads as recorded.
   */
  namesRecorded?: boolean;
}

/** A stored approval request with its decisions; why: the service, CLI and UI read one shape. */
export interface ApprovalRow {
  id: string;
  state: ApprovalState;
  requester: string;
  requesterGroups: string[];
  requesterAuth: string;
  /**
   * The requester's actor chain (identity/actors.ts: `act` claims, current actor first) when an
   * agent acted for `requester` by token exchange; [] otherwise. Every one of them is a requester
   * for the no-self-approval rule. NULL in rows stored before schema v8 / PostgreSQL v5: [].
   */
  requesterActors: string[];
  /**
   * The requester's person names (approvals/subjects.ts requesterNames: the values of its
   * `approvals.person_claims`, e.g. its email, when its subject is not one of them): a reviewer
   * named so is the requester. NULL in rows stored before SQLite v15 / PostgreSQL v12: [] (the
   * subject and actors alone, as then).
   */
  requesterNames: string[];
  tool: string;
  connection: string | null;
  canonicalCall: string;
  callHash: string;
  /**
   * The deny cooldown's hash of the call as it would run (approvals/gate.ts: the same call up to
   * whitespace, comments, keyword case and quoting); never used to bind an approval. NULL in rows
   * stored before schema v9 / PostgreSQL v6: the cooldown then matches their exact callHash.
   */
  cooldownHash: string | null;
  summary: string;
  ruleIds: string[];
  approvalRule: string;
  approvalsRequired: number;
  /** The rule's `reviewers:` block as it was when the request was made. */
  reviewers: { subjects?: string[]; groups?: string[]; claims?: Record<string, string | string[]> };
  confirm: string | null;
  callId: string | null;
  sessionId: string | null;
  usedByCall: string | null;
  createdAt: string;
  expiresAt: string;
  decidedAt: string | null;
  usedAt: string | null;
  /**
   * The combination this request belongs to: every request a call waits on together shares it
   * (set when the gate makes or reuses the request). Null for confirmations and for requests
   * stored before the link existed (schema v7 / PostgreSQL v4): views then infer it.
   */
  combinationId: string | null;
  /** Why the request was voided (state `voided`); null otherwise and in rows older than SQLite v10 / PostgreSQL v9. */
  voided: VoidReason | null;
  /**
   * The canonical hash of the approving rule's scope when the request was made (approvals/rule-terms.ts);
   * null for confirmations, for requests made with no policy known, and in rows older than SQLite v17 / PostgreSQL v14.
   */
  ruleHash: string | null;
  decisions: ApprovalDecisionRow[];
}

/**
 * What a new request carries (no combination: a confirmation, or a test's lone request). With
 * `ttlMs`, the PostgreSQL store sets `createdAt` to the database's time and `expiresAt` ttlMs later
 * (pg-clock.ts); SQLite keeps the caller's times as given. `ttlMs` is also recorded on the
 * `requested` record (`expiresMs`), so verify can judge the expiry against it (approval-transitions.ts).
 */
/** What list() can narrow by; see ApprovalStore.list. */
export interface ApprovalListFilter {
  state?: ApprovalState;
  requester?: string;
  requesterAuth?: string;
  /** The exact actor chain as stored (requester_actors); [] matches rows made without delegation. */
  requesterActors?: readonly string[];
  limit?: number;
  /** Judge `state` as of this time, counting requests past their expiry as expired (approval-rules.ts stateCondition). */
  asOf?: string;
}

export type NewApproval = Omit<ApprovalRow, 'state' | 'usedByCall' | 'decidedAt' | 'usedAt' | 'decisions' | 'combinationId' | 'requesterActors' | 'requesterNames' | 'cooldownHash' | 'voided' | 'ruleHash'> & {
  combinationId?: string | null;
  ttlMs?: number;
  requesterActors?: string[];
  requesterNames?: string[];
  cooldownHash?: string | null;
  ruleHash?: string | null;
};

/**
 * The seq of the approval_event record a write appended: its place in the store's one order of
 * records (PostgreSQL: shared by every replica and CLI), which a webhook notice of that event
 * carries (approvals/notifier.ts) so that a receiver can order notices from several processes.
 */
export interface Recorded {
  seq: number;
}

/** A decision's answer: the row after it, the seq of its `decision` record and of the `approved`/`denied` record it caused (null: still pending). */
export type Decided = ApprovalRow & Recorded & { settledSeq: number | null };

/** The result of using up a combination: all of its requests, or none (with why not). */
export type ConsumeResult = { used: true } | ({ used: false } & ConsumeRefusal & { expired?: Expired[] });

/**
 * createUnless's check under the write lock: `{ reuse }` an open request instead of storing a new
 * one, `{ refuse }` (nothing stored), or null to store it. `now` is the store's time (ISO).
 */
export type CreateGuard<R> = (open: ApprovalRow[], lastDenied: ApprovalRow | null, now: string) => { reuse: ApprovalRow } | { refuse: R } | null;

/** What createUnless did: stored the request, or left it unstored as its guard said. */
export type CreateOutcome<R> = { created: ApprovalRow & Recorded } | { reuse: ApprovalRow } | { refuse: R };

/** A request this write moved to `expired`, with its `expired` record's seq (for the notice: approvals/expiry.ts). */
export type Expired = { id: string } & Recorded;


/**
 * The approval tables of any store, asynchronous; why: SQLite answers at once, PostgreSQL over
 * the network, and the approval service awaits both the same way.
 */
export interface ApprovalStore {
  get(id: string): Promise<ApprovalRow | null>;
  /**
   * Newest first, optionally by state and requester; `requesterAuth` and `requesterActors` (the
   * exact actor chain, [] for a principal acting directly) narrow to one principal before the limit.
   */
  list(f?: ApprovalListFilter): Promise<ApprovalRow[]>;
  /**
   * The ids of the newest `limit` pending requests (as of `asOf`, when given, as list's `asOf`),
   * ids only. Why: the UI's live feed checks them every second, and list() reads every row's call.
   */
  pendingIds?(limit: number, asOf?: string): Promise<string[]>;
  /**
   * The reviewers' queue (approval-queue-sql.ts): the pending total and, for the `maxRequesters`
   * requesters whose oldest pending request is oldest (only `requester`'s identity sources when
   * given), each one's pending count and oldest `perRequester` requests; `requesters`: how many
   * requesters have pending requests (of `requester`, when given).
   */
  pendingQueue(
    perRequester: number,
    maxRequesters: number,
    requester?: string,
  ): Promise<{ total: number; groups: { requester: string; requesterAuth: string; count: number; rows: ApprovalRow[] }[]; requesters: number; moreRequesters: boolean; requestersCapped?: boolean }>;
  /**
   * This requester's open (pending or approved), unexpired reviewer requests for this exact call,
   * oldest first (confirmations excluded). A call that several approval rules match has one per rule.
   */
  openFor(requester: string, callHash: string, now: string): Promise<ApprovalRow[]>;
  /** Every open (pending or approved) reviewer request holding an approve decision, oldest first, unlimited (approval-rules.ts OPEN_WITH_APPROVALS). */
  openWithApprovals(): Promise<ApprovalRow[]>;
  /** Store a new pending request; `seq` is its `requested` record's. */
  create(a: NewApproval): Promise<ApprovalRow & Recorded>;
  /**
   * Store `a` unless `guard`, run inside the write transaction (SQLite: IMMEDIATE; PostgreSQL: the
   * chain-head lock every writer of every replica takes), says otherwise on what the store holds
   * then: this requester's open, unexpired reviewer requests for the same exact call (as openFor)
   * and its last denial of it (as lastDenied, with `a.cooldownHash`), at the store's time. Why: the
   * gate's own reads of both come before its write, so identical calls arriving at once (two
   * sessions, two replicas) made one request each, and a denial landing in between let a twin
   * request be approved by another reviewer; checked and written in one transaction, they cannot.
   */
  createUnless<R>(a: NewApproval, guard: CreateGuard<R>): Promise<CreateOutcome<R>>;
  /**
   * This requester's (subject and identity source) most recently denied reviewer request for this
   * exact call or, by its cooldown hash, this call as it would run (the deny cooldown), or null.
   * `cooldownHash` defaults to `callHash`.
   */
  lastDenied(requester: string, requesterAuth: string, callHash: string, cooldownHash?: string): Promise<ApprovalRow | null>;
  /** The store's clock when it is not the caller's (PostgreSQL: the database's time); absent: the caller's. */
  now?(): Promise<string>;
  decide(
    id: string,
    d: { reviewer: string; decision: 'approve' | 'deny'; comment: string | null; auth: string; at: string; reviewerNames?: string[] },
    eligible: (row: ApprovalRow) => void,
    selfConfirm?: boolean,
  ): Promise<Decided>;
  /** The open, unexpired members of a combination, oldest first (a view's linked combination). */
  combination(combinationId: string, now: string): Promise<ApprovalRow[]>;
  /** Link requests into a combination (event `combined` for each that was elsewhere), in one transaction. */
  link(ids: readonly string[], combinationId: string, callId: string, at: string): Promise<void>;
  /** Use up one approved request (a confirmation); false when it is no longer approved or has expired. */
  consume(id: string, callId: string, at: string): Promise<boolean>;
  /**
   * Use up every request of a combination for one call in ONE transaction (event `used` each), or
   * none: each must be approved, unexpired and bound to `call` (approval-rules.ts consumeRefusal).
   * The requester's confirmation of this call, when a rule asks for it too, is one of `ids`
   * (named by `call.confirmation`): it is used with the reviewer requests, never before them.
   * A request found expired is marked so; the others are left as they were.
   */
  consumeAll(ids: readonly string[], call: CallBinding, at: string): Promise<ConsumeResult>;
  /**
   * Void every request of `ids` still open (pending or approved) in ONE transaction (event
   * `voided` each, with `reason`): their call was refused by the live policy after a reload.
   * Returns the requests voided (with their `voided` record's seq); a request already settled
   * (used, denied, expired, voided) is left as it is.
   */
  voidAll(ids: readonly string[], reason: VoidReason, at: string): Promise<({ id: string } & Recorded)[]>;
  /**
   * Give back the requests of `ids` that call `callId` used, in ONE transaction (event `returned`
   * each, with `reason`): approved again (pending when a withdrawal while used left one short),
   * unused, so one later call may use them once. Only for a
   * call that provably never started (cancelled before it executed: pipeline.ts). A request not
   * `used` by exactly that call is left as it is. Returns the requests given back.
   */
  giveBack(ids: readonly string[], callId: string, reason: VoidReason, at: string): Promise<({ id: string } & Recorded)[]>;
  /**
   * Withdraw `reviewer`'s approve decision (exact subject) from request `id` while it is open, in
   * one transaction (event `withdrawn` with `reason`): the decision row goes, and an approved
   * request left short of its count is pending again. The `withdrawn` record's seq, or null when
   * there was nothing to withdraw.
   */
  withdraw(id: string, reviewer: string, reason: string, at: string): Promise<number | null>;
  /**
   * Mark every open request past its expiry expired. Clocks: SQLite (one file on one host) judges
   * expiry here, in decide and in consume/consumeAll by the caller's time; PostgreSQL, shared by
   * replicas and CLIs whose clocks differ, by the database's (pg-clock.ts). Returns the requests
   * THIS call moved (each under its row lock, so one writer of many replicas does each), with their
   * `expired` record's seq: the caller that moved one sends its notice, exactly once.
   */
  expireDue(now: string): Promise<Expired[]>;
  /** Resolves when an approval may have changed (another replica wrote), or after ms; optional fast path. */
  changed?(ms: number, signal: AbortSignal): Promise<void>;
}
