/**
 * `query_database`: one SQL statement, analysed, decided, run read-only when the decision
 * only reads, capped, masked by lineage. The statement that runs is the analysed text.
 */
import { z } from 'zod';
import { ErrorCode, principalKey, WardenError, type ExecContext, type GovernedTool, type ToolOutput } from '../../src/tool-api.js';
import { analyzeSqlCached } from './analysis/index.js';
import { canonicalSql } from './analysis/canonical-form.js';
import type { SqlFacts } from './analysis/types.js';
import type { CappedResult } from './capped-query.js';
import { checkDerivedFlows, planColumnMasks } from './column-masking.js';
import type { PostgresConnection } from './config.js';
import type { PgConnector } from './connector.js';
import type { Caller } from './pool-shares.js';
import type { FieldOrigin } from './catalog-names.js';
import { checkWidenedDenies } from './widened-denies.js';
import { checkMaskedCopies } from './masked-copies.js';
import { checkFunctionBodies } from './function-bodies.js';
import { checkPredicateChannels } from './predicate-channels.js';
import { checkSetReturningCalls } from './set-returning-calls.js';
import { checkDeleteOracles, checkUpdateOracles } from './constraint-oracles.js';
import { checkValidateOracles } from './validate-oracles.js';
import { catalogLockMode, changesCatalog } from './catalog-lock.js';
import { viewsChanged } from './view-prints.js';
import { catalogCheck, catalogMoved, checkedFieldOrigins } from './relation-prints.js';
import { byParts } from './view-reader.js';
import { checkStatisticsValues } from './statistics-values.js';
import { fieldsThroughViews, outputThroughViews, touchesMaskedTable } from './view-masking.js';

const MAX_SQL_CHARS = 20_000;

// Types whose text form PostgreSQL fixes (bool, date/time, interval, uuid, network addresses):
// no free text can hide in them, so the content detectors skip them. numeric and int8 stay
// scanned: a card number fits in either.
const FIXED_FORMAT_OIDS = new Set([16, 1082, 1083, 1114, 1184, 1186, 1266, 2950, 869, 650, 829, 774]);

/**
 * What a cell that is no string counts against max_bytes: a number or boolean 16, and a value pg
 * parsed into an object (an array, json, bytea) the text it is sent as, measured only for those
 * types: counted as 16, `SELECT ARRAY[repeat('x', 5000000)]` returned 5 MB under a 1 MiB cap.
 */
function cellBytes(v: unknown): number {
  if (typeof v !== 'object' || v === null) return 16;
  if (Buffer.isBuffer(v)) return 2 * v.length + 2;
  return Math.max(16, JSON.stringify(v)?.length ?? 16);
}

/** Arguments of query_database. */
export const queryInput = z
  .object({
    connection: z.string().min(1).max(128),
    sql: z.string().min(1).max(MAX_SQL_CHARS),
    params: z.array(z.union([z.string().max(10_000), z.number(), z.boolean(), z.null()])).max(100).optional(),
    max_rows: z.number().int().min(1).max(100_000).optional(),
  })
  .strict();

type QueryInput = z.infer<typeof queryInput>;

