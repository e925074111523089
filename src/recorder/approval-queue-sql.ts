/**
 * The reviewers' queue of pending requests, read fairly and bounded (both stores; `$n`
 * placeholders, which the SQLite store turns into `?`). Why: the queue was the newest 200 pending
 * requests, so one requester's flood pushed everyone else's out of sight (nothing ran, but a
 * reviewer might never see a real request), and its ORDER BY seq scanned every pending row. Now
 * each requester (subject and identity source) is a group: the requesters are walked one at a time
 * on the partial index `approvals_pending (requester, requester_auth, seq) WHERE state = 'pending'`
 * (each step one index seek), each group counted and its oldest requests read from the same index.
 * `state = 'pending'` is written literally: a partial index serves only a query that says so.
 */

/** The migration that adds the queue's index (SQLite v11, PostgreSQL v10). */
export const PENDING_INDEX = `CREATE INDEX IF NOT EXISTS approvals_pending ON approvals (requester, requester_auth, seq) WHERE state = 'pending';`;

/** How many requests are pending, in all. */
export const PENDING_TOTAL = `SELECT count(*) AS n FROM approvals WHERE state = 'pending'`;

/** The first requester (in name order) with a pending request. */
export const FIRST_REQUESTER = `SELECT requester, requester_auth FROM approvals WHERE state = 'pending' ORDER BY requester, requester_auth LIMIT 1`;

/** The next requester after ($1, $2). */
export const NEXT_REQUESTER = `SELECT requester, requester_auth FROM approvals WHERE state = 'pending' AND (requester, requester_auth) > ($1, $2) ORDER BY requester, requester_auth LIMIT 1`;

/** How many requests one requester has pending. */
export const REQUESTER_PENDING = `SELECT count(*) AS n FROM approvals WHERE state = 'pending' AND requester = $1 AND requester_auth = $2`;

/** One requester's oldest pending requests ($3 of them). */
export const REQUESTER_OLDEST = `SELECT id FROM approvals WHERE state = 'pending' AND requester = $1 AND requester_auth = $2 ORDER BY seq LIMIT $3`;

/** One requester's place in the queue. */
export interface PendingGroup {
  requester: string;
  requesterAuth: string;
  /** Requests it has pending. */
  count: number;
  /** Ids of its oldest pending requests, oldest first (at most the `perRequester` asked for). */
  oldest: string[];
}

/** The queue: every pending request counted, the first `maxRequesters` requesters (name order) with their oldest. */
export interface PendingQueue {
  total: number;
  groups: PendingGroup[];
  /** More requesters have pending requests than were read. */
  moreRequesters: boolean;
}

/** Read the queue with `one(sql, params)` (a row or undefined) and `all(sql, params)`, either store's. */
export async function readPendingQueue(
  one: (sql: string, params: unknown[]) => Promise<Record<string, unknown> | undefined>,
  all: (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>,
  perRequester: number,
  maxRequesters: number,
): Promise<PendingQueue> {
  const total = Number((await one(PENDING_TOTAL, []))?.n ?? 0);
  const groups: PendingGroup[] = [];
  let at = await one(FIRST_REQUESTER, []);
  while (at && groups.length < maxRequesters) {
    const key = [String(at.requester), String(at.requester_auth)];
    const count = Number((await one(REQUESTER_PENDING, key))?.n ?? 0);
    const oldest = (await all(REQUESTER_OLDEST, [...key, perRequester])).map((r) => String(r.id));
    groups.push({ requester: key[0]!, requesterAuth: key[1]!, count, oldest });
    at = await one(NEXT_REQUESTER, key);
  }
  return { total, groups, moreRequesters: at !== undefined };
}
