/**
 * A `pg` query that asks the server for at most N rows at the protocol level (Execute with a
 * row limit), in a single round trip, and stops there: a huge table never materialises in Warden's memory, and the
 * statement always goes over the extended protocol, where PostgreSQL refuses a second statement.
 *
 * And for at most so many bytes: a row limit does not bound a row's size. One cell may be a
 * gigabyte (`repeat(...)`, a recursive CTE doubling a string), which pg buffers whole and then
 * decodes into one string: past V8's longest string (about 512 MiB) that threw out of the
 * socket's data event and ended the process, and below it a few such rows exhaust the heap.
 * So the bytes the session receives while the statement runs are counted as they arrive, and
 * once they pass the budget the socket is destroyed: no message larger than the budget (plus
 * one chunk) is ever completed, the backend sees its client gone and ends the statement (a
 * write's transaction rolls back), and the query answers the rows received so far with `cut`.
 */
import type { Socket } from 'node:net';
import '../../src/pg-stream-probe.js'; // before pg: spares its probe loading Node's fetch
import pg from 'pg';
import { createRequire } from 'node:module';
import { ErrorCode, WardenError } from '../../src/tool-api.js';

/**
 * The bytes one statement's answer may take on the wire for a call capped at `maxBytes`: four
 * times it plus 64 KiB. max_bytes counts the text of the values Warden returns, while the wire
 * also carries each row's and cell's framing and a character may take up to 4 bytes in UTF-8,
 * so a result that fits max_bytes nearly always fits this too. At most 256 MiB and 64 KiB
 * (max_bytes is at most 64 MiB): below V8's longest string.
 */
export function wireBudget(maxBytes: number): number {
  return maxBytes * 4 + 64 * 1024;
}

/** A write whose answer passed the wire budget: stopped before COMMIT, so rolled back. */
export function wireCutError(budget: number): WardenError {
  return new WardenError(
    ErrorCode.BACKEND,
    `the statement's answer passed ${budget} bytes (four times max_bytes, and 64 KiB), so it was stopped and nothing was committed (its transaction is rolled back); return less (fewer or shorter RETURNING values)`,
  );
}

type Connection = { sync(): void; stream?: Socket };
/** pg's own mapping of a JavaScript value to a bound parameter (arrays to array literals), as its queries bind. */
const prepareValue = (createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue(v: unknown): unknown }).prepareValue;
/** The protocol writes pg's Connection makes (its typings do not list them). */
type TrailerWire = {
  parse(o: { text: string; name: string; types: unknown[] }): void;
  bind(o: { portal: string; statement: string; values: unknown[]; valueMapper: (v: unknown) => unknown }): void;
  execute(o: { portal: string; rows: number }): void;
};

// pg exports Query at runtime; its typings do not describe the protocol hooks we override.
const BaseQuery = (pg as unknown as { Query: new (config: Record<string, unknown>) => Record<string, unknown> }).Query;

/** Result of a capped query. */
export interface CappedResult {
  fields: { name: string; tableID: number; columnID: number; dataTypeID: number }[];
  rows: unknown[][];
  command: string | null;
  rowCount: number | null;
  truncated: boolean;
  /**
   * The bytes the server sent passed the budget: the statement was stopped and its session's
   * socket destroyed (it must never be pooled again), `rows` are those received before.
   */
  cut?: boolean;
  /**
   * The rows of the trailer query sent with the statement (cappedQuery's `trailer`), as text
   * cells in its column order; absent when it was not asked, or its answer did not arrive (a cut).
   */
  trailer?: (string | null)[][];
}

/**
 * A catalog query sent in the statement's round trip, after it and before Sync: run in the
 * same implicit transaction, on the same session, once the statement has completed (PostgreSQL
 * runs nothing after a failed message before Sync, so it runs only after a statement that
 * succeeded). Its columns are read as text (no Describe is asked).
 */
export interface Trailer {
  text: string;
  values: unknown[];
}

/**
 * Build a submittable for `client.query(...)` that resolves with at most `limit` rows, and stops
 * the statement once its session has received more than `maxWireBytes` bytes (no limit when
 * omitted): then it resolves with the rows received before, `truncated` and `cut` set.
 */
