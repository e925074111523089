/**
 * Deny rules follow what a statement reaches (widened-relations.ts): the rows of a parent named
 * without ONLY include its descendants', a child's rows are its ancestors', reading (or
 * changing rows through) a view reads (or changes) what its definition reads, and a write also
 * changes what cascading foreign keys reach and calls its triggers' functions (write-reach.ts). The policy decided
 * on the names the statement used; the catalog is asked after the decision, so the deny rules
 * are judged again here on the widened facts (ExecContext.judge.denies), written columns too. Allow rules are not: a
 * grant on a view or a parent covers what is read through it.
 */
import { ErrorCode, WardenError, type ExecContext, type ItemJudgement } from '../../src/tool-api.js';
import type { SqlFacts } from './analysis/types.js';
import { statementRelations } from './inheritance.js';
import type { ViewCatalog } from './view-catalog.js';
import type { Caller } from './pool-shares.js';
import { describePaths, reachRefusal } from './reach-paths.js';
import { changesRows, checksKeys, widenRelations, type Widened } from './widened-relations.js';
import { checkTriggers } from './write-reach.js';

/** The statement as if it reached `added` alone: which additions a deny rule matches, for the refusal. */
function alone(facts: SqlFacts, added: string, widened: Widened): SqlFacts {
  const only = (list: readonly string[]) => (list.includes(added) ? [added] : []);
  const writtenColumns = widened.writtenColumns.filter((c) => c.table === added);
  return { ...facts, reads: only(widened.reads), writes: only(widened.writes), writtenColumns, functions: only(widened.functions) };
}

/** Refuse with the deny rules' ids, saying how the statement reaches what they deny. */
function refusal(facts: SqlFacts, widened: Widened, deny: ItemJudgement, recheck: (f: SqlFacts) => ItemJudgement): WardenError {
  const added = [...widened.paths.keys()];
  const culprits = added.filter((x) => !recheck(alone(facts, x, widened)).allowed);
  const paths = (culprits.length ? culprits : added).map((x) => widened.paths.get(x)!);
  return new WardenError(ErrorCode.DENIED, `${deny.reason} (through views, inheritance, cascades, foreign key checks and triggers: ${describePaths(paths)})`, {
    ruleIds: deny.ruleIds,
    reason: 'denied through views or inheritance',
  });
}

/**
 * Refuse (WARDEN_DENIED, with the deny rules' ids) a statement whose reads, writes or calls,
 * widened along inheritance and views, match a deny rule; refuse one that reaches a view or a
 * foreign table deny rules cannot follow (foreign-tables.ts). No catalog lookup when no deny
 * rule could match differently (the pipeline then offers no recheck) or when the statement
 * names no relation; the walk is cached with the relation kinds and view definitions masking
 * uses (view-catalog.ts), so it costs no round trip once warm.
 */
export async function checkWidenedDenies(facts: SqlFacts, ctx: Pick<ExecContext, 'judge'>, catalog: ViewCatalog, caller?: Caller): Promise<void> {
  const recheck = ctx.judge?.denies() ?? null;
  if (!recheck || (facts.reads.length === 0 && facts.writes.length === 0)) return;
  // Every relation of the statement, so that masking's lookup that follows is answered from the cache.
  // A write also follows cascading foreign keys into the tables they reach (write-reach.ts).
  const widened = widenRelations(facts, await catalog.reach(statementRelations(facts), { writes: changesRows(facts) || checksKeys(facts) }, caller));
  if (widened.paths.size) {
    const wide: SqlFacts = { ...facts, reads: widened.reads, writes: widened.writes, writtenColumns: widened.writtenColumns, functions: widened.functions };
    const deny = recheck(wide);
    if (!deny.allowed) throw refusal(facts, widened, deny, recheck);
  }
  const [unknown] = widened.unknown;
  if (unknown) throw reachRefusal(unknown[0], unknown[1]);
  await checkTriggers(facts, widened, ctx, recheck, catalog, caller);
}
