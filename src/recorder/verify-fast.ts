/**
 * The fast cross-check of verify: each record arrives with its calls/sessions row (ordered scans
 * of the three tables side by side, no statement per record), and the check rebuilds the canonical body the row
 * implies and compares strings, with no JSON.parse. It only says "certainly consistent": when the
 * rebuilt body differs (a tampered row, an unusual but valid body, a superseded outcome) the exact
 * check in verify-exact.ts gives the verdict and the reason, so results are unchanged.
 */

/** The record columns a walk reads, in order (raw rows are arrays). */
export const RECORDS_SQL = 'SELECT seq, kind, ref_id, ts, body, prev_hash, hash FROM records';
/** The calls columns, in order; why: scanned beside the records (by rowid), never looked up one by one. */
export const CALLS_SQL = `SELECT id, session_id, seq, tool, connection, args, facts_summary, facts, decision, rule_ids, policy_version,
  started_at, status, error_code, result, masking, duration_ms, ended_at, outcome_seq FROM calls`;
/** The sessions columns, in order. */
export const SESSIONS_SQL = 'SELECT id, subject, principal, client, transport, started_at, ended_at, open_seq, close_seq FROM sessions';

/** Column positions in RECORDS_SQL, CALLS_SQL and SESSIONS_SQL rows. */
export const R = { seq: 0, kind: 1, refId: 2, ts: 3, body: 4, prevHash: 5, hash: 6 } as const;
/** Calls row positions. */
export const C = {
  id: 0, session: 1, seq: 2, tool: 3, connection: 4, args: 5, factsSummary: 6, facts: 7, decision: 8, ruleIds: 9,
  policyVersion: 10, started: 11, status: 12, errorCode: 13, result: 14, masking: 15, duration: 16, ended: 17, outcomeSeq: 18,
} as const;
/** Sessions row positions. */
export const S = { id: 0, subject: 1, principal: 2, client: 3, transport: 4, started: 5, ended: 6, openSeq: 7, closeSeq: 8 } as const;

/** A raw row of one of the statements above. */
export type RawRow = unknown[];

/** The record columns that must be TEXT (a raw row's positions and names); all are hashed. */
export const TEXT_COLUMNS: ReadonlyArray<readonly [number, string]> = [
  [R.kind, 'kind'], [R.refId, 'ref_id'], [R.ts, 'ts'], [R.body, 'body'], [R.prevHash, 'prev_hash'], [R.hash, 'hash'],
];

/**
 * Why a record's columns are not all text, or null. Why: the hash is computed over the text the
 * driver decodes, so a column retyped to a BLOB of the same bytes still hashes alike, while
 * readers (and SQL's JSON functions) take it for something else: a result read from a blob body
 * shows as null.
 */
export function nonTextColumn(rec: RawRow): string | null {
  for (const [i, name] of TEXT_COLUMNS) {
    const v = rec[i];
    if (typeof v !== 'string') return `${name} is stored as ${v === null ? 'NULL' : v instanceof Uint8Array ? 'a blob' : typeof v}, not text`;
  }
  return null;
}

/** Rows the walk matched to a record; why: equal to the table counts, no row is an orphan. */
export interface MatchCounts {
  opens: number;
  closes: number;
  intents: number;
  outcomes: number;
  /** approval_event records walked; why: the records table's partial index must hold as many (verify-schema.ts). */
  approvalEvents: number;
  /**
   * The session filter facets the verified intents imply: session id -> its distinct
   * facetCombo()s. Why: call_facets must hold exactly these (verify-facets.ts).
   */
  facets: Map<string, string[]>;
}

/** Empty counts for a walk. */
export function newCounts(): MatchCounts {
  return { opens: 0, closes: 0, intents: 0, outcomes: 0, approvalEvents: 0, facets: new Map() };
}

/** A call's facet within its session (a call without a connection is stored with ''). */
export function facetCombo(tool: unknown, connection: unknown, decision: unknown): string {
  return `${tool as string}\u0000${(connection ?? '') as string}\u0000${decision as string}`;
}

function addFacet(n: Pick<MatchCounts, 'facets'>, sessionId: unknown, combo: string): void {
  const seen = n.facets.get(sessionId as string);
  if (seen === undefined) n.facets.set(sessionId as string, [combo]);
  else if (!seen.includes(combo)) seen.push(combo);
}

/** Add the facets one span walked to another's (a session's calls may fall in both spans). */
export function mergeFacets(into: MatchCounts['facets'], from: MatchCounts['facets']): MatchCounts['facets'] {
  for (const [session, combos] of from) for (const c of combos) addFacet({ facets: into }, session, c);
  return into;
}

// A TEXT column's canonical JSON member value (null for NULL); undefined: not a plain string.
function str(v: unknown): string | undefined {
  if (v === null) return 'null';
  return typeof v === 'string' ? JSON.stringify(v) : undefined;
}

