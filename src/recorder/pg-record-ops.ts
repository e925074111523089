/**
 * The PostgreSQL store's chain writes of sessions and calls (pg-store.ts), each a step of the
 * group-commit writer's transaction (pg-writer.ts): the record appended to the chain and the row
 * of `sessions` or `calls` it opens or closes. The values are checked and put in canonical form
 * when the step is built, before it is queued, so a bad one fails that write alone.
 */
import { canonicalParts, joinParts } from './canonical-json.js';
import { type Columns, intentColumns, outcomeColumns, sessionOpenColumns } from './columns.js';
import { ErrorCode, WardenError } from '../errors.js';
import { pgStoreError } from './pg-errors.js';
import type { PgTx } from './pg-writer.js';
import { AlreadyDone, text } from './store-errors.js';
import type { CallIntent, CallOutcome, SessionStart } from './types.js';

function insertSql(table: string, cols: Columns): [string, unknown[]] {
  const keys = Object.keys(cols);
  return [`INSERT INTO ${table} (${keys.join(', ')}) VALUES (${keys.map((_, i) => `$${i + 1}`).join(', ')})`, keys.map((k) => cols[k])];
}

function parts(o: object): Map<string, string> {
  try {
    return canonicalParts(o);
  } catch (e) {
    throw pgStoreError('write', e);
  }
}

/** A session's open record and row, owned by replica `owner` (PgStore.owner, for recovery). */
export function openOp(s: SessionStart, owner: string): (tx: PgTx) => Promise<void> {
  const p = parts(s);
  const cols = sessionOpenColumns(p);
  const id = text(cols.id, 'session id');
  const ts = text(cols.started_at, 'startedAt');
  const body = joinParts(p);
  return async (tx) => {
    const seq = await tx.append('session_open', id, ts, body);
    await tx.q(...insertSql('sessions', { ...cols, open_seq: seq, owner }));
  };
}

/** A session's close record; AlreadyDone (nothing written, not an error) when it is closed already. */
export function closeOp(id: string, endedAt: string): (tx: PgTx) => Promise<boolean> {
  const body = joinParts(parts({ id, endedAt }));
  return async (tx) => {
    const row = (await tx.q('SELECT close_seq FROM sessions WHERE id = $1 FOR UPDATE', [id])).rows[0] as { close_seq: number | null } | undefined;
    if (!row) throw new WardenError(ErrorCode.TRANSCRIPT, 'transcript store cannot write: unknown session');
    if (row.close_seq !== null) throw new AlreadyDone();
    const seq = await tx.append('session_close', id, endedAt, body);
    await tx.q('UPDATE sessions SET ended_at = $1, close_seq = $2 WHERE id = $3', [endedAt, seq, id]);
    return true;
  };
}

/** A call's intent record and row, counted on its session (which must exist). */
export function intentOp(c: CallIntent): (tx: PgTx) => Promise<void> {
  const p = parts(c);
  const cols = intentColumns(p);
  const id = text(cols.id, 'call id');
  const sessionId = text(cols.session_id, 'sessionId');
  const ts = text(cols.started_at, 'startedAt');
  const body = joinParts(p);
  return async (tx) => {
    const seq = await tx.append('call_intent', id, ts, body);
    const bumped = await tx.q('UPDATE sessions SET call_count = call_count + 1 WHERE id = $1', [sessionId]);
    if (bumped.rowCount !== 1) throw new WardenError(ErrorCode.TRANSCRIPT, 'transcript store cannot write: unknown session');
    await tx.q(...insertSql('calls', { ...cols, seq }));
  };
}

/** A call's outcome record and row update; `onlyIfOpen` (recovery): AlreadyDone when it has one. */
export function outcomeOp(callId: string, o: CallOutcome, onlyIfOpen: boolean): (tx: PgTx) => Promise<boolean> {
  const p = parts(o);
  p.set('callId', JSON.stringify(text(callId, 'call id')));
  const cols = outcomeColumns(p);
  const ts = text(cols.ended_at, 'endedAt');
  const body = joinParts(p);
  return async (tx) => {
    const row = (await tx.q('SELECT outcome_seq FROM calls WHERE id = $1 FOR UPDATE', [callId])).rows[0] as { outcome_seq: number | null } | undefined;
    if (!row) throw new WardenError(ErrorCode.TRANSCRIPT, 'transcript store cannot write: unknown call');
    if (onlyIfOpen && row.outcome_seq !== null) throw new AlreadyDone();
    const seq = await tx.append('call_outcome', callId, ts, body);
    const keys = Object.keys(cols);
    await tx.q(`UPDATE calls SET ${keys.map((k, i) => `${k} = $${i + 1}`).join(', ')}, outcome_seq = $${keys.length + 1} WHERE id = $${keys.length + 2}`, [...keys.map((k) => cols[k]), seq, callId]);
    return true;
  };
}
