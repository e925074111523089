/**
 * One statement on a session checked out for it (connector.ts run()): a read in one
 * extended-protocol round trip; a write in its own transaction, BEGIN with its timeout and catalog
 * lock, the recheck of the catalog facts it was judged by, its postcheck, COMMIT. The session is
 * reset and released with its share slot after success, destroyed after any error or cancel.
 */
import type pg from 'pg';
import { backendError } from './backend-error.js';
import { cappedQuery, wireBudget, wireCutError, type CappedResult } from './capped-query.js';
import { resetThenRelease } from './pool-session.js';
import { cancelledError, unlessCancelled } from './statement-cancel.js';
import type { TlsPlan } from './tls.js';
import { beginSql, catalogChanged } from './catalog-lock.js';
import type { RunOptions } from './connector.js';

/**
 * Run `sql` on `client`, a session of the pool `o.readOnly` names: `shareBack` gives its
 * principal's share slot back once the session is, `tls` is what a CancelRequest uses, and
 * `forgetAfterWrite` drops the connection's catalog answers when a write's recheck finds them changed.
 */
export async function runOnSession(client: pg.PoolClient, sql: string, params: unknown[], o: RunOptions, shareBack: () => void, tls: TlsPlan,
  forgetAfterWrite: () => void): Promise<CappedResult> {
  let broken: unknown = undefined;
  let handedOff = false;
  try {
    const wire = o.maxBytes === undefined ? undefined : wireBudget(o.maxBytes);
    if (o.readOnly) {
      const q = cappedQuery(sql, params, o.maxRows + 1, wire, o.trailer);
      client.query(q.submittable as pg.QueryConfig);
      const r = await unlessCancelled(q.done, client, o.signal, 'while the statement ran; PostgreSQL was asked to cancel it and its result was dropped', tls);
      if (r.cut) {
        // Its socket is gone: the session is destroyed (the finally block), never reset and pooled.
        broken = new Error('answer past the wire budget');
        return trim(r, o.maxRows);
      }
      handedOff = true;
      resetThenRelease(client, shareBack);
      return trim(r, o.maxRows);
    }
    // BEGIN, the timeout and the catalog lock in one round trip; the lock may wait (for DDL in flight).
    await unlessCancelled(client.query(beginSql(o.timeoutMs, o.catalogLock ?? null)), client, o.signal, 'before the statement was sent; nothing was committed', tls, true);
    if (o.recheck) {
      const now = await unlessCancelled(client.query({ text: o.recheck.text, values: o.recheck.values }), client, o.signal, 'before the statement was sent; nothing was committed', tls, true);
      if (!o.recheck.same(now.rows)) {
        forgetAfterWrite();
        throw catalogChanged();
      }
    }
    // The postcheck (relation-prints.ts catalogCheck): rows as arrays, on its own before a
    // statement that may change the catalog, else as the statement's trailer (no round trip more),
    // checked with the statement's result fields (their origins, before COMMIT).
    const postcheck = async (given?: unknown[], fields?: CappedResult['fields']): Promise<void> => {
      if (!o.postcheck) return;
      const rows = given ?? (await unlessCancelled(client.query({ text: o.postcheck.text, values: o.postcheck.values, rowMode: 'array' }), client, o.signal,
        'before COMMIT; nothing was committed (its transaction is rolled back)', tls)).rows;
      if (!(await o.postcheck.same(rows, fields))) throw o.postcheck.changed(rows);
    };
    if (o.postcheck?.before) await postcheck();
    if (o.signal?.aborted) throw cancelledError('before the statement was sent', true);
    const after = o.postcheck && !o.postcheck.before ? { text: o.postcheck.text, values: o.postcheck.values } : undefined;
    const q = cappedQuery(sql, params, o.maxRows + 1, wire, after);
    client.query(q.submittable as pg.QueryConfig);
    const r = await unlessCancelled(q.done, client, o.signal, 'while the statement ran; PostgreSQL was asked to cancel it and nothing was committed (its transaction is rolled back)', tls);
    if (r.cut) throw wireCutError(wire ?? 0);
    // Its answer came with the statement's; asked on its own should it not have (fail closed either way).
    if (after) await postcheck(r.trailer, r.fields);
    const { trailer: _checked, ...result } = r; // the check's rows are not the statement's
    // The last point of no return: a cancel that arrives once COMMIT is sent finds the write done.
    if (o.signal?.aborted) throw cancelledError('before COMMIT; nothing was committed (its transaction is rolled back)');
    await client.query('COMMIT');
    handedOff = true;
    resetThenRelease(client, shareBack);
    return trim(result, o.maxRows);
  } catch (e) {
    broken = e;
    throw backendError(e, o.masked === true);
  } finally {
    // A client that saw an error (or a cancel) is destroyed, never reused: no half-open
    // transaction, state or pending cancel leaks; an uncommitted write rolls back with it.
    if (!handedOff) {
      client.release(broken ? (broken instanceof Error ? broken : new Error('failed')) : undefined);
      shareBack();
    }
  }
}

function trim(r: CappedResult, max: number): CappedResult {
  if (r.rows.length > max) return { ...r, rows: r.rows.slice(0, max), truncated: true };
  return r;
}
