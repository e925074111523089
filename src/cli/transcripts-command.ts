/**
 * `warden transcripts list|show|replay|verify|head|adopt-head|export|purge`: the reviewer's view of the transcript store.
 * With --json each subcommand prints exactly one JSON document on stdout (export: JSON Lines);
 * errors go to stderr. `verify` exits 0 only when the whole chain is intact (verify and head: transcripts-verify.ts).
 */
import type { ChainRecord, SessionFilter, SignedHead, TranscriptStore } from '../recorder/types.js';
import type { ChainSigner } from '../recorder/signing.js';
import { type ExportWindow, signExportWindow } from '../recorder/export-verify.js';
import { ConfigError } from '../config/yaml-source.js';
import { options, storeOf, UsageError } from './transcripts-options.js';
import { usage } from './usage.js';
import { jsonDoc } from './terminal-out.js';
import { head, verify } from './transcripts-verify.js';
import { adoptHead } from './transcripts-adopt-head.js';
import { showSession } from './transcripts-show.js';
export { SHOW_PAGE } from './transcripts-show.js';
import { timelineLine, clientOf, statusOf, summaryOf, timeOf, duration, lookalikeLine, oneLine, table } from './transcripts-format.js';

/** What the command needs from its caller; why: tests pass a store and capture output. */
export interface TranscriptsIo {
  /** The store, or how to open it (the CLI opens it only after the arguments parsed). */
  store: TranscriptStore | (() => Promise<TranscriptStore>);
  json: boolean;
  out: (s: string) => void;
  err: (s: string) => void;
  /** Stops `replay --follow` and `export` (Ctrl-C, or stdout closed); how often replay polls (default 500 ms). */
  signal?: AbortSignal;
  pollMs?: number;
  /** The configured signing key's check, for `verify --file` without --public-key (undefined: none). */
  signer?: () => Promise<ChainSigner | undefined>;
}

const USAGE = usage('transcripts');

/**
 * The subcommands that only read: a PostgreSQL store is opened read-only for them, so an
 * auditor's role with SELECT alone runs them (docs/transcripts.md). `purge` and `adopt-head` write: not here.
 */
export const READ_SUBCOMMANDS: ReadonlySet<string> = new Set(['list', 'show', 'verify', 'head', 'export', 'replay']);

/** Run one transcripts subcommand and return the process exit code (0 ok, 1 failure, 2 usage). */
export async function runTranscriptsCommand(args: string[], io: TranscriptsIo): Promise<number> {
  const json = io.json || args.includes('--json');
  const [sub, ...rest] = args.filter((a) => a !== '--json');
  try {
    switch (sub) {
      case 'list':
        return await list(rest, io, json);
      case 'show':
        return await show(rest, io, json);
      case 'verify':
        return await verify(rest, io, json);
      case 'head':
        return await head(rest, io, json);
      case 'adopt-head':
        return await adoptHead(rest, io, json);
      case 'export':
        return await exportRecords(rest, io);
      case 'replay':
        return await replay(rest, io, json);
      case 'purge':
        return await purge(rest, io, json);
      default:
        io.err(`${sub === undefined ? 'missing subcommand' : `unknown subcommand ${JSON.stringify(sub)}`}\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${e.message}\n${USAGE}`);
      return 2;
    }
    if (e instanceof ConfigError) throw e; // the store's config: reported as a configuration error
    const code = (e as { code?: unknown }).code;
    io.err(`error: ${e instanceof Error ? e.message : String(e)}${typeof code === 'string' ? ` (${code})` : ''}`);
    return 1;
  }
}

async function list(args: string[], io: TranscriptsIo, json: boolean): Promise<number> {
  const { opts, positional } = options(args, ['subject', 'tool', 'limit']);
  if (positional.length) throw new UsageError(`unexpected argument ${JSON.stringify(positional[0])}`);
  const f: SessionFilter = {};
  const subject = opts.get('subject');
  const tool = opts.get('tool');
  const limit = opts.get('limit');
  if (subject !== undefined) f.subject = subject;
  if (tool !== undefined) f.tool = tool;
  if (limit !== undefined) {
    if (!/^[1-9][0-9]*$/.test(limit)) throw new UsageError('--limit must be a positive integer');
    f.limit = Number(limit);
  }
  const sessions = await (await storeOf(io)).listSessions(f);
  if (json) {
    io.out(jsonDoc(sessions));
    return 0;
  }
  if (sessions.length === 0) {
    io.out('no sessions');
    return 0;
  }
  const rows = sessions.map((s) => [
    s.startedAt, s.id, s.principal.subject, s.transport, clientOf(s), String(s.callCount),
    s.endedAt === null ? 'open' : `${s.endedAt} (${duration(Date.parse(s.endedAt) - Date.parse(s.startedAt))})`,
  ]);
  io.out(table(['STARTED', 'SESSION', 'PRINCIPAL', 'TRANSPORT', 'CLIENT', 'CALLS', 'ENDED'], rows));
  return 0;
}

