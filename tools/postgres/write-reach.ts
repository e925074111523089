/**
 * What a write reaches beyond the rows it names, for deny rules (widened-relations.ts follows it,
 * widened-denies.ts judges it). A change of rows (INSERT, UPDATE, DELETE, also through a view or
 * an INSERT ... ON CONFLICT; TRUNCATE; not a plain EXPLAIN) of a relation, of its descendants when
 * named without ONLY, of a view's base table, and of every table reached so, runs:
 * - cascading foreign keys (ON DELETE/UPDATE CASCADE, SET NULL, SET DEFAULT): the referencing
 *   table is written, followed in turn (its own cascades, triggers, rules), as the actions the
 *   change fires change it: ON DELETE CASCADE deletes its rows, every other action updates them
 *   (write-runs.ts). TRUNCATE ... CASCADE is refused by the analyser (it names no table it empties);
 * - rules (pg_rewrite other than a view's `_RETURN`): their actions are not followed, so the write
 *   is refused while any conditional deny applies (reachRefusal);
 * - triggers (pg_trigger: not internal, enabled in any mode, 'O', 'R' or 'A', so one that fires
 *   only under session_replication_role = replica counts too; row or statement, any timing,
 *   INSTEAD OF on a view; on the relation, its descendants unless named ONLY, a partitioned
 *   ancestor) on the events the change fires (an UPDATE: also INSERT and DELETE, as a row moved
 *   across partitions fires them): the trigger's function is a function the statement calls, so
 *   a deny on `functions:` refuses the write. What the function's body reads, writes or calls is
 *   not analysed, so, fail closed, a trigger function that is neither built in (pg_catalog's),
 *   nor a well-known extension's (write-runs.ts: uuid-ossp, pgcrypto, citext, identified by
 *   extension membership and language, not by name), nor named by a grant's `functions:` (a
 *   grant naming `public.f` trusts what `f` does; a grant with no `sql` block names none)
 *   refuses the write while a deny rule on tables could apply: one that would match the
 *   statement if it read and wrote every relation of the database (checkTriggers; one cached
 *   catalog query, only then). A deny rule on `statements:` or `functions:` alone does not see
 *   what a trigger runs.
 * - expressions a change of rows evaluates (view-reader.ts Trigger.expression): a table's CHECK
 *   (or exclusion constraint), a column's DEFAULT, a generated column, an index's expression or
 *   predicate (on the relation or a descendant), a partition key expression (also a partitioned
 *   ancestor's: a partition written directly checks it), a domain's CHECK or DEFAULT (a domain a
 *   written column is of, also through domains over domains, arrays, composite types' attributes
 *   and range types): a function one calls (from pg_depend, directly or as an operator's
 *   function) runs on the values written; the catalog lists it with the triggers, judged the
 *   same way, the refusal naming the expression ("column public.t.c's DEFAULT"). An INSERT or
 *   UPDATE evaluates them, a DELETE or TRUNCATE none; an UPDATE evaluates a column's (or its
 *   domain's) DEFAULT and a domain's CHECK only when it sets that column (write-runs.ts).
 * The catalog answers (cascades, triggers and expressions, rules) come with a relation's kind and family, in the
 * one query a statement's relations cost (view-reader.ts); the tables cascades reach are looked
 * up, level by level, only for a statement that changes rows (ViewCatalog.reach).
 */
import { ErrorCode, WardenError, type CallJudge, type ExecContext, type ItemJudgement } from '../../src/tool-api.js';
import { builtInFunction, namedByGrant } from './function-bodies.js';
import type { SqlFacts } from './analysis/types.js';
import type { ViewCatalog } from './view-catalog.js';
import type { Caller } from './pool-shares.js';
import { describePath } from './reach-paths.js';
import type { Triggered, Widened } from './widened-relations.js';

/**
 * The triggers and expressions among `widened.triggered` whose function deny rules cannot trust: neither built in
 * (pg_catalog's), nor a well-known extension's (write-runs.ts), nor named by the `functions:` of a grant behind the
 * decision (function-bodies.ts).
 * A grant with no `sql` block allows every function but names none: it trusts no trigger function
 * (it did, when asked whether the call was allowed with the function among its calls).
 */
function untrusted(widened: Widened, judge: Pick<CallJudge, 'grants'>): Triggered[] {
  return [...widened.triggered.values()].filter((t) => !t.trusted && !builtInFunction(t.fn) && !namedByGrant(t.fn, judge));
}

/**
 * Refuse a write that fires a trigger (or evaluates an expression) whose function deny rules cannot follow (see the top of the
 * file) while a deny rule on tables could apply. Asks the catalog (every relation's name, cached)
 * only when such a trigger is fired and a conditional deny applies.
 */
export async function checkTriggers(
  facts: SqlFacts,
  widened: Widened,
  ctx: Pick<ExecContext, 'judge'>,
  recheck: (f: SqlFacts) => ItemJudgement,
  catalog: ViewCatalog,
  caller?: Caller,
): Promise<void> {
  if (!widened.triggered.size || !ctx.judge) return;
  const blind = untrusted(widened, ctx.judge);
  if (!blind.length) return;
  const all = await catalog.allRelations(caller);
  // Without the list (a reader that cannot say), as if a deny on tables applied: fail closed.
  // Whole rows of every relation, so a `write_columns:` deny counts as a deny on tables too.
  const probe = all
    ? recheck({ ...facts, statements: [], reads: [], writes: [...all], writtenColumns: all.map((table) => ({ table, column: '*' })), functions: [], constructs: [] })
    : null;
  if (probe?.allowed) return;
  const { fn, what, path } = blind[0]!;
  const ids = probe?.ruleIds ?? [];
  const more = blind.length > 1 ? ` (and ${blind.length - 1} more trigger${blind.length > 2 ? 's' : ''} or expression${blind.length > 2 ? 's' : ''})` : '';
  throw new WardenError(
    ErrorCode.DENIED,
    `deny rules cannot be followed into ${what} (${describePath(path)})${more}: what its function ${fn} reads and writes is not analysed, ` +
      `and deny rule${ids.length === 1 ? '' : 's'} ${ids.join(', ') || '(unknown)'} forbid${ids.length === 1 ? 's' : ''} tables it could reach; ` +
      `refused rather than change rows a deny rule may forbid (an admin who trusts ${fn} may name it in the grant's functions)`,
    { ruleIds: ids, reason: 'trigger reach unknown' },
  );
}