const queryOutput = z
  .object({
    columns: z.array(z.object({ name: z.string(), type: z.string().optional(), masked: z.string().optional() })),
    rows: z.array(z.array(z.unknown())),
    row_count: z.number(),
    truncated: z.boolean(),
    affected: z.number().optional(),
    command: z.string().optional(),
    warden: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

/**
 * Build the tool over the family's connectors. `forgetAll`: after a write, every connection's
 * catalog answers are forgotten, not only its own (two connections may reach one database);
 * omitted, the written connection's alone.
 */
export function queryDatabaseTool(connectorFor: (name: string) => PgConnector, forgetAll?: () => void): GovernedTool<QueryInput, SqlFacts> {
  return {
    name: 'query_database',
    factsFamily: 'sql',
    title: 'Query a PostgreSQL database (governed)',
    description:
      'Run one SQL statement on a configured PostgreSQL connection. Every statement is parsed and checked against policy; ' +
      'reads run in a read-only transaction; results are capped and masked. Use list_connections to see what you may reach, ' +
      'and $1, $2 placeholders with params for values.',
    connectionTypes: ['postgres'],
    input: queryInput,
    output: queryOutput,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    parse(input) {
      return analyzeSqlCached(input.sql);
    },
    isReadOnly(facts) {
      return facts.readOnly;
    },
    canonicalArgs(input, facts) {
      return { connection: input.connection, sql: facts.sql, params: input.params ?? [], max_rows: input.max_rows ?? null };
    },
    // The same statement up to whitespace, comments, keyword case, the spelling of its string
    // literals and quoted names, and values moved into params (analysis/canonical-form.ts): the
    // params are in the text, so not beside it. ssh_run needs none: its canonicalArgs already
    // hold the rebuilt command line.
    cooldownArgs(input, facts) {
      return { connection: input.connection, sql: canonicalSql(facts.sql, input.params ?? []), max_rows: input.max_rows ?? null };
    },
    // Where the connection's `url:` secret points (its host, port, database and user), bound with an approval.
    connectionTarget(connection) {
      return connectorFor(connection.name).target();
    },
    // A read whose views were redefined while its lineage was cached is judged anew, once (view-prints.ts).
    execute: (input, facts, ctx) => executeOnce(input, facts, ctx, true),
  };

  /** One judgement and run of the call; `again`: a read may be judged anew once when its views changed. */
  async function executeOnce(input: QueryInput, facts: SqlFacts, ctx: ExecContext, again: boolean): Promise<ToolOutput> {
    const conn = ctx.connection as unknown as PostgresConnection;
    // A masked column's value stored by a write is refused whatever on_derived says.
    checkMaskedCopies(facts, ctx.masking);
    checkDerivedFlows(facts, ctx.masking);
    const connector = connectorFor(conn.name);
    const maxRows = Math.min(input.max_rows ?? conn.max_rows, conn.max_rows);
    // The connection's cap, and never past limits.max_result_bytes (as ssh_run and the kubectl tools).
    const maxBytes = Math.min(conn.max_bytes, ctx.limits.maxBytes > 0 ? ctx.limits.maxBytes : conn.max_bytes);
    // After the policy (a denied call never touches the catalog), before the statement runs:
    // unqualified pg_* relations and unqualified functions must be pg_catalog's as facts said,
    // deny rules follow inheritance and views (a parent's rows include its partitions', a view
    // reads what its definition reads), planner statistics and EXPLAIN over views (values no
    // mask or deny rule follows) are refused while either applies (statistics-values.ts),
    // masks follow inheritance and the views the statement reads (fail closed both), then
    // qualified columns. Each lookup a cold name needs takes a session of the caller's share of
    // the read pool, as its statement does (connector.ts lookupSession); a warm call takes none.
    // A write keeps the constraint facts it is judged by, re-read in its transaction (catalog-lock.ts).
    // Under masks, the call keeps the print of every view definition it is judged by (view-prints.ts).
    // Under masks or deny rules (which follow inheritance), it keeps the print of every relation
    // whose catalog answer it is judged by, re-read with its statement (relation-prints.ts).
    // Without a judge, as if deny rules applied (fail closed).
    const denies = ctx.judge ? ctx.judge.denies() !== null : true;
    const caller: Caller = {
      principal: principalKey(ctx.principal), signal: ctx.signal, ran: false,
      ...(ctx.readOnly ? {} : { judged: new Map<string, string>() }),
      ...(ctx.masking.columns.length ? { viewPrints: new Map<string, string>() } : {}),
      ...(ctx.masking.columns.length || denies ? { relationPrints: new Map<string, string>() } : {}),
    };
    const forget = forgetAll ?? (() => connector.forgetAfterWrite());
    const prints = caller.viewPrints;
    await connector.checkUnqualifiedPgNames(facts.unqualifiedPgRelations, facts.unqualifiedFunctions, caller);
    // An operator is a call by argument types: one in public runs a function no grant names.
    await connector.operators.check(facts.operators, caller);
    // So is a cast: one with a function outside pg_catalog may run on the values of what it reads, writes or calls.
    const castCheck = connector.casts.check([...facts.reads, ...facts.writes], facts.functions, caller);
    if (castCheck) await castCheck; // none when every name was found safe within the TTL
    await checkWidenedDenies(facts, ctx, connector.views, caller);
    // Without a judge, as if deny rules applied (fail closed).
    const guards = { masks: ctx.masking.columns.length > 0, denies };
    await checkStatisticsValues(facts, guards, connector.views, caller);
    const lineage = await outputThroughViews(facts, ctx.masking, connector.views, caller);
    const widened = lineage.masking !== ctx.masking;
    if (widened || lineage.stored !== facts.stored) checkMaskedCopies(lineage, lineage.masking);
    if (widened || lineage.output !== facts.output) checkDerivedFlows(lineage, lineage.masking);
    // A masked column compared where the comparison computes the output (a join, a subquery).
    checkPredicateChannels(facts, lineage.views, lineage.masking);
    // The same through a function outside pg_catalog that the catalog says returns a set.
    await checkSetReturningCalls(facts, lineage.views, lineage.masking, connector.setReturning, caller);
    // A CHECK or foreign key the catalog holds, evaluated on a masked value the statement left as it is.
    if (lineage.masking.columns.length && !facts.readOnly) {
      await checkUpdateOracles(facts, lineage.masking, connector.constraints, connector.views, caller, input.params ?? []);
      await checkDeleteOracles(facts, lineage.masking, connector.constraints, connector.views, caller);
      await checkValidateOracles(facts, lineage.masking, connector.constraints, caller);
    }
    // A function outside pg_catalog returns what its body reads unmasked: under masks, only one a grant names.
    await checkFunctionBodies(facts, ctx.masking, ctx.judge, connector.views, lineage.families, caller);
    await connector.checkQualifiedColumns(facts.qualifiedColumns, caller);
    const recheck = caller.judged ? connector.constraints.recheck(caller.judged) : null;
    // Field metadata names relations the statement names: a cached origin naming another is stale.
    const named = new Set([...facts.reads, ...facts.writes]);
    // The catalog answers the call was judged by (relation-prints.ts): a read re-reads them in its
    // statement's round trip, a write in its transaction before COMMIT.
    const check = caller.relationPrints && (ctx.readOnly || caller.relationPrints.size || prints?.size)
      ? catalogCheck({ relationPrints: caller.relationPrints, viewPrints: prints ?? new Map<string, string>(), named }, byParts) : null;
    // A write's result fields (RETURNING): their origins, checked with its prints before COMMIT.
    let checkedOrigins: (FieldOrigin | null)[] | undefined;
    let r: CappedResult;
    try {
      r = await connector.run(facts.sql, input.params ?? [], {
        readOnly: ctx.readOnly,
        maxRows,
        // Also stops a statement whose answer is far past it on the wire (one huge cell).
        maxBytes,
        timeoutMs: conn.statement_timeout,
        // A client's cancel stops the statement in PostgreSQL; a write is rolled back before COMMIT.
        signal: caller.signal,
        // Its error messages may quote a masked value (`email::regclass` in WHERE): withheld.
        masked: touchesMaskedTable(facts, lineage, lineage.masking),
        // Its share of the pool (max_per_principal): one principal's slow statements never hold every session.
        principal: caller.principal,
        // Shared when judged by catalog facts, exclusive when it may change them; reads, and every
        // call of a Warden with no column masks, take none.
        ...(ctx.readOnly || !ctx.masking.columns.length ? {} : { catalogLock: catalogLockMode(facts.statements, facts.functions, recheck !== null), recheck }),
        // A write: the prints of the relations and views it was judged by re-read before COMMIT, with
        // its statement, or before the statement when it may change the catalog (CREATE OR REPLACE
        // VIEW of one of them, ALTER TABLE ... ATTACH PARTITION).
        ...(check && !ctx.readOnly ? {
          postcheck: {
            text: check.text, values: check.values, before: changesCatalog(facts.statements),
            // Its result fields' origins too (RETURNING), asked before COMMIT as a wait that may
            // be cancelled (the statement was sent: not NOTHING_SENT) and checked by its prints.
            same: async (rows: unknown[], fields?: CappedResult['fields']) => {
              if (!check.same(rows as string[][])) return false;
              if (!fields?.length) return true;
              const asking: Caller = { principal: caller.principal, signal: caller.signal };
              checkedOrigins = (await checkedFieldOrigins(check, rows as string[][], fields, (f) => connector.fieldOrigin(f.tableID, f.columnID, named, asking), forget)) ?? undefined;
              return checkedOrigins !== undefined;
            },
            changed: (rows: unknown[]) => (check.viewsMoved(rows as string[][]) ? viewsChanged(check.views, true) : catalogMoved(true)),
          },
        } : {}),
        ...(check && ctx.readOnly ? { trailer: { text: check.text, values: check.values } } : {}),
      });
    } finally {
      // A statement that may write may have created, dropped, renamed or redefined a relation,
      // maybe one another connection's cache holds (the same database under two names).
      if (!ctx.readOnly) forget();
    }
    // Its lookups from here on wait for a slot as long as it takes, never refused; a write's are never cancelled (it is committed).
    caller.ran = true;
    if (!ctx.readOnly) caller.signal = undefined;
    const origins = checkedOrigins ?? (await Promise.all(r.fields.map((f) => connector.fieldOrigin(f.tableID, f.columnID, named, caller))));
    const fields = await fieldsThroughViews(origins, lineage, facts, ctx.masking, connector.views, caller);
    // A read under masks or deny rules: were the relations, views and field origins it was judged
    // by the catalog's when its statement ran? The trailer's answer, before any row is returned
    // (asked on its own when the statement's answer was cut short).
    if (check && ctx.readOnly) {
      const now = r.trailer ?? (await connector.trailerRows(check, caller));
      if (!check.same(now, r.fields.map((f, i) => ({ tableID: f.tableID, columnID: f.columnID, origin: origins[i] ?? null })))) {
        forget();
        if (again) return executeOnce(input, facts, ctx, false);
        throw check.viewsMoved(now) ? viewsChanged(check.views, false) : catalogMoved();
      }
    }
    const sources = origins.map((o) => (o ? `${o.relation}.${o.column}` : null));
    const plan = planColumnMasks(fields, sources, fields.masking, fields.through);
    let bytes = 0;
    let truncated = r.truncated;
    let kept = r.rows.length;
    const masked = plan.some((p) => p !== null);
    // Rows are masked in place: they are this call's own arrays, fresh from the driver.
    for (let n = 0; n < r.rows.length; n++) {
      const row = r.rows[n]!;
      for (let i = 0; i < row.length; i++) {
        let v = row[i];
        if (masked && plan[i] && v !== null) row[i] = v = ctx.masking.apply(v, plan[i]!);
        bytes += v === null ? 4 : typeof v === 'string' ? v.length : cellBytes(v);
      }
      if (bytes > maxBytes) {
        truncated = true;
        kept = n;
        break;
      }
    }
    const rows = kept === r.rows.length ? r.rows : r.rows.slice(0, kept);
    if (r.fields.length === 0 && !r.command) throw new WardenError(ErrorCode.BACKEND, 'the database returned no result');
    return {
      kind: 'table',
      columns: r.fields.map((f, i) => ({
        name: f.name,
        type: String(f.dataTypeID),
        ...(plan[i] ? { masked: plan[i]! } : FIXED_FORMAT_OIDS.has(f.dataTypeID) ? { fixedFormat: true } : {}),
      })),
      rows,
      rowCount: rows.length,
      truncated,
      affected: r.fields.length === 0 ? r.rowCount : null,
      command: r.command ?? undefined,
    };
  }
}
