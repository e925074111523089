/**
 * The transcript store contract. SQLite is the default implementation; a PostgreSQL one
 * (several replicas) implements the same interface later.
 * Every write either becomes durable or throws WardenError(TRANSCRIPT): the pipeline then refuses the call.
 */

/** A session: one MCP connection. */
export interface SessionStart {
  id: string;
  /**
   * `actors`: the delegation chain (token exchange `act` claims, current actor first), only when an
   * agent acts for `subject`; `actorsMalformed`: the `act` claim is no RFC 8693 chain, and `actors`
   * holds every name it holds (approvals/actors.ts recordedActors). `issuer` and `tokenClient`
   * (OIDC only): the issuer that signed the token and the client it names (azp, else client_id).
   */
  principal: { subject: string; groups: string[]; authMethod: string; issuer?: string; tokenClient?: string; actors?: string[]; actorsMalformed?: true };
  client: { name?: string; version?: string };
  transport: 'stdio' | 'http' | 'in-process';
  startedAt: string; // ISO 8601
}

/** Written before execution. */
export interface CallIntent {
  id: string;
  sessionId: string;
  tool: string;
  connection: string | null;
  /** Arguments exactly as the agent sent them (JSON-serialisable). */
  args: unknown;
  /** One-line summary of the parsed facts, or null when parsing failed. */
  factsSummary: string | null;
  /** Structured facts (JSON), or null. */
  facts: unknown;
  decision: 'allow' | 'deny' | 'error';
  ruleIds: string[];
  policyVersion: string;
  startedAt: string;
}

/** Written after execution (or after the denial). */
export interface CallOutcome {
  status: 'ok' | 'denied' | 'error' | 'interrupted' | 'pending';
  errorCode: string | null;
  /** The result exactly as the agent saw it (already masked). */
  result: unknown;
  /** What masking did: column names, detector kinds and counts, never raw values. */
  masking: unknown;
  durationMs: number;
  endedAt: string;
}

/** A stored call, as listed and shown. */
export interface CallRecord extends CallIntent {
  outcome: CallOutcome | null;
  seq: number;
}

/** A stored session. */
export interface SessionRecord extends SessionStart {
  endedAt: string | null;
  callCount: number;
}

/** Filters for listing. */
export interface SessionFilter {
  subject?: string;
  tool?: string;
  limit?: number;
}

/** Result of verifying the hash chain. */
export interface VerifyResult {
  ok: boolean;
  records: number;
  /** The first broken record (seq and why), when not ok. */
  firstBroken?: { seq: number; reason: string };
  /** The last record's seq and hash: anchor it elsewhere (SIEM, ticket) to detect tail truncation. */
  head?: { seq: number; hash: string };
  /** The signed head found beside the store (when a signing key is configured). */
  signedHead?: SignedHead;
  /** Records written after the signed head (without the key: a key holder signs in their commit; verify fails on them). */
  unsignedTail?: number;
  /** The retention checkpoint the walk started from, when old records were purged. */
  checkpoint?: { cutSeq: number; cutHash: string; recordSeq: number };
}

/** A chain head copied off the host earlier; why: the chain must still hold exactly this record. */
export interface HeadAnchor {
  seq: number;
  hash: string;
}

/** What a whole-chain verify checks beyond the chain itself. */
export interface VerifyOptions {
  /** Every anchor must name a record of the chain by its hash (verify-anchors.ts). */
  anchors?: HeadAnchor[];
  /** `transcripts adopt-head`: a missing signed head is not a break (the head is about to be signed). */
  adopting?: boolean;
}

/** The current head as `warden transcripts head` prints it; why: it is what operators copy off the host. */
export interface ChainHeadInfo {
  /** The newest record (absent for an empty store). */
  head?: { seq: number; hash: string };
  /** The signed head stored with the chain, when there is one ('malformed': unreadable). */
  signedHead?: SignedHead | 'malformed';
  /** Whether it carries a valid signature of the configured key (absent without a key). */
  signatureValid?: boolean;
  /**
   * Why the signed head no longer names a record of the chain (cut or rewritten without the key):
   * the key holder then leaves it as it is and new records stay unsigned (signing.ts).
   */
  stale?: string;
}

/** An Ed25519 signature over the chain head; why: a truncated tail no longer matches it. */
export interface SignedHead {
  seq: number;
  hash: string;
  signedAt: string;
  /** First 16 hex digits of sha256 over the public key (SPKI DER). */
  keyId: string;
  /** base64 Ed25519 signature over `warden-chain-head\n{seq}\n{hash}`. */
  signature: string;
}