async function show(args: string[], io: TranscriptsIo, json: boolean): Promise<number> {
  const { positional } = options(args, []);
  const id = positional[0];
  if (id === undefined || positional.length > 1) throw new UsageError('show takes exactly one SESSION_ID');
  const store = await storeOf(io);
  // The session row alone; its calls are read in pages (transcripts-show.ts).
  const s = store.sessionInfo ? await store.sessionInfo(id) : (await store.getSession(id))?.session ?? null;
  if (!s) {
    io.err(`no session ${JSON.stringify(id)}`);
    return 1;
  }
  await showSession(store, s, io.out, json);
  return 0;
}

function dateOpt(v: string | undefined, name: string): string | undefined {
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (!/^\d{4}-\d\d-\d\d/.test(v) || Number.isNaN(d.getTime())) throw new UsageError(`${name} must be an ISO 8601 date or time`);
  return d.toISOString();
}

/**
 * One export line; the schema is documented in docs/transcripts.md (stable: fields are only ever
 * added). The record the store's signed head names carries it (`signed_head`), so the export can
 * be verified offline against the public key (`verify --file`).
 */
function exportLine(r: ChainRecord, signed: SignedHead | undefined, window?: ExportWindow): string {
  return jsonDoc({ ...exportObject(r), ...(signed?.seq === r.seq ? { signed_head: signed } : {}), ...(window ? { export_window: window } : {}) });
}

function exportObject(r: ChainRecord): Record<string, unknown> {
  return { v: 1, seq: r.seq, kind: r.kind, ref_id: r.refId, ts: r.ts, body: JSON.parse(r.body) as unknown, prev_hash: r.prevHash, hash: r.hash };
}

async function exportRecords(args: string[], io: TranscriptsIo): Promise<number> {
  const { opts, positional } = options(args, ['format', 'since', 'until']);
  if (positional.length) throw new UsageError(`unexpected argument ${JSON.stringify(positional[0])}`);
  if ((opts.get('format') ?? 'jsonl') !== 'jsonl') throw new UsageError('only --format jsonl is supported');
  const since = dateOpt(opts.get('since'), '--since');
  const until = dateOpt(opts.get('until'), '--until');
  const store = await storeOf(io);
  const between = store.readRecordsBetween?.bind(store);
  const plain = store.readRecords?.bind(store);
  if ((since || until) && !between) throw new UsageError('this store cannot export a time window');
  const read = between ? (from: number, n: number) => between(from, n, since, until) : plain;
  if (!read) {
    io.err('error: this transcript store cannot export records');
    return 1;
  }
  // A window's last line carries a signed statement of where it starts and ends (export-verify.ts):
  // so written one line late. Without the private key there is none, and `verify --file` needs --expect-head.
  const windowed = since !== undefined || until !== undefined;
  const key = windowed ? await io.signer?.() : undefined;
  let first: ChainRecord | undefined;
  let held: ChainRecord | undefined;
  const emit = (r: ChainRecord): void => {
    if (held) io.out(exportLine(held, signed));
    first ??= r;
    held = r;
  };
  // The signed head as the export starts: every record up to it is in the store by now.
  const head = store.chainHead ? (await store.chainHead()).signedHead : undefined;
  const signed = head && head !== 'malformed' ? { seq: head.seq, hash: head.hash, signedAt: head.signedAt, keyId: head.keyId, signature: head.signature } : undefined;
  // A window is chosen by time, the chain by seq, and a record's time is its writer's clock (a
  // reviewer's decision, a replica's record), so records between two in the window may carry a
  // time outside it: they are written too (read by seq), or the export would have gaps no verify passes.
  let next = 0;
  const fill = async (upTo: number): Promise<void> => {
    while (plain && next && next < upTo && !io.signal?.aborted) {
      const gap = (await plain(next, Math.min(1000, upTo - next))).filter((r) => r.seq < upTo);
      for (const r of gap) emit(r);
      next = gap.length ? gap[gap.length - 1]!.seq + 1 : upTo;
    }
  };
  for (let from = 1; !io.signal?.aborted; ) {
    const page = await read(from, 1000);
    for (const r of page) {
      await fill(r.seq);
      emit(r);
      next = r.seq + 1;
    }
    const last = page[page.length - 1];
    if (!last || page.length < 1000) break;
    from = last.seq + 1;
  }
  if (held && first) {
    const complete = windowed && !io.signal?.aborted;
    const w = complete ? signExportWindow(key, { since: since ?? null, until: until ?? null, after: { seq: first.seq - 1, hash: first.prevHash }, last: { seq: held.seq, hash: held.hash } }) : undefined;
    io.out(exportLine(held, signed, w));
  }
  return 0;
}

