/**
 * A `pg` query that asks the server for at most N rows at the protocol level (Execute with a
 * row limit), in a single round trip, and stops there: a huge table never materialises in Warden's memory, and the
 * statement always goes over the extended protocol, where PostgreSQL refuses a second statement.
 */
import pg from 'pg';

type Connection = { sync(): void };

// pg exports Query at runtime; its typings do not describe the protocol hooks we override.
const BaseQuery = (pg as unknown as { Query: new (config: Record<string, unknown>) => Record<string, unknown> }).Query;

/** Result of a capped query. */
export interface CappedResult {
  fields: { name: string; tableID: number; columnID: number; dataTypeID: number }[];
  rows: unknown[][];
  command: string | null;
  rowCount: number | null;
  truncated: boolean;
}

/** Build a submittable for `client.query(...)` that resolves with at most `limit` rows. */
export function cappedQuery(text: string, values: unknown[], limit: number): { submittable: object; done: Promise<CappedResult> } {
  let resolve!: (r: CappedResult) => void;
  let reject!: (e: unknown) => void;
  const done = new Promise<CappedResult>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  let truncated = false;
  const q = new BaseQuery({
    text,
    values,
    rows: limit,
    rowMode: 'array',
    callback: (err: unknown, res: { fields?: CappedResult['fields']; rows?: unknown[][]; command?: string; rowCount?: number }) => {
      if (err) return reject(err);
      resolve({
        fields: res.fields ?? [],
        rows: res.rows ?? [],
        command: res.command ?? null,
        rowCount: res.rowCount ?? null,
        truncated,
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
    _checkForMultirow: () => void;
    _result: { addCommandComplete(msg: unknown): void };
  };
  internals._getRows = (c, rows) => {
    c.execute({ portal: internals.portal, rows });
    c.sync();
  };
  internals.handlePortalSuspended = () => {
    truncated = true; // more rows exist; they are never fetched
  };
  internals.handleCommandComplete = (msg) => {
    internals._checkForMultirow();
    internals._result.addCommandComplete(msg);
  };
  internals.handleEmptyQuery = () => undefined;
  return { submittable: q, done };
}
