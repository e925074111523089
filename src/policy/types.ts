/**
 * Compiled policy and decisions. Decisions always carry the ids of the rules behind them so
 * that agents, reviewers and transcripts can say which rule allowed or denied a call.
 */
import type { CompiledCondition, ColumnMask } from '../tool-api.js';
import type { ApprovalSpec, CallLimits, Who } from './schema.js';

/** A rule after compilation. */
export interface CompiledRule {
  id: string;
  effect: 'allow' | 'deny';
  who?: Who;
  tools?: string[];
  on?: string[];
  reason?: string;
  approval?: ApprovalSpec;
  /** Per-principal limits on calls this rule allows (rate-limit.ts). */
  limits?: CallLimits;
  conditions: { key: string; families: string[]; fn: CompiledCondition; describe?: string }[];
  /** The raw condition blocks by key (for discovery tools and explain). */
  blocks: Record<string, unknown>;
  file: string;
  line: number;
}

/** The active policy: rules, masking, and a version hash recorded with every call. */
export interface CompiledPolicy {
  version: string;
  rules: CompiledRule[];
  masking: {
    columns: ColumnMask[];
    detectors: string[];
    custom: { name: string; pattern: string }[];
    onDerived: 'deny' | 'mask';
  };
  files: string[];
}

/** Why one rule did or did not match (for explain and denials). */
export interface RuleTrace {
  id: string;
  effect: 'allow' | 'deny';
  matched: boolean;
  why: string;
  /** A deny matched only on unknown facts (ConditionResult.presumed): it counts only against a matching allow. */
  presumed?: boolean;
}

/** One approval rule's terms on a call: the rule's `approval:` block and the rule's id. */
export type ApprovalRequirement = ApprovalSpec & { ruleId: string };

/** The policy's answer for one call. */
export interface Decision {
  effect: 'allow' | 'deny';
  ruleIds: string[];
  reason: string;
  /**
   * Every approval the call needs: one per matching allow rule with `approval:`, in policy file
   * order. All of them must be granted (each its own request); see policy/approval-terms.ts.
   */
  approvals?: ApprovalRequirement[];
  /**
   * The first of `approvals`, for readers that only ask whether an approval is needed (and for
   * decisions built by hand with one approval). Never gate on it alone: use approvalRequirements().
   */
  approval?: ApprovalRequirement;
  trace: RuleTrace[];
  /** On a deny, what this principal may do instead (allow rules it could use, summarised); empty on an allow. */
  alternatives: string[];
}