// A JSON-text column as stored (the writer stores canonical parts verbatim).
function jtext(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function subjectOf(principal: string): string | null {
  try {
    const p: unknown = JSON.parse(principal);
    const s = p !== null && typeof p === 'object' ? (p as { subject?: unknown }).subject : undefined;
    return typeof s === 'string' ? s : null;
  } catch {
    return null;
  }
}

/**
 * True when the record's row (`row`: the calls row for call records, the sessions row for session
 * records, undefined when the scan had none in place) certainly agrees with it: the exact check
 * would return null. False means "ask the exact check". Counts the rows it matched.
 */
export function fastConsistent(rec: RawRow, row: RawRow | undefined, n: MatchCounts): boolean {
  const seq = rec[R.seq] as number;
  const ts = rec[R.ts];
  const body = rec[R.body];
  const ref = rec[R.refId];
  const kind = rec[R.kind];
  if (kind === 'approval_event') {
    n.approvalEvents++; // no query-table row to agree with; counted for the index check
    return true;
  }
  if (!row) return false;
  switch (kind) {
    case 'call_intent': {
      if (row[C.id] !== ref || row[C.seq] !== seq || row[C.started] !== ts) return false;
      const at = row[C.outcomeSeq];
      if (at === null) {
        for (let i = C.status; i <= C.ended; i++) if (row[i] !== null) return false;
      } else if (typeof at !== 'number' || at <= seq) return false;
      const expected = `{"args":${jtext(row[C.args])},"connection":${str(row[C.connection])},"decision":${str(row[C.decision])},"facts":${jtext(row[C.facts])},"factsSummary":${str(row[C.factsSummary])},"id":${str(ref)},"policyVersion":${str(row[C.policyVersion])},"ruleIds":${jtext(row[C.ruleIds])},"sessionId":${str(row[C.session])},"startedAt":${str(ts)},"tool":${str(row[C.tool])}}`;
      if (expected !== body || expected.includes('undefined')) return false;
      n.intents++;
      addFacet(n, row[C.session], facetCombo(row[C.tool], row[C.connection], row[C.decision]));
      return true;
    }
    case 'call_outcome': {
      if (row[C.id] !== ref || row[C.outcomeSeq] !== seq || row[C.ended] !== ts) return false;
      const d = row[C.duration];
      if (d !== null && (typeof d !== 'number' || !Number.isFinite(d))) return false;
      const head = `{"callId":${str(ref)},"durationMs":${d === null ? 'null' : JSON.stringify(d)},"endedAt":${str(ts)},"errorCode":${str(row[C.errorCode])},"masking":${jtext(row[C.masking])},"result":`;
      const tail = `,"status":${str(row[C.status])}}`;
      if (head.includes('undefined') || tail.includes('undefined') || typeof body !== 'string') return false;
      if (row[C.result] === null) {
        // The result is stored only in the record: every other member must agree with the row.
        if (body.length <= head.length + tail.length || !body.startsWith(head) || !body.endsWith(tail)) return false;
      } else if (head + jtext(row[C.result]) + tail !== body) return false;
      n.outcomes++;
      return true;
    }
    case 'session_open': {
      if (row[S.id] !== ref || row[S.openSeq] !== seq || row[S.started] !== ts) return false;
      if (row[S.closeSeq] === null && row[S.ended] !== null) return false;
      const principal = row[S.principal];
      if (typeof principal !== 'string' || row[S.subject] !== subjectOf(principal)) return false;
      const expected = `{"client":${jtext(row[S.client])},"id":${str(ref)},"principal":${principal},"startedAt":${str(ts)},"transport":${str(row[S.transport])}}`;
      if (expected !== body || expected.includes('undefined')) return false;
      n.opens++;
      return true;
    }
    case 'session_close': {
      if (row[S.id] !== ref || row[S.closeSeq] !== seq || row[S.ended] !== ts) return false;
      const expected = `{"endedAt":${str(ts)},"id":${str(ref)}}`;
      if (expected !== body || expected.includes('undefined')) return false;
      n.closes++;
      return true;
    }
    default:
      return false;
  }
}

/**
 * Count what an exact-check pass matched; `outcomeAt`: the call's outcome_seq in the same snapshot;
 * `body`: the record's body (an intent's facet is read from it). Why: the orphan shortcut needs
 * every matched row, and the facet check every intent.
 */
export function countExact(kind: unknown, seq: number, outcomeAt: unknown, body: unknown, n: MatchCounts): void {
  if (kind === 'call_intent') {
    n.intents++;
    const b = JSON.parse(String(body)) as { sessionId?: unknown; tool?: unknown; connection?: unknown; decision?: unknown };
    addFacet(n, b.sessionId, facetCombo(b.tool, b.connection, b.decision));
  } else if (kind === 'call_outcome' && outcomeAt === seq) n.outcomes++;
  else if (kind === 'session_open') n.opens++;
  else if (kind === 'session_close') n.closes++;
}
