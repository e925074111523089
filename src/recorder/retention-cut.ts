/**
 * Where a retention purge may cut the chain, shared by both stores: the largest seq such that no
 * session straddles it (every session opened at or below it closed at or below it, with all its
 * calls and outcomes), no approval requested at or below it is still live (pending or approved:
 * its row must stay verifiable against its records), and every record at or below it is older
 * than `before`.
 * Why a generator: the search is a few single-number queries; SQLite answers them synchronously
 * (inside its write transaction) and PostgreSQL asynchronously, so the steps are written once
 * and each store drives them with its own query function. Parameters are written `$1`, `$2`.
 */

/** One step of the search: a query whose first column of the first row is a number or NULL. */
export interface CutQuery {
  sql: string;
  params: unknown[];
}

type CutSearch = Generator<CutQuery, number, number | null>;

function* cutSearch(before: string): CutSearch {
  const head = (yield { sql: 'SELECT MAX(seq) AS s FROM records', params: [] }) ?? 0;
  const blocker = yield { sql: 'SELECT MIN(open_seq) AS s FROM sessions WHERE close_seq IS NULL OR ended_at >= $1', params: [before] };
  let cut = blocker === null ? head : blocker - 1;
  const young = yield { sql: 'SELECT MIN(seq) AS s FROM records WHERE seq <= $1 AND ts >= $2', params: [cut, before] };
  if (young !== null) cut = young - 1;
  for (;;) {
    const live = yield { sql: `SELECT MIN(seq) AS s FROM approvals WHERE seq <= $1 AND state IN ('pending', 'approved')`, params: [cut] };
    if (live !== null) cut = live - 1;
    const straddler = yield {
      sql: `SELECT MIN(s.open_seq) AS s FROM sessions s WHERE s.open_seq <= $1 AND (s.close_seq IS NULL OR s.close_seq > $1
         OR EXISTS (SELECT 1 FROM calls x WHERE x.session_id = s.id AND (x.seq > $1 OR x.outcome_seq IS NULL OR x.outcome_seq > $1)))`,
      params: [cut],
    };
    if (straddler === null) return cut;
    cut = straddler - 1;
  }
}

/** The cut, asking `one` synchronously (SQLite). */
export function findCutSync(before: string, one: (q: CutQuery) => number | null): number {
  const search = cutSearch(before);
  let step = search.next();
  while (!step.done) step = search.next(one(step.value));
  return step.value;
}

/** The cut, asking `one` asynchronously (PostgreSQL). */
export async function findCutAsync(before: string, one: (q: CutQuery) => Promise<number | null>): Promise<number> {
  const search = cutSearch(before);
  let step = search.next();
  while (!step.done) step = search.next(await one(step.value));
  return step.value;
}

/** A number or NULL from a driver's value (PostgreSQL returns bigint aggregates as strings). */
export function cutNumber(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}