export function cappedQuery(text: string, values: unknown[], limit: number, maxWireBytes?: number, trailer?: Trailer): { submittable: object; done: Promise<CappedResult> } {
  let resolve!: (r: CappedResult) => void;
  let reject!: (e: unknown) => void;
  const done = new Promise<CappedResult>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  let truncated = false;
  let cut = false;
  // The statement's answer is complete (its CommandComplete, PortalSuspended or EmptyQuery):
  // what arrives after it is the trailer's.
  let statementDone = false;
  let trailerRows: (string | null)[][] = [];
  let trailerDone = false;
  let unwatch = (): void => undefined;
  const q = new BaseQuery({
    text,
    values,
    rows: limit,
    rowMode: 'array',
    callback: (err: unknown, res: { fields?: CappedResult['fields']; rows?: unknown[][]; command?: string; rowCount?: number }) => {
      unwatch();
      if (cut) {
        // The socket was destroyed on purpose: what arrived before the budget is the answer.
        const partial = internals._result as unknown as { fields?: CappedResult['fields']; rows?: unknown[][] };
        return resolve({ fields: partial.fields ?? [], rows: partial.rows ?? [], command: null, rowCount: null, truncated: true, cut: true });
      }
      if (err) return reject(err);
      resolve({
        fields: res.fields ?? [],
        rows: res.rows ?? [],
        command: res.command ?? null,
        rowCount: res.rowCount ?? null,
        truncated,
        ...(trailerDone ? { trailer: trailerRows } : {}),
      });
    },
  });
  // One round trip: Parse, Bind, Describe, Execute(limit) and Sync go out together. PostgreSQL
  // stops at the limit (PortalSuspended), and Sync ends the implicit transaction, closing the
  // portal; pg's default would Flush, wait, and Sync in a second round trip.
  const internals = q as unknown as {
    portal: string;
    _getRows: (c: Connection & { execute(o: { portal: string; rows: number }): void }, rows: number) => void;
    handlePortalSuspended: (c: Connection) => void;
    handleCommandComplete: (msg: unknown, c: Connection) => void;
    handleEmptyQuery: (c: Connection) => void;
    handleDataRow: (msg: { fields: (string | null)[] }) => void;
    _checkForMultirow: () => void;
    _result: { addCommandComplete(msg: unknown): void };
    submit: (c: Connection) => unknown;
  };
  if (maxWireBytes !== undefined) {
    const submit = internals.submit;
    internals.submit = function (this: unknown, c: Connection) {
      const socket = c.stream;
      if (socket) {
        let received = 0;
        const count = (chunk: Buffer): void => {
          received += chunk.length;
          if (received > maxWireBytes && !cut) {
            cut = true;
            socket.destroy();
          }
        };
        // First in line, so a chunk that crosses the budget is counted before pg parses it.
        socket.prependListener('data', count);
        unwatch = () => socket.removeListener('data', count);
      }
      return submit.call(this, c);
    };
  }
  internals._getRows = (c, rows) => {
    c.execute({ portal: internals.portal, rows });
    if (trailer) {
      const wire = c as unknown as TrailerWire;
      // The unnamed statement and portal: the statement's own portal is done with (suspended
      // portals are never fetched from again), and both end with the implicit transaction at Sync.
      wire.parse({ text: trailer.text, name: '', types: [] });
      wire.bind({ portal: '', statement: '', values: trailer.values, valueMapper: prepareValue });
      wire.execute({ portal: '', rows: 0 });
    }
    c.sync();
  };
  internals.handlePortalSuspended = () => {
    truncated = true; // more rows exist; they are never fetched
    statementDone = true;
  };
  if (trailer) {
    const ownRow = internals.handleDataRow.bind(q);
    internals.handleDataRow = (msg) => {
      if (!statementDone) return ownRow(msg);
      trailerRows.push(msg.fields);
    };
  }
  internals.handleCommandComplete = (msg) => {
    if (statementDone) {
      trailerDone = true; // the trailer's own completion
      return;
    }
    statementDone = true;
    internals._checkForMultirow();
    internals._result.addCommandComplete(msg);
  };
  internals.handleEmptyQuery = () => {
    statementDone = true;
  };
  return { submittable: q, done };
}
