/**
 * Deny rules follow inheritance (inheritance.ts): a statement that names a parent without ONLY
 * reads (or changes) its descendants' rows too, and a child's rows are its parents' rows, so a
 * deny on any of them must refuse it, while the policy decided on the names the statement used.
 * The catalog is asked after the decision, so the deny rules are judged again here on the facts
 * widened with those relations (ExecContext.judge.denies). Allow rules are not: a grant on the
 * parent covers the rows read through it, and a child named directly needs its own grant.
 */
import { ErrorCode, WardenError, type ExecContext } from '../../src/tool-api.js';
import type { SqlFacts } from './analysis/types.js';
import { reachedRelations, statementRelations, type Reached } from './inheritance.js';
import type { ViewCatalog } from './view-catalog.js';

/** Names listed in a refusal before the rest are counted. */
const LISTED = 5;

function list(names: readonly string[]): string {
  return names.length <= LISTED ? names.join(', ') : `${names.slice(0, LISTED).join(', ')} and ${names.length - LISTED} more`;
}

/** How the statement reaches other relations, for the refusal. */
function explain(reached: ReadonlyMap<string, Reached>): string {
  const parts: string[] = [];
  for (const [r, x] of reached) {
    if (x.descendants.length) parts.push(`${r}, named without ONLY, returns the rows of ${list(x.descendants)} (ONLY ${r} reads its own rows)`);
    if (x.ancestors.length) parts.push(`the rows of ${r} are rows of ${list(x.ancestors)}`);
  }
  return parts.join('; ');
}

/**
 * Refuse (WARDEN_DENIED, with the deny rules' ids) a statement whose reads or writes, widened
 * along inheritance, match a deny rule. No catalog lookup when no deny rule could match
 * differently (the pipeline then offers no recheck) or when the statement names no relation;
 * the families are cached with the relation kinds (view-catalog.ts).
 */
export async function checkInheritedDenies(facts: SqlFacts, ctx: Pick<ExecContext, 'judge'>, catalog: ViewCatalog): Promise<void> {
  const recheck = ctx.judge?.denies() ?? null;
  if (!recheck || (facts.reads.length === 0 && facts.writes.length === 0)) return;
  // Every relation of the statement, so that masking's lookup that follows is answered from the cache.
  const families = await catalog.families(statementRelations(facts));
  const reads = reachedRelations(facts.reads, facts.onlyRelations, families);
  const writes = reachedRelations(facts.writes, facts.onlyRelations, families);
  if (reads.size === 0 && writes.size === 0) return;
  const widen = (named: readonly string[], reached: ReadonlyMap<string, Reached>): string[] =>
    [...new Set([...named, ...[...reached.values()].flatMap((x) => [...x.descendants, ...x.ancestors])])].sort();
  const widened: SqlFacts = { ...facts, reads: widen(facts.reads, reads), writes: widen(facts.writes, writes) };
  const deny = recheck(widened);
  if (deny.allowed) return;
  throw new WardenError(ErrorCode.DENIED, `${deny.reason} (through inheritance: ${explain(new Map([...reads, ...writes]))})`, {
    ruleIds: deny.ruleIds,
    reason: 'denied through inheritance',
  });
}
