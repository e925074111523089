/**
 * Masking by lineage stops at a function body: Warden does not read one, so a function outside
 * pg_catalog returns what its body reads without column masks (`SELECT * FROM public.all_users()`
 * over a masked public.users.email; `SELECT public.email_of(1)`). Fail closed, as for trigger
 * functions (write-reach.ts): while column masks apply (any `masking.columns` entry: masks apply
 * to every principal), a statement that calls a function neither built in (pg_catalog's: facts
 * spell them without a schema) nor named by the `functions:` of a grant behind the decision
 * (the admin's choice to trust what it returns) is refused, wherever the call is: a FROM item,
 * the select list, a WHERE, and the definition of a view the statement reads (down through views
 * of views; system views are not opened). A grant with no `sql` block allows every function but
 * names none, so it trusts none here; without masks nothing changes. The direct calls are the
 * statement's cached facts; the views' calls come, only when the statement reads a view (the
 * relation kinds masking already found), from the walk the statistics check takes under masks
 * (view-catalog.ts reached(), cached): no round trip of its own.
 */
import { ErrorCode, WardenError, type CallJudge, type MaskingContext } from '../../src/tool-api.js';
import type { SqlFacts } from './analysis/types.js';
import { functionKey } from './analysis/names.js';
import { VIEW_KINDS, type ViewCatalog } from './view-catalog.js';
import { isSystemRelation } from './view-lineage.js';
import type { Caller } from './pool-shares.js';

/** A function Warden knows returns no stored value it did not see: pg_catalog's (facts spell them without a schema). */
export function builtInFunction(fn: string): boolean {
  return !fn.includes('.');
}

/** The functions a grant's `sql.functions:` names itself (functionKey spelling), per block object (they live as long as their policy). */
const NAMED = new WeakMap<Record<string, unknown>, ReadonlySet<string>>();

function namedBy(grant: Record<string, unknown>): ReadonlySet<string> {
  let set = NAMED.get(grant);
  if (!set) {
    const sql = grant.sql as { functions?: unknown } | null | undefined;
    const list = Array.isArray(sql?.functions) ? sql.functions : [];
    NAMED.set(grant, (set = new Set(list.filter((f): f is string => typeof f === 'string').map(functionKey))));
  }
  return set;
}

/**
 * Whether some grant behind the decision names `fn` (as facts spell it) in its `functions:`, as an
 * allow matches it (sql-condition.ts): the spelling it names, so `f` there trusts only a built-in
 * f, not public.f. Without a judge that can say, none does.
 */
export function namedByGrant(fn: string, judge: Pick<CallJudge, 'grants'> | undefined): boolean {
  return namedIn(fn, judge?.grants?.() ?? []);
}

/** Whether one of `grants` (allow rules' condition blocks) names `fn` in its `sql.functions:`. */
export function namedIn(fn: string, grants: readonly Record<string, unknown>[]): boolean {
  return grants.some((g) => namedBy(g).has(fn));
}

/**
 * For describe_database: why query_database refuses every read of `relation` under masks because
 * a view it is or reaches calls a function outside pg_catalog none of `grants` names, or null.
 * `grants` are every grant of query_database on the connection (a statement's own grant is not
 * known here, so one naming the function anywhere counts).
 */
export async function viewCallRefusal(relation: string, grants: readonly Record<string, unknown>[], catalog: ViewCatalog, caller?: Caller): Promise<string | null> {
  const reached = await catalog.reached([relation], caller);
  const fn = [...reached.functions].find((f) => !builtInFunction(f) && !namedIn(f, grants));
  return fn ? refusal(fn, [relation], `every statement reading ${relation}`).message : null;
}

/**
 * Refuse (WARDEN_DENIED, rule masking.columns) a statement that calls, itself or through a view's
 * definition, a function outside pg_catalog no grant behind the decision names, while column
 * masks apply (see the top of the file). Nothing is asked without masks or without such a call.
 */
export async function checkFunctionBodies(
  facts: Pick<SqlFacts, 'functions'>,
  masking: MaskingContext,
  judge: Pick<CallJudge, 'grants'> | undefined,
  catalog: ViewCatalog,
  /** The kinds of the statement's relations, as masking found them (view-masking.ts MaskLineage.families): no lookup of its own. */
  families: ReadonlyMap<string, { kind: string }>,
  caller?: Caller,
): Promise<void> {
  if (!masking.columns.length) return;
  for (const fn of facts.functions) if (!builtInFunction(fn) && !namedByGrant(fn, judge)) throw refusal(fn, null);
  // The walk only when the statement reads a view.
  let views: string[] | undefined;
  for (const [name, f] of families) if (VIEW_KINDS.has(f.kind)) (views ??= []).push(name);
  if (views === undefined) return;
  const reached = await catalog.reached(views, caller);
  const viaView = [...reached.functions].find((fn) => !builtInFunction(fn) && !namedByGrant(fn, judge));
  if (viaView === undefined) return;
  // Which view calls it is not kept by the walk: the views the statement reaches, named.
  const shown = reached.views.filter((v) => !isSystemRelation(v));
  throw refusal(viaView, shown.length ? shown : ['a materialized view the statement reads']);
}

function refusal(fn: string, views: readonly string[] | null, who = 'the statement'): WardenError {
  const where = views ? ` (through the definition of ${views.length === 1 ? 'view' : 'one of the views'} ${views.join(', ')})` : '';
  return new WardenError(
    ErrorCode.DENIED,
    `${who} calls ${fn}${where}, a function outside pg_catalog whose body Warden does not read: what it reads is returned without column masks, ` +
      `and it is not named by the grant's functions; refused while column masks apply to you (rule masking.columns) ` +
      `(an admin who trusts what ${fn} returns may name it in the grant's functions)`,
    { ruleIds: ['masking.columns'], reason: 'function body outside masks' },
  );
}
