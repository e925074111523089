/**
 * The reviewers' queue in the PostgreSQL store: the answer of approval-queue-sql.ts (same groups,
 * order, counts, cap and totals) in one statement, one round trip. Why: the shared walk sends a
 * query per step, one or two per requester with pending requests, then two per shown group and
 * two per shown request (its row, its decisions): a page view with 300 requesters sent about 700
 * queries over the network (SQLite's in-process steps cost next to nothing, so it keeps the walk).
 *
 * The walk is a recursive CTE doing the same loose index scan on `approvals_pending (requester,
 * requester_auth, seq) WHERE state = 'pending'`: each step one index seek for the first entry
 * after the last (requester, requester_auth), which is the next requester's oldest request.
 * PostgreSQL seeks a row comparison on the index's leading columns directly (the trap SQLite fell
 * into, stepping through the last requester's entries, is not one here, except with the requester
 * filter: below; the plan test holds 50,000 pending of one requester's source). It takes
 * MAX_REQUESTERS_WALKED + 1 steps at most, the last only to say the walk was cut. The shown
 * groups' counts, oldest requests and their decisions are LATERAL subqueries on the same index
 * (decisions by the primary key), in one snapshot (the walk's queries each had their own).
 */
import type pg from 'pg';
import { MAX_REQUESTERS_WALKED } from './approval-queue-sql.js';
import { type ApprovalRow, type ApprovalStore } from './approval-store.js';
import { decisionOf, rowOf } from './approval-rows.js';

/** What pendingQueue answers (approval-store.ts): both stores' one shape. */
export type PendingQueueRows = Awaited<ReturnType<ApprovalStore['pendingQueue']>>;

const PENDING = `FROM approvals WHERE state = 'pending'`;

/**
 * The queue in one statement: $1 per requester, $2 requesters shown, $3 the walk's cap (with
 * `only`, $4 the requester). One row per shown request (its `approvals` columns, its decisions as
 * JSON, its group's `queue_*`), oldest group first; no group at all is one row of nulls (the
 * totals are on every row). Exported for the plan test.
 */
export const PG_PENDING_QUEUE = (only: boolean) => {
  const who = only ? ' AND requester = $4' : '';
  // With the filter, `requester = $4` and the row comparison both bound the index's first column;
  // PostgreSQL started at $4's first entry and stepped through every one before the last source
  // (50,000 pending of one source: 500 pages a step). `requester_auth >` is one seek.
  const next = only
    ? ' AND requester = $4 AND requester_auth > w.requester_auth ORDER BY requester_auth, seq'
    : ' AND (requester, requester_auth) > (w.requester, w.requester_auth) ORDER BY requester, requester_auth, seq';
  return `WITH RECURSIVE walk (requester, requester_auth, seq, n) AS (
    (SELECT requester, requester_auth, seq, 1 ${PENDING}${who} ORDER BY requester, requester_auth, seq LIMIT 1)
    UNION ALL
    SELECT nx.requester, nx.requester_auth, nx.seq, w.n + 1 FROM walk w CROSS JOIN LATERAL (
      SELECT requester, requester_auth, seq ${PENDING}${next} LIMIT 1) nx
    WHERE w.n <= $3
  ),
  shown AS (SELECT requester, requester_auth, seq FROM walk WHERE n <= $3 ORDER BY seq LIMIT $2)
  SELECT (SELECT count(*) ${PENDING}) AS queue_total,
    (SELECT count(*) FROM walk WHERE n <= $3) AS queue_requesters,
    (SELECT count(*) FROM walk WHERE n > $3) AS queue_capped,
    s.seq AS queue_head, s.requester AS queue_requester, s.requester_auth AS queue_requester_auth, c.n AS queue_count, a.*,
    (SELECT json_agg(json_build_object('reviewer', d.reviewer, 'decision', d.decision, 'comment', d.comment, 'at', d.at, 'auth', d.auth, 'reviewer_names', d.reviewer_names) ORDER BY d.seq)
      FROM approval_decisions d WHERE d.approval_id = a.id) AS queue_decisions
  FROM (SELECT 1) one
  LEFT JOIN (shown s CROSS JOIN LATERAL (SELECT count(*) AS n ${PENDING} AND requester = s.requester AND requester_auth = s.requester_auth) c) ON true
  LEFT JOIN LATERAL (SELECT * ${PENDING} AND requester = s.requester AND requester_auth = s.requester_auth ORDER BY seq LIMIT $1) a ON true
  ORDER BY s.seq, a.seq`;
};

/** Read the queue with one query (`q`: the store's pool); the arguments as ApprovalStore.pendingQueue's. */
export async function pgPendingQueue(
  q: (sql: string, params?: unknown[]) => Promise<pg.QueryResult>,
  perRequester: number,
  maxRequesters: number,
  requester?: string,
): Promise<PendingQueueRows> {
  const params: unknown[] = [perRequester, maxRequesters, MAX_REQUESTERS_WALKED];
  if (requester !== undefined) params.push(requester);
  const rows = (await q(PG_PENDING_QUEUE(requester !== undefined), params)).rows as Record<string, unknown>[];
  const groups: PendingQueueRows['groups'] = [];
  let head: unknown = null;
  for (const r of rows) {
    if (r.queue_head === null) continue;
    if (r.queue_head !== head) {
      head = r.queue_head;
      groups.push({ requester: String(r.queue_requester), requesterAuth: String(r.queue_requester_auth), count: Number(r.queue_count), rows: [] as ApprovalRow[] });
    }
    if (r.id !== null) groups.at(-1)!.rows.push(rowOf(r, ((r.queue_decisions as Record<string, unknown>[] | null) ?? []).map(decisionOf)));
  }
  const first = rows[0] ?? {};
  const requesters = Number(first.queue_requesters ?? 0);
  const capped = Number(first.queue_capped ?? 0) > 0;
  return { total: Number(first.queue_total ?? 0), groups, requesters, moreRequesters: requesters > groups.length || capped, ...(capped ? { requestersCapped: true } : {}) };
}
