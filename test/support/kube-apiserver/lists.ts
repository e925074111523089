/**
 * List semantics: equality/existence label selectors, limit/continue paging, and the
 * server-side `Table` rendering kubectl asks for (`Accept: ...;as=Table`).
 */
import type { KObject } from './store.js';

/** Does an object match a selector (`a=b,c!=d,e,!f`)? Returns null for a selector it cannot parse. */
export function selectorMatches(sel: string | null, labels: Record<string, string>): boolean | null {
  if (!sel) return true;
  for (const raw of sel.split(',')) {
    const p = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^([^=!\s]+)\s*!=\s*(\S*)$/.exec(p))) {
      if (labels[m[1]!] === m[2]) return false;
    } else if ((m = /^([^=!\s]+)\s*==?\s*(\S*)$/.exec(p))) {
      if (labels[m[1]!] !== m[2]) return false;
    } else if ((m = /^!([^=!\s]+)$/.exec(p))) {
      if (m[1]! in labels) return false;
    } else if ((m = /^([^=!\s]+)$/.exec(p))) {
      if (!(m[1]! in labels)) return false;
    } else return null;
  }
  return true;
}

function age(ts: unknown): string {
  const t = typeof ts === 'string' ? Date.parse(ts) : NaN;
  if (Number.isNaN(t)) return '<unknown>';
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h`;
}

const nameCol = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 };
const col = (name: string) => ({ name, type: 'string', format: '', description: name, priority: 0 });

/** A meta.k8s.io/v1 Table of objects, as the API server renders it for kubectl. */
export function toTable(resource: string, items: KObject[], rv: string): Record<string, unknown> {
  const pods = resource === 'pods';
  const columnDefinitions = pods ? [nameCol, col('Ready'), col('Status'), col('Restarts'), col('Age')] : [nameCol, col('Age')];
  const rows = items.map((o) => {
    const meta = o.metadata;
    let cells: unknown[] = [meta.name, age(meta.creationTimestamp)];
    if (pods) {
      const st = (o.status ?? {}) as { phase?: string; containerStatuses?: { ready?: boolean; restartCount?: number }[] };
      const cs = st.containerStatuses ?? [];
      cells = [meta.name, `${cs.filter((c) => c.ready).length}/${cs.length}`, st.phase ?? 'Unknown', cs.reduce((n, c) => n + (c.restartCount ?? 0), 0), age(meta.creationTimestamp)];
    }
    const { managedFields: _m, ...partial } = meta;
    return { cells, object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: partial } };
  });
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: rv }, columnDefinitions, rows };
}

/** Apply limit/continue to a sorted list. */
export function page(items: KObject[], limit: number | null, cont: string | null): { items: KObject[]; continue?: string } {
  const start = cont && /^off-\d+$/.test(cont) ? Number(cont.slice(4)) : 0;
  if (!limit || limit <= 0) return { items: items.slice(start) };
  const slice = items.slice(start, start + limit);
  return start + limit < items.length ? { items: slice, continue: `off-${start + limit}` } : { items: slice };
}
