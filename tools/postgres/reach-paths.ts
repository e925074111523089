/**
 * How a statement reaches what it does not name, in words, and the refusals that say so
 * (widened-relations.ts builds the paths; widened-denies.ts, write-reach.ts and describe-reach.ts
 * refuse with them): each step of a path (a view's read, a descendant, a cascade, a trigger, a
 * foreign key check...) as a verb, and the refusal when deny rules cannot follow a view, a
 * foreign table or a rule.
 */
import { ErrorCode, WardenError } from '../../src/tool-api.js';

/** How one step of a path reaches the next relation (or function). */
export type Step = { to: string; how: 'view' | 'descendant' | 'ancestor' | 'system' | 'call' | 'cascade' | 'key check' | 'trigger' | 'expression'; note?: string };

/** A relation or function the statement does not name, and the steps from one it names. */
export interface Path {
  from: string;
  steps: readonly Step[];
}

/** What deny rules cannot follow: a view (its definition) or a foreign table (its server). */
export type Unfollowable = { kind: 'view' | 'foreign table' | 'write side effect'; why: string; path: Path };

const VERBS: Record<Step['how'], (to: string, note?: string) => string> = {
  view: (to) => `reads ${to}`,
  descendant: (to) => `returns, named without ONLY, the rows of ${to}`,
  ancestor: (to) => `holds rows of ${to}`,
  system: (to) => `is a system view, reading the system catalogs (${to} among them)`,
  call: (to) => `calls ${to}`,
  cascade: (to, note) => `changes, through a foreign key ${note}, the rows of ${to}`,
  'key check': (to, note) => `checks foreign key ${note}: its foreign key check reads ${to}`,
  trigger: (to, note) => `fires trigger ${note}, running ${to}`,
  expression: (to, note) => `evaluates ${note}, calling ${to}`,
};

/** A path in words: "public.v2 reads public.v1, which reads public.secrets". Why: the agent is told how it reached what is denied. */
export function describePath(path: Path): string {
  return [path.from, ...path.steps.map((s, i) => `${i ? ', which ' : ' '}${VERBS[s.how](s.to, s.note)}`)].join('');
}

/** Names listed in a message before the rest are counted. */
const LISTED = 5;

/** Up to LISTED paths in words, the rest counted. */
export function describePaths(paths: readonly Path[]): string {
  const shown = paths.slice(0, LISTED).map(describePath).join('; ');
  return paths.length > LISTED ? `${shown}; and ${paths.length - LISTED} more` : shown;
}

/**
 * The refusal when deny rules cannot follow a view or a foreign table while one could apply:
 * never return rows a deny rule may forbid.
 */
export function reachRefusal(relation: string, u: Unfollowable): WardenError {
  if (u.kind === 'view') return viewDenyRefusal(relation, u.why, u.path);
  if (u.kind === 'write side effect') {
    const via = u.path.steps.length ? ` (${describePath(u.path)})` : '';
    return new WardenError(
      ErrorCode.DENIED,
      `deny rules cannot be followed through the rules of ${relation}${via}: ${u.why}; refused rather than change rows a deny rule may forbid (ask an admin)`,
      { ruleIds: [], reason: 'write side effects unknown' },
    );
  }
  const via = u.path.steps.length ? ` (${describePath(u.path)})` : '';
  return new WardenError(
    ErrorCode.DENIED,
    `deny rules cannot be followed through foreign table ${relation}${via}: ${u.why}; refused rather than return rows a deny rule may forbid (read the source table, or ask an admin)`,
    { ruleIds: [], reason: 'foreign table reach unknown' },
  );
}

/**
 * The refusal when deny rules cannot follow a view while one could apply: never return rows a
 * deny rule may forbid (as viewRefusal for masks).
 */
export function viewDenyRefusal(view: string, why: string, path: Path): WardenError {
  const via = path.steps.length ? ` (${describePath(path)})` : '';
  return new WardenError(
    ErrorCode.DENIED,
    `deny rules cannot be followed through view ${view}${via}: ${why}; refused rather than return rows a deny rule may forbid (read the base tables, or ask an admin to simplify the view)`,
    { ruleIds: [], reason: 'view reach unknown' },
  );
}
