/**
 * A session: its principal and client, then the timeline of calls (parsed summary, decision
 * with rule ids, approval events, arguments and masked result excerpts, duration), in pages;
 * a cut excerpt links to the call's full text (call-pages.ts). The calls are read with their texts
 * cut in SQL (call-previews.ts) and the records with the approval events' bodies alone.
 */
import type { ChainRecord, SessionRecord } from '../recorder/types.js';
import type { CallPreview, TextHead } from '../recorder/call-previews.js';
import { excerpt, html, href, lookalikeWarning, shown, type Safe } from './html.js';
import type { UiStore } from './types.js';
import { actingFor } from '../approvals/actors.js';
import { argsHref, pretty } from './call-pages.js';

/** Calls per timeline page. */
export const CALLS_PER_PAGE = 100;
/** Chain records read per view for the page's approval events; why: a bounded read (the store reads the session's own records by key). */
export const RECORDS_PER_PAGE = 10 * CALLS_PER_PAGE;
/** Characters of a result shown inline. */
export const RESULT_EXCERPT = 4000;
/** Characters of arguments shown inline. */
export const ARGS_EXCERPT = 2000;
/**
 * Characters of a call's stored arguments and of its result read per view; why: a text this long
 * or shorter is drawn from its value as always (strings and arrays cut in place), a longer one as
 * its stored text's head, so a view reads at most this much per text whatever the calls hold.
 */
export const PREVIEW_READ_CHARS = 32_000;
/**
 * Characters of a call's parsed summary, and of its masking report, drawn in the timeline; the
 * rest is counted, and the full arguments page shows the whole summary. Why: both were drawn
 * whole, and a statement within query_database's limit naming 4,250 tables parses to a summary of
 * some 54,000 characters: 100 such calls made each view and live refresh of a session 13 MB.
 */
export const SUMMARY_EXCERPT = 4000;

/** Cut long strings inside a value (keeps its shape visible); counts what was cut. */
function shorten(v: unknown, cut: { n: number }, depth = 0): unknown {
  if (typeof v === 'string' && v.length > 300) {
    cut.n += v.length - 300;
    return `${v.slice(0, 300)}… (+${v.length - 300} characters)`;
  }
  if (depth > 20 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const head = v.slice(0, 50).map((x) => shorten(x, cut, depth + 1));
    if (v.length > 50) (cut.n += 1, head.push(`… (+${v.length - 50} more items)`));
    return head;
  }
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, shorten(x, cut, depth + 1)]));
}

/** A bounded preview of a value: long strings and arrays cut, then the text capped. */
function preview(v: unknown, max: number): { text: string; raw: string; cut: number } {
  const cut = { n: 0 };
  const e = excerpt(pretty(shorten(v, cut)), max);
  return { text: shown(e.text), raw: e.text, cut: e.cut + cut.n };
}

/**
 * The preview of a stored JSON text: its value's as always when read whole; else the head of the
 * text, cut before escaping and never inside a surrogate pair, with the characters left out.
 */
function previewOf(h: TextHead, max: number): { text: string; raw: string; cut: number } {
  if (!h.cut) return preview(JSON.parse(h.head), max);
  let end = Math.min(max, h.head.length);
  const last = h.head.charCodeAt(end - 1);
  if (end < h.head.length && last >= 0xd800 && last <= 0xdbff) end--;
  const text = h.head.slice(0, end);
  return { text: shown(text), raw: text, cut: h.chars - [...text].length };
}

/** Up to `max` characters of a text (never half a surrogate pair) and how many were left out. */
function cutText(s: string, max: number): { text: string; cut: number } {
  if (s.length <= max) return { text: s, cut: 0 };
  const end = s.charCodeAt(max - 1) >= 0xd800 && s.charCodeAt(max - 1) <= 0xdbff ? max - 1 : max;
  return { text: s.slice(0, end), cut: s.length - end };
}

function badge(v: string): Safe {
  return html`<span class="badge ${v.replace(/[^a-z]/g, '')}">${shown(v)}</span>`;
}

function eventLine(r: ChainRecord): Safe {
  let b: Record<string, unknown> = {};
  try {
    b = JSON.parse(r.body) as Record<string, unknown>;
  } catch {
    /* shown as unknown */
  }
  const what = String(b.event ?? 'event');
  const who = b.reviewer ? ` by ${String(b.reviewer)}` : b.requester ? ` for ${String(b.requester)}` : '';
  // A voided request says why: the live policy's refusal of its call.
  const reason = b.reason as { code?: unknown; message?: unknown } | undefined;
  const comment = b.comment ? `: “${String(b.comment)}”` : what === 'voided' && reason ? `: ${String(reason.code)}: ${String(reason.message)}` : '';
  return html`<div class="event">${r.ts} · approval ${shown(b.approvalId ?? r.refId)} · ${badge(what === 'decision' ? String(b.decision ?? what) : what)}${shown(who)}${shown(comment)}</div>`;
}

