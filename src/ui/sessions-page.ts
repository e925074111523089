/**
 * The sessions list: filters (principal, tool, connection, decision, time range, free text),
 * newest first, keyset paging (any page is as fast as the first).
 */
import { z } from 'zod';
import type { SessionRecord, SessionSearch } from '../recorder/types.js';
import { html, href, shown, type Safe } from './html.js';
import type { UiStore } from './types.js';

const text = z.string().trim().max(200).optional().transform((v) => (v ? v : undefined));
const when = z
  .string()
  .trim()
  .max(40)
  .optional()
  .transform((v, ctx) => {
    if (!v) return undefined;
    const d = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(v) ? v : `${v}Z`);
    if (Number.isNaN(d.getTime())) {
      ctx.addIssue({ code: 'custom', message: 'not a date' });
      return z.NEVER;
    }
    return d.toISOString();
  });

/** Query parameters of the list; why: bad filters are refused, never guessed. */
export const listQuery = z
  .object({
    principal: text,
    tool: text,
    connection: text,
    decision: z.enum(['allow', 'deny', 'error', '']).optional().transform((v) => (v ? v : undefined)),
    since: when,
    until: when,
    q: text,
    cursor: z.string().max(300).regex(/^[A-Za-z0-9_-]*$/).optional(),
    fragment: z.string().optional(),
  })
  .strip();

/** Validated list filters. */
export type ListQuery = z.infer<typeof listQuery>;

function toSearch(q: ListQuery): SessionSearch {
  const f: SessionSearch = { limit: 50 };
  if (q.principal) f.subject = q.principal;
  if (q.tool) f.tool = q.tool;
  if (q.connection) f.connection = q.connection;
  if (q.decision) f.decision = q.decision;
  if (q.since) f.since = q.since;
  if (q.until) f.until = q.until;
  if (q.q) f.text = q.q;
  if (q.cursor) f.cursor = q.cursor;
  return f;
}

function filterParams(q: ListQuery): Record<string, string | undefined> {
  return { principal: q.principal, tool: q.tool, connection: q.connection, decision: q.decision, since: q.since, until: q.until, q: q.q };
}

function row(s: SessionRecord): Safe {
  const client = [s.client.name, s.client.version].filter(Boolean).join(' ') || '-';
  return html`<tr><td><a href="${href(`/sessions/${encodeURIComponent(s.id)}`)}">${s.startedAt}</a></td>
    <td>${shown(s.principal.subject)}</td><td>${shown(client)}</td><td>${s.transport}</td><td>${s.callCount}</td>
    <td>${s.endedAt ?? html`<span class="badge pending">open</span>`}</td></tr>`;
}

/** The table and pager (also the live fragment). */
export async function sessionsTable(store: UiStore, q: ListQuery): Promise<Safe> {
  const page = await store.searchSessions(toSearch(q));
  const rows = page.sessions.length
    ? page.sessions.map(row)
    : html`<tr><td colspan="6">No sessions match these filters.</td></tr>`;
  const pager = html`<div class="pager">${q.cursor ? html`<a href="${href('/', filterParams(q))}">Newest</a>` : ''}
    ${page.next ? html`<a rel="next" href="${href('/', { ...filterParams(q), cursor: page.next })}">Older sessions →</a>` : ''}</div>`;
  return html`<table id="sessions"><thead><tr><th>Started</th><th>Principal</th><th>Client</th><th>Transport</th><th>Calls</th><th>Ended</th></tr></thead>
    <tbody>${rows}</tbody></table>${pager}`;
}

/** The whole list page body. */
export async function sessionsBody(store: UiStore, q: ListQuery): Promise<Safe> {
  const sel = (v: string) => (q.decision === v ? html` selected` : '');
  const input = (name: keyof ListQuery, label: string, type = 'text') =>
    html`<label>${label}<input type="${type}" name="${name}" value="${(q[name] as string | undefined) ?? ''}"></label>`;
  const live = q.cursor ? '' : href('/', { ...filterParams(q), fragment: '1' });
  return html`<h1>Sessions <span id="live" class="live"></span></h1>
    <form class="filters" method="get" action="/ui/">
      ${input('principal', 'Principal')}${input('tool', 'Tool')}${input('connection', 'Connection')}
      <label>Decision<select name="decision"><option value="">any</option><option value="allow"${sel('allow')}>allow</option>
        <option value="deny"${sel('deny')}>deny</option><option value="error"${sel('error')}>error</option></select></label>
      ${input('since', 'From (UTC)')}${input('until', 'Until (UTC)')}${input('q', 'Text')}
      <button type="submit">Filter</button> <a href="/ui/">Clear</a>
    </form>
    <div ${live ? html`data-live="${live}"` : ''}>${await sessionsTable(store, q)}</div>`;
}
