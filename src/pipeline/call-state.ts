/**
 * The per-call state the stages fill in, and the small readers of it that both the stages
 * (pipeline.ts) and the transcript writes (record.ts) need.
 */
import type { ConnectionConfig, Facts, GovernedTool, Principal, ToolOutput } from '../tool-api.js';
import type { CompiledPolicy, Decision } from '../policy/types.js';
import type { MaskReport } from './mask-output.js';
import type { StageName } from './stages.js';
import type { CallRequest, CallResponse } from './types.js';
import type { RateTicket } from './rate-limit.js';
import type { CallHold } from '../approvals/in-flight.js';

/** Per-call state carried from stage to stage. */
export interface CallState {
  id: string;
  req: CallRequest;
  startedAt: number;
  startedIso: string;
  policy: CompiledPolicy;
  principal?: Principal;
  tool?: GovernedTool<any, any>;
  input?: Record<string, unknown>;
  connection: ConnectionConfig | null;
  facts?: Facts;
  decision?: Decision;
  grants?: Record<string, unknown>[];
  intentWritten: boolean;
  /** A read-only call's intent commit, in flight while the statement runs (read_intent: overlap). */
  intentPending?: Promise<void>;
  output?: ToolOutput;
  masking?: MaskReport;
  response?: CallResponse;
  stagesRun: StageName[];
  /** The approval requests the gate used up for this call (given back if it is cancelled before execute). */
  spent?: string[];
  /** The hold on a granted call while it runs (approvals/in-flight.ts): a withdrawn approval cancels it. */
  hold?: CallHold;
  /** Rate-limit admission for this call (released when the call ends). */
  rate?: RateTicket;
  /** Why the arguments are not stored (too deep, too large, not JSON): the transcript says so instead. */
  unstored?: string;
}

/** What every response carries about its call (call id, rules, policy version). */
export function meta(s: CallState): Record<string, unknown> {
  return { call_id: s.id, rule_ids: s.decision?.ruleIds ?? [], policy_version: s.policy.version };
}

/** How long the call has run, in milliseconds (for the transcript's outcome). */
export function elapsed(s: CallState): number {
  return Math.round((performance.now() - s.startedAt) * 1000) / 1000;
}