function callBlock(c: CallPreview, events: ChainRecord[]): Safe {
  const o = c.outcome;
  const args = previewOf(c.argsHead, ARGS_EXCERPT);
  const result = o && c.resultHead ? previewOf(c.resultHead, RESULT_EXCERPT) : null;
  const summary = cutText(c.factsSummary ?? '(not parsed)', SUMMARY_EXCERPT);
  const masking = o?.masking ? cutText(JSON.stringify(o.masking) ?? 'null', SUMMARY_EXCERPT) : null;
  // Look-alike words in what this block draws of the call (as the approval card and `transcripts show` flag them).
  const lookalikes = lookalikeWarning(c.tool, c.connection ?? '', summary.text, args.raw);
  return html`<section class="call" id="call-${c.id}">
    <h3>${c.startedAt.slice(11).replace(/Z$/, '')} · ${shown(c.tool)}${c.connection ? ` @ ${shown(c.connection)}` : ''} ${badge(c.decision)}
      ${o ? badge(o.status) : badge('running')}</h3>
    <div class="meta">rules: ${shown(c.ruleIds.join(', ') || '-')} · policy ${c.policyVersion ?? '-'} · ${o ? `${o.durationMs} ms` : 'no outcome yet'}${o?.errorCode ? ` · ${shown(o.errorCode)}` : ''} · call ${shown(c.id)}</div>${lookalikes ? html`
    <div class="lookalike">${lookalikes}</div>` : ''}
    <div><strong>Parsed:</strong> <code>${shown(summary.text)}</code>${summary.cut ? html` <span class="cut">… ${summary.cut.toLocaleString('en-US')} more characters of the summary: <a class="full-summary" href="${argsHref(c)}">read it whole with the full arguments</a></span>` : ''}</div>
    ${events.map(eventLine)}
    <details><summary>Arguments</summary><pre>${args.text}</pre>${args.cut ? html`<div class="cut">… ${args.cut} more characters: <a class="full-args" href="${argsHref(c)}">read the full arguments</a></div>` : ''}</details>
    ${result
      ? html`<div><strong>Result</strong> (as the agent saw it, masked)${masking ? html` · masking: <code>${shown(masking.text)}</code>${masking.cut ? html` <span class="cut">… ${masking.cut.toLocaleString('en-US')} more characters of the report</span>` : ''}` : ''}</div>
        <pre class="result">${result.text}</pre>${result.cut
          ? html`<div class="cut">… truncated, ${result.cut} more characters: <a href="${href(`/calls/${encodeURIComponent(c.id)}/result`)}">page through the full result</a></div>`
          : ''}`
      : ''}
  </section>`;
}

/** The timeline region (also the live fragment). */
export async function timeline(store: UiStore, s: SessionRecord, after: number): Promise<Safe> {
  const calls = await store.sessionCallPreviews(s.id, after, CALLS_PER_PAGE + 1, PREVIEW_READ_CHARS);
  const more = calls.length > CALLS_PER_PAGE;
  const shown = calls.slice(0, CALLS_PER_PAGE);
  const first = shown[0];
  const last = shown[shown.length - 1];
  // Approval events precede their call's intent (the gate runs first): read from the page start.
  const records = first ? await store.sessionEventRecords(s.id, after, RECORDS_PER_PAGE) : [];
  const byCall = new Map<string, ChainRecord[]>();
  for (const r of records) {
    if (r.kind !== 'approval_event') continue;
    let callId: unknown;
    try {
      const b = JSON.parse(r.body) as Record<string, unknown>;
      callId = b.callId ?? b.call_id;
    } catch {
      continue;
    }
    if (typeof callId !== 'string') continue;
    byCall.set(callId, [...(byCall.get(callId) ?? []), r]);
  }
  return html`${shown.length ? shown.map((c) => callBlock(c, byCall.get(c.id) ?? [])) : html`<p>No calls yet.</p>`}
    <div class="pager">${after > 0 ? html`<a href="${href(`/sessions/${encodeURIComponent(s.id)}`)}">First calls</a>` : ''}
    ${more && last ? html`<a rel="next" href="${href(`/sessions/${encodeURIComponent(s.id)}`, { after: last.seq })}">Next calls →</a>` : ''}</div>`;
}

/** The session page body. */
export async function sessionBody(store: UiStore, s: SessionRecord, after: number): Promise<Safe> {
  const client = [s.client.name, s.client.version].filter(Boolean).join(' ') || '-';
  const live = href(`/sessions/${encodeURIComponent(s.id)}`, { after: after || undefined, fragment: 1 });
  const lookalikes = lookalikeWarning(s.principal.subject, ...s.principal.groups, client);
  return html`<h1>Session <code>${shown(s.id)}</code> <span id="live" class="live"></span></h1>
    <table class="summary"><tbody>
      <tr><th>Principal</th><td>${shown(s.principal.actors?.length ? actingFor(s.principal.subject, s.principal.actors) : s.principal.subject)} (${s.principal.authMethod}; groups: ${shown(s.principal.groups.join(', ') || '-')})</td></tr>
      <tr><th>Client</th><td>${shown(client)} over ${s.transport}</td></tr>
      <tr><th>Started</th><td>${s.startedAt}</td></tr><tr><th>Ended</th><td>${s.endedAt ?? 'still open'}</td></tr>
      <tr><th>Calls</th><td>${s.callCount}</td></tr></tbody></table>${lookalikes ? html`
    <div class="lookalike" id="session-lookalike">${lookalikes}</div>` : ''}
    <h2>Timeline</h2><div data-live="${live}">${await timeline(store, s, after)}</div>`;
}
