/**
 * What a reloaded policy changes against the running one, for the watcher's warnings and holds
 * (policy-watch.ts): hourly quotas it adds (they start from zero), and what it loses (files,
 * deny rules, masked columns, detectors), which a half-written deploy shows as.
 */
import { resolve } from 'node:path';
import type { CompiledPolicy } from '../policy/types.js';

/**
 * The hourly quotas a new policy adds to its rules ("rule: rows_per_hour"). Why: rows and bytes are
 * recorded only under the quotas that apply to a call (a call under no limit makes no round trip
 * to the shared counters), so a quota added by a reload counts from the reload on, not the hour
 * before it; the reload says so rather than let an admin believe the earlier usage counts.
 */
export function quotasAdded(before: Pick<CompiledPolicy, 'rules'>, after: Pick<CompiledPolicy, 'rules'>): string[] {
  const had = new Map(before.rules.map((r) => [r.id, r.limits]));
  const added: string[] = [];
  for (const r of after.rules) {
    for (const q of ['rows_per_hour', 'bytes_per_hour'] as const) {
      if (r.limits?.[q] !== undefined && had.get(r.id)?.[q] === undefined) added.push(`${r.id}: ${q}`);
    }
  }
  return added;
}

/**
 * Allow rules (by id) the new policy has and the running one has not. Why: a deploy cut inside a
 * rule it adds (before the new rule's `sql:`, `on:` or `approval:`, at a line boundary: still
 * valid YAML) loads a grant wider than the one being written, with no old rule to compare it to;
 * the watcher holds such a reload like a loss (policy-watch.ts), without the loss's warning.
 */
export function allowsAdded(before: Pick<CompiledPolicy, 'rules'>, after: Pick<CompiledPolicy, 'rules'>): string[] {
  const had = new Set(before.rules.filter((r) => r.effect === 'allow').map((r) => r.id));
  return after.rules.filter((r) => r.effect === 'allow' && !had.has(r.id)).map((r) => r.id);
}

/** What a new policy loses against the running one (policy files are absolute paths). */
export interface PolicyLosses {
  /** Files the running policy was loaded from that the new one does not load, with their deny rules. */
  files: { file: string; denyRules: string[] }[];
  /** Deny rules (by id) gone from files the new policy still loads. */
  denyRules: { id: string; file: string }[];
  /** Deny rules kept by id that no longer name an entry they named ("who.groups: contractors"). */
  narrowedDenies: { id: string; lost: string[] }[];
  /**
   * Allow rules kept by id that no longer name a term they named ("sql.read: public.orders"). Why:
   * a deploy cut before an allow's `sql:`, `on:` or `who:` (a line boundary: still valid YAML)
   * keeps the id and grants more than the old file and the new one alike.
   */
  changedAllows: { id: string; lost: string[] }[];
  /** Masked columns no longer masked. */
  maskedColumns: string[];
  /** Masking detectors (built-in or custom, by name) no longer scanning results. */
  detectors: string[];
}

/**
 * What `after` loses against `before`. Why by file and rule id: a half-written deploy shows as a
 * missing file or a file cut after its last whole rule, both of which lose rules by id.
 */
export function policyLosses(before: Pick<CompiledPolicy, 'rules' | 'files' | 'masking'>, after: Pick<CompiledPolicy, 'rules' | 'files' | 'masking'>): PolicyLosses {
  const nowFiles = new Set(after.files.map((f) => resolve(f)));
  const nowDenies = new Set(after.rules.filter((r) => r.effect === 'deny').map((r) => r.id));
  const denies = before.rules.filter((r) => r.effect === 'deny' && !nowDenies.has(r.id));
  const gone = before.files.filter((f) => !nowFiles.has(resolve(f)));
  const masked = new Set(after.masking.columns.map((c) => c.column));
  return {
    files: gone.map((file) => ({ file, denyRules: denies.filter((r) => resolve(r.file) === resolve(file)).map((r) => r.id) })),
    denyRules: denies.filter((r) => nowFiles.has(resolve(r.file))).map((r) => ({ id: r.id, file: r.file })),
    narrowedDenies: lostTerms(before, after, 'deny'),
    changedAllows: lostTerms(before, after, 'allow'),
    maskedColumns: before.masking.columns.map((c) => c.column).filter((c) => !masked.has(c)),
    detectors: detectorNames(before).filter((d) => !detectorNames(after).includes(d)),
  };
}

/**
 * Rules of one effect whose terms lost an entry: a value a list or key held that the new rule (same
 * id and effect) has nowhere under the same path. Why: a deploy cut inside a block-style list
 * (`groups:` one per line) keeps a deny's id and still loads, naming fewer groups; one cut before
 * an allow's condition block or `who:` keeps the allow's id and grants more (a lost term may also
 * narrow an allow: the diff cannot tell, so it holds either). A deliberate edit shows the same,
 * and is held and warned about like a deleted deny. (Order within a list does not count.)
 */
function lostTerms(before: Pick<CompiledPolicy, 'rules'>, after: Pick<CompiledPolicy, 'rules'>, effect: 'allow' | 'deny'): { id: string; lost: string[] }[] {
  const now = new Map(after.rules.filter((r) => r.effect === effect).map((r) => [r.id, r] as const));
  const out: { id: string; lost: string[] }[] = [];
  for (const r of before.rules) {
    const n = r.effect === effect ? now.get(r.id) : undefined;
    if (!n) continue;
    const has = new Set(termLeaves(n));
    const lost = [...new Set(termLeaves(r))].filter((l) => !has.has(l));
    if (lost.length) out.push({ id: r.id, lost });
  }
  return out;
}

/** A rule's terms as `path: value` strings, list indexes left out. */
function termLeaves(r: CompiledPolicy['rules'][number]): string[] {
  const out: string[] = [];
  const walk = (v: unknown, path: string) => {
    if (Array.isArray(v)) for (const x of v) walk(x, path);
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
    else if (v !== undefined) out.push(`${path}: ${String(v)}`);
  };
  // An allow's approval and limits too: a cut before `approval:` runs the call with no reviewer.
  // Its webhook by presence only: an inline URL is a credential, and these terms are logged.
  const approval = r.approval && { ...r.approval, notify: r.approval.notify ? '(a webhook)' : undefined };
  walk({ who: r.who, tool: r.tools, on: r.on, approval, limits: r.limits, ...r.blocks }, '');
  return out;
}

const detectorNames = (p: Pick<CompiledPolicy, 'masking'>) => [...p.masking.detectors, ...p.masking.custom.map((c) => c.name)];

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** The losses in words, or null for none. */
export function describeLosses(l: PolicyLosses): string | null {
  const parts = [
    ...l.files.map((f) => `${f.file} no longer loads, and with it ${plural(f.denyRules.length, 'deny rule')}${f.denyRules.length ? ` (${f.denyRules.join(', ')})` : ''}`),
    ...l.denyRules.map((r) => `deny rule ${r.id} is gone from ${r.file}`),
    ...l.narrowedDenies.map((r) => `deny rule ${r.id} no longer covers ${r.lost.join(', ')}`),
    ...l.changedAllows.map((r) => `allow rule ${r.id} no longer names ${r.lost.join(', ')}`),
    ...(l.maskedColumns.length ? [`no longer masked: ${l.maskedColumns.join(', ')}`] : []),
    ...(l.detectors.length ? [`masking detectors gone: ${l.detectors.join(', ')}`] : []),
  ];
  return parts.length ? parts.join('; ') : null;
}

