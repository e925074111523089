/**
 * `warden transcripts list|show|verify|export`: the reviewer's view of the transcript store.
 * With --json each subcommand prints exactly one JSON document on stdout (export: JSON Lines);
 * errors go to stderr. `verify` exits 0 only when the whole chain is intact.
 */
import type { CallRecord, SessionFilter, SessionRecord, TranscriptStore } from '../recorder/types.js';

/** What the command needs from its caller; why: tests pass a store and capture output. */
export interface TranscriptsIo {
  store: TranscriptStore;
  json: boolean;
  out: (s: string) => void;
  err: (s: string) => void;
}

const USAGE = `usage: warden transcripts list [--subject S] [--tool T] [--limit N] [--json]
       warden transcripts show SESSION_ID [--json]
       warden transcripts verify [--json]
       warden transcripts export [--format jsonl]`;

class UsageError extends Error {}

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
      case 'export':
        return await exportRecords(rest, io);
      default:
        io.err(sub === undefined ? USAGE : `unknown subcommand ${JSON.stringify(sub)}\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${e.message}\n${USAGE}`);
      return 2;
    }
    const code = (e as { code?: unknown }).code;
    io.err(`error: ${e instanceof Error ? e.message : String(e)}${typeof code === 'string' ? ` (${code})` : ''}`);
    return 1;
  }
}

function options(args: string[], known: string[]): { opts: Map<string, string>; positional: string[] } {
  const opts = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (!known.includes(name)) throw new UsageError(`unknown option --${name}`);
    const value = eq > 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    opts.set(name, value);
  }
  return { opts, positional };
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
  const sessions = await io.store.listSessions(f);
  if (json) {
    io.out(JSON.stringify(sessions));
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
  const got = await io.store.getSession(id);
  if (!got) {
    io.err(`no session ${JSON.stringify(id)}`);
    return 1;
  }
  if (json) {
    io.out(JSON.stringify(got));
    return 0;
  }
  const s = got.session;
  const header = [
    `session    ${s.id}`,
    `principal  ${s.principal.subject} (${s.principal.authMethod}; groups: ${s.principal.groups.join(', ') || '-'})`,
    `client     ${clientOf(s)} over ${s.transport}`,
    `started    ${s.startedAt}`,
    `ended      ${s.endedAt ?? 'still open'}`,
    `calls      ${s.callCount}`,
  ];
  const rows = got.calls.map((c) => [
    timeOf(c.startedAt), s.principal.subject, c.tool, c.connection ?? '-', c.decision,
    c.ruleIds.join(',') || '-', statusOf(c), c.outcome ? duration(c.outcome.durationMs) : '-', summaryOf(c),
  ]);
  const timeline = rows.length
    ? table(['TIME', 'PRINCIPAL', 'TOOL', 'CONNECTION', 'DECISION', 'RULES', 'STATUS', 'DURATION', 'SUMMARY'], rows)
    : '(no calls)';
  io.out(clean(header.join('\n')) + '\n\n' + timeline);
  return 0;
}

async function verify(args: string[], io: TranscriptsIo, json: boolean): Promise<number> {
  const { positional } = options(args, []);
  if (positional.length) throw new UsageError(`unexpected argument ${JSON.stringify(positional[0])}`);
  const v = await io.store.verify();
  if (json) io.out(JSON.stringify(v));
  if (v.ok) {
    if (!json) io.out(`transcript chain intact: ${v.records} records` + (v.head ? ` (head ${v.head.seq} ${v.head.hash})` : ''));
    return 0;
  }
  const b = v.firstBroken;
  io.err(`transcript chain broken at record ${b?.seq ?? '?'}: ${clean(b?.reason ?? 'unknown reason')}`);
  return 1;
}

async function exportRecords(args: string[], io: TranscriptsIo): Promise<number> {
  const { opts, positional } = options(args, ['format']);
  if (positional.length) throw new UsageError(`unexpected argument ${JSON.stringify(positional[0])}`);
  if ((opts.get('format') ?? 'jsonl') !== 'jsonl') throw new UsageError('only --format jsonl is supported');
  const read = io.store.readRecords?.bind(io.store);
  if (!read) {
    io.err('error: this transcript store cannot export records');
    return 1;
  }
  for (let from = 1; ; ) {
    const page = await read(from, 1000);
    for (const r of page) {
      const body: unknown = JSON.parse(r.body);
      io.out(JSON.stringify({ seq: r.seq, kind: r.kind, ref_id: r.refId, ts: r.ts, body, prev_hash: r.prevHash, hash: r.hash }));
    }
    const last = page[page.length - 1];
    if (!last || page.length < 1000) return 0;
    from = last.seq + 1;
  }
}

function clientOf(s: SessionRecord): string {
  return [s.client.name, s.client.version].filter((x) => x).join(' ') || '-';
}

function statusOf(c: CallRecord): string {
  if (!c.outcome) return 'no outcome';
  return c.outcome.errorCode ? `${c.outcome.status} ${c.outcome.errorCode}` : c.outcome.status;
}

function summaryOf(c: CallRecord): string {
  const s = c.factsSummary ?? JSON.stringify(c.args) ?? '';
  return s.length > 80 ? s.slice(0, 79) + '…' : s;
}

function timeOf(iso: string): string {
  return /^\d{4}-\d\d-\d\dT/.test(iso) ? iso.slice(11).replace(/Z$/, '') : iso;
}

function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms * 10) / 10}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

/** Agent-supplied text must not drive the reviewer's terminal: control characters become visible escapes. */
function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function table(head: string[], rows: string[][]): string {
  const cells = [head, ...rows.map((r) => r.map((c) => clean(c).replace(/\n/g, '\\n')))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}
