/**
 * The stored link between the requests one call waits on together (a combination id on each):
 * which id the gate gives the requests it makes and reuses, and how views read a request's
 * combination back (from the link, or inferred for a request stored before the link existed).
 * Why a module: the gate writes the link and every view (CLI, web UI, notices) reads it the same way.
 */
import { randomUUID } from 'node:crypto';
import type { ApprovalRow, ApprovalStore } from '../recorder/index.js';
import { toView, withCombination } from './views.js';
import type { ApprovalView } from './review-api.js';

/**
 * The combination id for the gate's requests: `reused` are the open requests it takes up again,
 * `open` all of the requester's open requests for the call. An existing combination is kept only
 * when none of its open members is left out (so its views name exactly what the call waits on);
 * otherwise the requests get a new id, and reused ones are relinked (store `link`).
 */
export function combinationIdFor(reused: readonly ApprovalRow[], open: readonly ApprovalRow[]): string {
  const chosen = new Set(reused.map((r) => r.id));
  for (const id of new Set(reused.map((r) => r.combinationId))) {
    if (id !== null && open.every((o) => o.combinationId !== id || chosen.has(o.id))) return id;
  }
  return randomUUID();
}

// Whether a request's view shows a combination at all: only open reviewer requests do.
const combinable = (r: ApprovalRow) => r.confirm === null && (r.state === 'pending' || r.state === 'approved');

// The rows a request's combination is read from: its linked members, or (no link) the open requests for the call.
function sourceOf(tables: ApprovalStore, r: ApprovalRow, now: string): { key: string; read: () => Promise<ApprovalRow[]> } {
  if (r.combinationId !== null) return { key: `c\u0000${r.combinationId}`, read: () => tables.combination(r.combinationId!, now) };
  return { key: `o\u0000${r.requester}\u0000${r.callHash}`, read: () => tables.openFor(r.requester, r.callHash, now) };
}

/** A request's view with its combination (one store read); a failed read shows the request alone. */
export async function combinedView(tables: ApprovalStore, r: ApprovalRow, now: string): Promise<ApprovalView> {
  if (!combinable(r)) return toView(r);
  try {
    return withCombination(r, await sourceOf(tables, r, now).read());
  } catch {
    return toView(r);
  }
}

/** Views of listed rows, each with its combination (one store read per combination or open call listed). */
export function combinedViews(tables: ApprovalStore, rows: readonly ApprovalRow[], now: string): Promise<ApprovalView[]> {
  const reads = new Map<string, Promise<ApprovalRow[]>>();
  return Promise.all(
    rows.map((r) => {
      if (!combinable(r)) return toView(r);
      const src = sourceOf(tables, r, now);
      if (!reads.has(src.key)) reads.set(src.key, src.read());
      return reads.get(src.key)!.then((o) => withCombination(r, o), () => toView(r));
    }),
  );
}