async function purge(args: string[], io: TranscriptsIo, json: boolean): Promise<number> {
  const { opts, positional } = options(args, ['before']);
  if (positional.length) throw new UsageError(`unexpected argument ${JSON.stringify(positional[0])}`);
  const before = dateOpt(opts.get('before'), '--before');
  if (!before) throw new UsageError('purge needs --before DATE');
  const store = await storeOf(io);
  if (!store.purge) throw new UsageError('this store does not support retention');
  const r = await store.purge(before);
  if (json) io.out(jsonDoc(r));
  else if (r.cutSeq === 0) io.out(`nothing to purge before ${before}`);
  else io.out(`purged ${r.sessions} sessions, ${r.calls} calls, ${r.records} records (up to record ${r.cutSeq}); checkpoint record ${r.checkpointSeq}`);
  if (r.erased === false) io.err('warden: warning: a reader kept the write-ahead log from being emptied, so it may still hold the purged text until the next checkpoint overwrites it; run purge again when no Warden reads the store to erase it now');
  return 0;
}

/** Chain records per read of `replay`. */
export const REPLAY_PAGE = 500;

async function replay(args: string[], io: TranscriptsIo, json: boolean): Promise<number> {
  const follow = args.includes('--follow');
  const { positional } = options(args.filter((a) => a !== '--follow'), []);
  const id = positional[0];
  if (id === undefined || positional.length > 1) throw new UsageError('replay takes exactly one SESSION_ID');
  // --json is one JSON document (POLICY.md), which a stream that never ends cannot be.
  if (json && follow) throw new UsageError('replay --json prints one document and cannot --follow; follow the human timeline, or poll with export --since');
  const store = await storeOf(io);
  const read = store.sessionRecords?.bind(store);
  if (!read) throw new UsageError('this store cannot replay');
  // The session row alone (its calls come as records, in pages).
  const info = store.sessionInfo ? await store.sessionInfo(id) : (await store.getSession(id))?.session ?? null;
  if (!info) {
    io.err(`no session ${JSON.stringify(id)}`);
    return 1;
  }
  const who = info.principal.subject;
  const tools = new Map<string, string>();
  // --json: the records read and not yet written. Once a session passes a page they are written
  // as each page is read, a record a piece (the document's head first, each record indented as
  // JSON.stringify(.., 2) indents it), the last one held back until it is known whether a comma
  // follows it. Why: all the records in one string (results up to max_result_bytes, indented)
  // passed V8's longest string or the heap for a session of a few hundred large results, and the
  // reviewer got no replay of it at all.
  let records: Record<string, unknown>[] = [];
  let opened = false;
  const record = (r: Record<string, unknown>, comma: boolean) => '    ' + jsonDoc(r, 2).replace(/\n/g, '\n    ') + (comma ? ',' : '');
  const flush = (all: boolean) => {
    if (!opened) io.out(jsonDoc({ session_id: id, subject: who }, 2).replace(/\n}$/, ',\n  "records": ['));
    opened = true;
    const keep = all ? 0 : 1;
    // One piece per record: a page of large results is as long as the session once was.
    const n = records.length - keep;
    for (let i = 0; i < n; i++) io.out(record(records[i]!, !all || i < n - 1));
    records = records.slice(n);
  };
  const done = () => {
    if (!json) return 0;
    // A session of one page: one piece, as it always was.
    if (!opened) io.out(jsonDoc({ session_id: id, subject: who, records }, 2));
    else {
      flush(true);
      io.out('  ]\n}');
    }
    return 0;
  };
  let after = 0;
  // The close is not the end: a call still running when the client left records its outcome after it.
  let closed = false;
  for (;;) {
    if (io.signal?.aborted) return 0;
    if (json && records.length >= REPLAY_PAGE) flush(false);
    const page = await read(id, after, REPLAY_PAGE);
    for (const r of page) {
      after = r.seq;
      if (json) records.push(exportObject(r));
      else {
        const line = timelineLine(r, who, tools);
        io.out(oneLine(line));
        const warn = lookalikeLine(' '.repeat(14), line);
        if (warn) io.out(oneLine(warn));
      }
      if (r.kind === 'session_close') closed = true;
    }
    if (page.length === REPLAY_PAGE) continue;
    if (closed || !follow || io.signal?.aborted) return done();
    await new Promise((resolve) => setTimeout(resolve, io.pollMs ?? 500));
    if (io.signal?.aborted) return 0;
  }
}
