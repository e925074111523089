/**
 * The plug-in seam's answer and masking types, apart from tool-api.ts (which re-exports them, so
 * a family still imports only tool-api.ts): what a tool hands back (ToolOutput, ColumnMeta), the
 * masks it is given (ColumnMask, MaskingContext), and the policy asked again inside execute
 * (CallJudge, ItemJudgement).
 */
import type { Facts } from './tool-api.js';

/** The answer of ExecContext.judge: may this part of the answer be shown, and which rules say so. */
export interface ItemJudgement {
  allowed: boolean;
  reason: string;
  ruleIds: string[];
}

/**
 * ExecContext.judge: the policy asked again, inside execute, about facts the decision could not
 * see, for the same principal, tool, connection and arguments (src/pipeline/item-judge.ts).
 */
export interface CallJudge {
  /**
   * Decide this same call again with other facts, allow and deny rules alike. Why: some answers
   * hold items the decision could not see before reading them (kubectl_get events: an event
   * about a pod is shown only when the policy allows the call for that pod's labels). An allow
   * that needs an approval this call did not get counts as a no.
   */
  call(facts: Facts): ItemJudgement;
  /**
   * The conditional deny rules that apply to this principal, tool and connection, as a judge of
   * other facts; null when there are none (nothing the tool learns could change the decision, so
   * it need not look). Why: deny wins over what a tool learns while executing (the partitions a
   * parent's read returns, the tables a view reads), while a grant stays decided on what the
   * call names.
   */
  denies(): ((facts: Facts) => ItemJudgement) | null;
  /**
   * The condition blocks (by key) of the allow rules behind this call's decision. Why: a family
   * may trust only what a grant names itself (query_database trusts the body of a function
   * outside pg_catalog under column masks only when a grant's `functions:` names it, not when a
   * grant with no `sql` block allows every function). Absent: no grant names anything (fail closed).
   */
  grants?(): readonly Record<string, unknown>[];
}

/** A configured column mask (policy `masking.columns`). */
export interface ColumnMask {
  /** schema.table.column, lower-cased. */
  column: string;
  strategy: string;
}

/** Masking services the pipeline hands to tools that need lineage-aware masking. */
export interface MaskingContext {
  /** Masked columns for this call (from the active policy). */
  columns: ColumnMask[];
  /** What to do when a masked column flows through an expression. */
  onDerived: 'deny' | 'mask';
  /** Apply a named strategy to one value. */
  apply(value: unknown, strategy: string): unknown;
}

/** A column of a tabular result, with where it came from when known. */
export interface ColumnMeta {
  name: string;
  type?: string;
  /** Masking applied to the column, e.g. 'partial' (set by the masking stage or the tool). */
  masked?: string;
  /**
   * The values are the database's own text form of a fixed-format type (timestamps, booleans,
   * UUIDs, intervals): no free text can hide in them, so the content detectors skip the column.
   * Internal to the pipeline; never sent to the agent.
   */
  fixedFormat?: boolean;
}

/** What a tool returns before the pipeline masks, records and renders it. */
export type ToolOutput =
  | {
      kind: 'table';
      columns: ColumnMeta[];
      rows: unknown[][];
      /** Rows returned to the agent (after caps). */
      rowCount: number;
      truncated: boolean;
      /** For writes: rows affected. */
      affected?: number | null;
      command?: string;
      notes?: string[];
    }
  | {
      kind: 'text';
      streams: Record<string, string>;
      exitCode?: number | null;
      truncated: boolean;
      notes?: string[];
    }
  | {
      kind: 'json';
      data: unknown;
      truncated: boolean;
      notes?: string[];
    };
