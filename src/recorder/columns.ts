/**
 * One mapping between a record body and its query-table columns, used both when writing and
 * when verifying: a calls/sessions row is valid only if it equals what its record implies.
 */
import type { CallOutcome, CallRecord, SessionRecord } from './types.js';

/** A column value as SQLite stores it. */
export type Cell = string | number | null;

/** Column values keyed by column name. */
export type Columns = Record<string, Cell>;

// TEXT columns: strings as-is, null as NULL, anything else as its JSON text (no affinity surprises).
function scalar(part: string | undefined): Cell {
  if (part === undefined) return null;
  // A JSON string without a backslash is its text between the quotes (JSON.parse's answer, cheaper).
  if (part.charCodeAt(0) === 34 && part.indexOf('\\') === -1) return part.slice(1, -1);
  const v: unknown = JSON.parse(part);
  if (typeof v === 'string' || v === null) return v;
  return part;
}

// REAL columns: numbers only.
function num(part: string | undefined): Cell {
  if (part === undefined) return null;
  const v: unknown = JSON.parse(part);
  return typeof v === 'number' ? v : null;
}

function json(part: string | undefined): string {
  return part ?? 'null';
}

/** sessions columns implied by a session_open body; why: write and verify share one mapping. */
export function sessionOpenColumns(p: Map<string, string>): Columns {
  const principal = p.get('principal');
  const parsed: unknown = principal === undefined ? null : JSON.parse(principal);
  const subject =
    parsed !== null && typeof parsed === 'object' && typeof (parsed as { subject?: unknown }).subject === 'string'
      ? (parsed as { subject: string }).subject
      : null;
  return {
    id: scalar(p.get('id')),
    subject,
    principal: json(principal),
    client: json(p.get('client')),
    transport: scalar(p.get('transport')),
    started_at: scalar(p.get('startedAt')),
  };
}

/** calls columns implied by a call_intent body. */
export function intentColumns(p: Map<string, string>): Columns {
  return {
    id: scalar(p.get('id')),
    session_id: scalar(p.get('sessionId')),
    tool: scalar(p.get('tool')),
    connection: scalar(p.get('connection')),
    args: json(p.get('args')),
    facts_summary: scalar(p.get('factsSummary')),
    facts: json(p.get('facts')),
    decision: scalar(p.get('decision')),
    rule_ids: json(p.get('ruleIds')),
    policy_version: scalar(p.get('policyVersion')),
    started_at: scalar(p.get('startedAt')),
  };
}

/** calls outcome columns implied by a call_outcome body. */
export function outcomeColumns(p: Map<string, string>): Columns {
  return {
    status: scalar(p.get('status')),
    error_code: scalar(p.get('errorCode')),
    result: json(p.get('result')),
    masking: json(p.get('masking')),
    duration_ms: num(p.get('durationMs')),
    ended_at: scalar(p.get('endedAt')),
  };
}

/** Names of columns whose stored value differs from the expected one. */
export function diffColumns(expected: Columns, row: Record<string, unknown>): string[] {
  const bad: string[] = [];
  for (const [k, v] of Object.entries(expected)) {
    if (row[k] !== v) bad.push(k);
  }
  return bad;
}

function parseJson(text: unknown): unknown {
  return typeof text === 'string' ? JSON.parse(text) : null;
}

// A SQLite store keeps a call's result only in its outcome record (calls.result is NULL).
function resultOfBody(body: string): unknown {
  return (JSON.parse(body) as { result?: unknown }).result ?? null;
}

/** A sessions row as the public record. */
export function rowToSession(r: Record<string, unknown>): SessionRecord {
  const principal = (parseJson(r.principal) ?? {}) as SessionRecord['principal'];
  const client = (parseJson(r.client) ?? {}) as SessionRecord['client'];
  return {
    id: r.id as string,
    principal,
    client,
    transport: r.transport as SessionRecord['transport'],
    startedAt: r.started_at as string,
    endedAt: (r.ended_at as string | null) ?? null,
    callCount: Number(r.call_count ?? 0),
  };
}

/** A calls row as the public record (outcome null until one is recorded). */
export function rowToCall(r: Record<string, unknown>): CallRecord {
  const outcome: CallOutcome | null =
    r.outcome_seq === null || r.outcome_seq === undefined
      ? null
      : {
          status: r.status as CallOutcome['status'],
          errorCode: (r.error_code as string | null) ?? null,
          result: r.result === null && typeof r.outcome_body === 'string' ? resultOfBody(r.outcome_body) : parseJson(r.result),
          masking: parseJson(r.masking),
          durationMs: Number(r.duration_ms ?? 0),
          endedAt: r.ended_at as string,
        };
  return {
    id: r.id as string,
    sessionId: r.session_id as string,
    tool: r.tool as string,
    connection: (r.connection as string | null) ?? null,
    args: parseJson(r.args),
    factsSummary: (r.facts_summary as string | null) ?? null,
    facts: parseJson(r.facts),
    decision: r.decision as CallRecord['decision'],
    ruleIds: (parseJson(r.rule_ids) ?? []) as string[],
    policyVersion: r.policy_version as string,
    startedAt: r.started_at as string,
    outcome,
    seq: Number(r.seq),
  };
}
