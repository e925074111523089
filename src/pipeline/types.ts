/**
 * Types shared by the pipeline stages and the transports that feed them.
 */
import type { ConnectionConfig, GovernedTool, Principal } from '../tool-api.js';
import type { WardenError } from '../errors.js';
import type { CompiledPolicy, Decision } from '../policy/types.js';
import type { TranscriptStore } from '../recorder/types.js';
import type { GateInput, GateResult } from '../approvals/service.js';
import type { CallHold } from '../approvals/in-flight.js';
import type { RateLimiter } from './rate-limit.js';

/** One incoming tool call, as a transport hands it over. */
export interface CallRequest {
  sessionId: string;
  principal: Principal | null;
  /** Why there is no principal (e.g. the session's token expired), for the UNAUTHENTICATED answer. */
  authError?: string;
  tool: string;
  /** Raw arguments exactly as the agent sent them. */
  args: unknown;
  signal: AbortSignal;
  /** Progress callback when the client asked for progress (approval waits use it). */
  progress?: (message: string, progress: number, total?: number) => void;
  /**
   * Ask the connected user to confirm (MCP elicitation), when the transport supports it. `signal`
   * withdraws the question (the client is told: notifications/cancelled).
   */
  elicit?: (message: string, schema: Record<string, unknown>, signal?: AbortSignal) => Promise<{ action: string; content?: Record<string, unknown> }>;
  /**
   * Set when the client can never be asked, whatever capabilities it declares: 'per-request' is a
   * 2026-07-28 client served per request, without a session (that revision has no
   * server-to-client requests, so no elicitation).
   */
  cannotElicit?: 'per-request';
  /**
   * When the token this request was authenticated with expires (epoch seconds, its `exp`); absent
   * for a principal without one (stdio). A call that waited for approval past it does not run.
   */
  tokenExpiresAt?: number;
}

/** The MCP tool result the transport sends back. */
export interface CallResponse {
  content: { type: 'text'; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** An approval gate: answers whether a call that needs approval may run now (defined by src/approvals). */
export interface ApprovalGate {
  gate(input: GateInput): Promise<GateResult>;
  /** Give back what a granted call spent, when it was cancelled before it started. */
  giveBack?(callId: string, spent: readonly string[], why?: WardenError): Promise<string[]>;
  /** Hold a granted call while it executes: its signal aborts when an approval it used is withdrawn (approvals/in-flight.ts). */
  hold?(callId: string, spent: readonly string[]): CallHold;
}

/** Everything the pipeline needs; `policy()` is read once per call so reloads swap atomically. */
export interface PipelineDeps {
  tools: GovernedTool<any, any>[];
  connections: ConnectionConfig[];
  policy: () => CompiledPolicy;
  store: TranscriptStore;
  masking: {
    apply(value: unknown, strategy: string): unknown;
    scanner(policy: CompiledPolicy): { scan(text: string): { text: string; hits: Record<string, number> } };
  };
  approvals?: ApprovalGate;
  limits: { maxInputBytes: number; maxResultBytes: number; defaultTimeoutMs: number; defaultMaxRows: number };
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>): void;
  /** Services for built-in tools (discovery); passed as ExecContext.core. */
  core?: unknown;
  /** Rate limits and quotas (per principal, per rule); consulted in authenticate and decide. */
  rateLimiter?: RateLimiter;
  /** `before` (default): a read-only call's intent commits before it runs; `overlap`: while it runs. */
  readIntent?: 'overlap' | 'before';
}
