/**
 * `warden transcripts show SESSION`: the session's header and its calls' timeline, read and
 * printed in pages of SHOW_PAGE calls. Why: the whole session (every call with its arguments and
 * result) was loaded at once, so a session kept open for days cost the reviewer's CLI memory and
 * one long read in proportion to it. A session of one page prints exactly as before (--json: one
 * line); a longer one prints each page as it is read (--json: the same one document, written in
 * pieces; the human table: a page's column widths are its own, a look-alike warning for a later
 * page is printed before that page's rows).
 */
import type { CallRecord, SessionRecord, TranscriptStore } from '../recorder/types.js';
import { jsonDoc } from './terminal-out.js';
import { clientOf, duration, lookalikeLine, oneLine, statusOf, summaryOf, table, timeOf } from './transcripts-format.js';

/** Calls per read of `show`. */
export const SHOW_PAGE = 1000;

const HEAD = ['TIME', 'PRINCIPAL', 'TOOL', 'CONNECTION', 'DECISION', 'RULES', 'STATUS', 'DURATION', 'SUMMARY'];

/** The session's calls in seq order, a page at a time (all at once from a store that cannot page). */
async function* callPages(store: TranscriptStore, id: string): AsyncGenerator<CallRecord[]> {
  if (!store.sessionCalls) {
    const all = (await store.getSession(id))?.calls ?? [];
    if (all.length) yield all;
    return;
  }
  for (let after = 0; ;) {
    const page = await store.sessionCalls(id, after, SHOW_PAGE);
    if (page.length) yield page;
    const last = page[page.length - 1];
    if (!last || page.length < SHOW_PAGE) return;
    after = last.seq;
  }
}

/** Print one session (the caller found `s` and passes the store it read it from). */
export async function showSession(store: TranscriptStore, s: SessionRecord, out: (line: string) => void, json: boolean): Promise<void> {
  const pages = callPages(store, s.id);
  let page: CallRecord[] = (await pages.next()).value ?? [];
  let following = await pages.next();
  if (json && following.done) {
    out(jsonDoc({ session: s, calls: page }));
    return;
  }
  const texts = (calls: CallRecord[]) => calls.flatMap((c) => [c.connection ?? '', c.factsSummary ?? '', JSON.stringify(c.args) ?? '']);
  const rows = (calls: CallRecord[]) => calls.map((c) => [
    timeOf(c.startedAt), s.principal.subject, c.tool, c.connection ?? '-', c.decision,
    c.ruleIds.join(',') || '-', statusOf(c), c.outcome ? duration(c.outcome.durationMs) : '-', summaryOf(c),
  ]);
  if (json) out(`{"session":${jsonDoc(s)},"calls":[`);
  else {
    const header = [
      `session    ${oneLine(s.id)}`,
      `principal  ${oneLine(s.principal.subject)} (${s.principal.authMethod}; groups: ${oneLine(s.principal.groups.join(', ') || '-')})`,
      `client     ${oneLine(clientOf(s))} over ${s.transport}`,
      `started    ${s.startedAt}`,
      `ended      ${s.endedAt ?? 'still open'}`,
      `calls      ${s.callCount}`,
    ];
    // Look-alike words anywhere in the session (whole statements, not only the cut summaries).
    const warn = lookalikeLine('warning    ', s.principal.subject, ...s.principal.groups, clientOf(s), ...texts(page));
    if (warn) header.push(warn);
    out(header.join('\n') + '\n\n' + (page.length ? table(HEAD, rows(page)) : '(no calls)'));
  }
  for (let first = true; ; first = false) {
    if (json) out(page.map((c) => jsonDoc(c)).join(',') + (following.done ? ']}' : ','));
    else if (!first) {
      const warn = lookalikeLine('warning    ', ...texts(page));
      if (warn) out(warn);
      out(table(HEAD, rows(page)).split('\n').slice(1).join('\n'));
    }
    if (following.done) return;
    page = following.value;
    following = await pages.next();
  }
}