/** Filters of the reviewer's session search (the UI and `transcripts list`). */
export interface SessionSearch {
  subject?: string;
  tool?: string;
  connection?: string;
  decision?: CallIntent['decision'];
  /** ISO 8601 bounds on the session start (inclusive from, exclusive until). */
  since?: string;
  until?: string;
  /** Free text matched against call tool, connection, parsed summary and arguments. */
  text?: string;
  /** Opaque cursor from a previous page (`next`). */
  cursor?: string;
  limit?: number;
}

/** One page of sessions, newest first, and the cursor of the next page. */
export interface SessionPage {
  sessions: SessionRecord[];
  next: string | null;
}

/** What a retention purge did. */
export interface PurgeResult {
  /** Records at or below this seq were removed (0: nothing could be purged). */
  cutSeq: number;
  records: number;
  sessions: number;
  calls: number;
  /** The checkpoint record appended to the chain (absent when nothing was purged). */
  checkpointSeq?: number;
  /**
   * SQLite: false when the removed text could not yet be erased from the files (a reader kept the
   * WAL from being emptied; the next checkpoint overwrites it). Absent: erased, or not SQLite.
   */
  erased?: boolean;
}

/** Filters for listing calls across sessions (newest first). */
export interface CallFilter {
  sessionId?: string;
  subject?: string;
  tool?: string;
  decision?: CallIntent['decision'];
  status?: CallOutcome['status'];
  /** ISO 8601 bounds on startedAt (inclusive from, exclusive until). */
  since?: string;
  until?: string;
  limit?: number;
}

/** What startup recovery did. */
export interface RecoveryResult {
  /** Calls that had an intent but no outcome and now carry {status: 'interrupted'}. */
  interruptedCalls: number;
  /** Sessions left open by a dead process, now closed. */
  closedSessions: number;
}

/** One raw chain record, as exported. */
export interface ChainRecord {
  seq: number;
  kind: 'session_open' | 'session_close' | 'call_intent' | 'call_outcome' | 'approval_event' | 'checkpoint';
  refId: string;
  ts: string;
  /** Canonical JSON text (keys sorted recursively). */
  body: string;
  prevHash: string;
  hash: string;
}

/** The store. Methods are synchronous for SQLite; async-capable callers await them anyway. */
export interface TranscriptStore {
  openSession(s: SessionStart): Promise<void>;
  closeSession(id: string, endedAt: string): Promise<void>;
  /** `durable: false` (read-only calls): committed without its own fsync; the outcome's commit makes it durable. */
  recordIntent(c: CallIntent, opts?: { durable?: boolean }): Promise<void>;
  recordOutcome(callId: string, o: CallOutcome): Promise<void>;
  listSessions(f?: SessionFilter): Promise<SessionRecord[]>;
  getSession(id: string): Promise<{ session: SessionRecord; calls: CallRecord[] } | null>;
  verify(opts?: VerifyOptions): Promise<VerifyResult>;
  close(): Promise<void>;
  /** The newest record and the signed head, without a walk (`warden transcripts head`). */
  chainHead?(): Promise<ChainHeadInfo>;
  /**
   * Sign `verified` (the head verify just walked to) when there is no signed head, or (SQLite) when
   * `over` is the valid signed head the chain goes on beyond (head-adopt.ts).
   */
  adoptHead?(verified: { seq: number; hash: string }, over?: SignedHead): Promise<SignedHead>;
  /** Optional extras (the SQLite store has them all). */
  listCalls?(f?: CallFilter): Promise<CallRecord[]>;
  verifyRange?(fromSeq: number, toSeq: number): Promise<VerifyResult>;
  markInterrupted?(now?: string): Promise<RecoveryResult>;
  readRecords?(fromSeq: number, limit: number): Promise<ChainRecord[]>;
  /** Reviewer extras (replay, export windows, retention); the SQLite store has them. */
  sessionRecords?(sessionId: string, afterSeq: number, limit: number): Promise<ChainRecord[]>;
  /** A session's row alone, and its calls in pages (`transcripts show`; both stores have them). */
  sessionInfo?(id: string): Promise<SessionRecord | null>;
  sessionCalls?(sessionId: string, afterSeq: number, limit: number): Promise<CallRecord[]>;
  readRecordsBetween?(fromSeq: number, limit: number, since?: string, until?: string): Promise<ChainRecord[]>;
  purge?(before: string, now?: string): Promise<PurgeResult>;
}
