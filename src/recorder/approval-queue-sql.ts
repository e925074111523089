/**
 * The reviewers' queue of pending requests, read fairly and bounded (the SQLite store's walk, `$n`
 * placeholders, numbered in the order they appear, turned into `?`; the PostgreSQL store answers
 * the same in one statement, pg-approval-queue.ts, and shares the index, the cap and the types). Why:
 * the queue was the newest 200 pending requests, so one requester's flood pushed everyone else's
 * out of sight, and its ORDER BY seq scanned every pending row. Each requester (subject and
 * identity source) is a group; the groups shown are the `maxRequesters` whose OLDEST pending
 * request is oldest. Why oldest and not name order: 20 identities named "aaa-1".."aaa-20" hid any
 * later-named requester's request. Why not the soonest expiry: an agent whose rule expires fast
 * could keep making short-lived requests that always expire before a victim's; a request's age
 * only grows, so once made it can only rise in the queue as older requests are decided or expire.
 *
 * Bounded: the requesters are walked one at a time on the partial index
 * `approvals_pending (requester, requester_auth, seq) WHERE state = 'pending'` (one or two index
 * seeks per requester; its first entry is that requester's oldest request), so a page view costs
 * a few seeks per requester with pending requests, however many requests each has; only those
 * requesters (never the requests) are sorted, in memory. `state = 'pending'` is written
 * literally: a partial index serves only a query that says so.
 */

/** The migration that adds the queue's index (SQLite v11, PostgreSQL v10). */
export const PENDING_INDEX = `CREATE INDEX IF NOT EXISTS approvals_pending ON approvals (requester, requester_auth, seq) WHERE state = 'pending';`;

/** How many requests are pending, in all. */
export const PENDING_TOTAL = `SELECT count(*) AS n FROM approvals WHERE state = 'pending'`;

/** How many requests one requester has pending. */
export const REQUESTER_PENDING = `SELECT count(*) AS n FROM approvals WHERE state = 'pending' AND requester = $1 AND requester_auth = $2`;

/** One requester's oldest pending requests ($3 of them). */
export const REQUESTER_OLDEST = `SELECT id FROM approvals WHERE state = 'pending' AND requester = $1 AND requester_auth = $2 ORDER BY seq LIMIT $3`;

/**
 * The first requester (name order; with `$1`, only that subject) with a pending request, and its
 * oldest one's seq (the first index entry of a requester is its oldest request).
 */
export const FIRST_HEAD = (only: boolean) =>
  `SELECT requester, requester_auth, seq FROM approvals WHERE state = 'pending'${only ? ' AND requester = $1' : ''} ORDER BY requester, requester_auth, seq LIMIT 1`;

/**
 * The next identity source of requester $1 after $2, with its oldest pending request's seq. Why
 * two plain range seeks (this, then NEXT_REQUESTER) and not `(requester, requester_auth) > ($1,
 * $2)`: SQLite seeked to the last requester's first entry and stepped through all of its requests
 * (300,000 pending of one agent: 100 ms a step, on every page view).
 */
export const NEXT_AUTH = `SELECT requester, requester_auth, seq FROM approvals WHERE state = 'pending' AND requester = $1 AND requester_auth > $2 ORDER BY requester_auth, seq LIMIT 1`;

/** The next requester after $1 (name order), its first identity source and that one's oldest pending request's seq. */
export const NEXT_REQUESTER = `SELECT requester, requester_auth, seq FROM approvals WHERE state = 'pending' AND requester > $1 ORDER BY requester, requester_auth, seq LIMIT 1`;

/** One requester's place in the queue. */
export interface PendingGroup {
  requester: string;
  requesterAuth: string;
  /** Requests it has pending. */
  count: number;
  /** Ids of its oldest pending requests, oldest first (at most the `perRequester` asked for). */
  oldest: string[];
}

/** The queue: every pending request counted, the `maxRequesters` requesters with the oldest pending requests (oldest first), each with its oldest. */
export interface PendingQueue {
  total: number;
  groups: PendingGroup[];
  /** How many requesters have pending requests (of `requester` only, when given): `requesters - groups.length` are not shown. */
  requesters: number;
  /** More requesters have pending requests than were read. */
  moreRequesters: boolean;
  /** The walk stopped at MAX_REQUESTERS_WALKED: `requesters` is a lower bound. */
  requestersCapped?: boolean;
}

/**
 * The most requesters one page view walks (by name), so a view's cost stays bounded however many
 * identities hold pending requests; past it, the queue is ordered among the walked ones and says
 * the count is a lower bound (the requester filter still reaches any one of them).
 */
export const MAX_REQUESTERS_WALKED = 1000;

/**
 * Read the queue with `one(sql, params)` (a row or undefined) and `all(sql, params)` (SQLite's:
 * a step is an in-process call); `requester`: that subject's groups only (each identity source
 * one), `total` still all.
 */
export async function readPendingQueue(
  one: (sql: string, params: unknown[]) => Promise<Record<string, unknown> | undefined>,
  all: (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>,
  perRequester: number,
  maxRequesters: number,
  requester?: string,
): Promise<PendingQueue> {
  const total = Number((await one(PENDING_TOTAL, []))?.n ?? 0);
  // Every requester with a pending request, one or two index seeks each, whatever its count.
  const heads: { requester: string; requesterAuth: string; seq: number }[] = [];
  let at = await one(FIRST_HEAD(requester !== undefined), requester === undefined ? [] : [requester]);
  while (at && heads.length < MAX_REQUESTERS_WALKED) {
    heads.push({ requester: String(at.requester), requesterAuth: String(at.requester_auth), seq: Number(at.seq) });
    at = (await one(NEXT_AUTH, [at.requester, at.requester_auth])) ?? (requester === undefined ? await one(NEXT_REQUESTER, [at.requester]) : undefined);
  }
  heads.sort((a, b) => a.seq - b.seq);
  const groups: PendingGroup[] = [];
  for (const h of heads.slice(0, maxRequesters)) {
    const key = [h.requester, h.requesterAuth];
    const count = Number((await one(REQUESTER_PENDING, key))?.n ?? 0);
    const oldest = (await all(REQUESTER_OLDEST, [...key, perRequester])).map((r) => String(r.id));
    groups.push({ requester: h.requester, requesterAuth: h.requesterAuth, count, oldest });
  }
  return { total, groups, requesters: heads.length, moreRequesters: heads.length > groups.length || at !== undefined, ...(at !== undefined ? { requestersCapped: true } : {}) };
}
