/**
 * The transcript store contract. SQLite is the default implementation; a PostgreSQL one
 * (several replicas) implements the same interface later.
 * Every write either becomes durable or throws WardenError(TRANSCRIPT): the pipeline then refuses the call.
 */

/** A session: one MCP connection. */
export interface SessionStart {
  id: string;
  principal: { subject: string; groups: string[]; authMethod: string };
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
}

/** The store. Methods are synchronous for SQLite; async-capable callers await them anyway. */
export interface TranscriptStore {
  openSession(s: SessionStart): Promise<void>;
  closeSession(id: string, endedAt: string): Promise<void>;
  recordIntent(c: CallIntent): Promise<void>;
  recordOutcome(callId: string, o: CallOutcome): Promise<void>;
  listSessions(f?: SessionFilter): Promise<SessionRecord[]>;
  getSession(id: string): Promise<{ session: SessionRecord; calls: CallRecord[] } | null>;
  verify(): Promise<VerifyResult>;
  close(): Promise<void>;
}
