/**
 * One call's recorded text in full, in pages: its (masked) result and its complete arguments.
 * Why pages: a 10 MB result or statement never lands in one page; why here: the session timeline
 * shows only previews (strings cut at 300 characters) and links to these.
 */
import type { CallRecord } from '../recorder/types.js';
import { html, href, lookalikeWarning, shown, type Safe } from './html.js';

/** Characters per page of a call's full result or arguments. */
export const TEXT_PAGE = 64_000;

/** A value as indented JSON (String() for what JSON cannot hold). */
export function pretty(v: unknown): string {
  try {
    return JSON.stringify(v, null, 2) ?? 'null';
  } catch {
    return String(v);
  }
}

/** Where a call's full arguments are read; why exported: the timeline's cut notice links here. */
export function argsHref(c: CallRecord, pageNo?: number): string {
  return href(`/calls/${encodeURIComponent(c.id)}/args`, { page: pageNo });
}

/**
 * `notes` (the arguments page): what the page draws above the text, and the texts checked for
 * look-alike words with the tool, the connection and the page of text (as the approval card and
 * `warden transcripts show` check a call's arguments).
 */
function paged(c: CallRecord, title: string, path: string, text: string, pageNo: number, cls: string, notes?: { above: Safe; flagged: string[] }): Safe {
  const pages = Math.max(1, Math.ceil(text.length / TEXT_PAGE));
  const p = Math.min(Math.max(1, pageNo), pages);
  const chunk = text.slice((p - 1) * TEXT_PAGE, p * TEXT_PAGE);
  const link = (n: number, label: string) => html`<a href="${href(path, { page: n })}">${label}</a>`;
  const lookalikes = notes ? lookalikeWarning(c.tool, c.connection ?? '', ...notes.flagged, chunk) : null;
  return html`<h1>${title} of call <code>${shown(c.id)}</code></h1>
    <p><a href="${href(`/sessions/${encodeURIComponent(c.sessionId)}`, {})}#call-${encodeURIComponent(c.id)}">Back to the session</a> · ${shown(c.tool)}${c.connection ? ` @ ${shown(c.connection)}` : ''} · page ${p} of ${pages} (${text.length} characters)</p>${lookalikes ? html`
    <div class="lookalike">${lookalikes}</div>` : ''}${notes ? html`
    ${notes.above}` : ''}
    <pre class="${cls}">${shown(chunk)}</pre>
    <div class="pager">${p > 1 ? link(p - 1, '← Previous') : ''}${p < pages ? link(p + 1, 'Next →') : ''}</div>`;
}

/** One page of a call's full result (masked, as the agent saw it). */
export function resultBody(c: CallRecord, pageNo: number): Safe {
  return paged(c, 'Result', `/calls/${encodeURIComponent(c.id)}/result`, pretty(c.outcome?.result ?? null), pageNo, 'result');
}

/** One page of a call's complete recorded arguments, nothing cut. */
export function argsBody(c: CallRecord, pageNo: number): Safe {
  // The parsed summary, whole up to a page of text: the timeline cuts it (session-page.ts SUMMARY_EXCERPT) and links here.
  const summary = c.factsSummary ?? '(not parsed)';
  const head = summary.length > TEXT_PAGE ? summary.slice(0, TEXT_PAGE) : summary;
  const above = html`<div><strong>Parsed:</strong> <code class="summary">${shown(head)}</code>${head.length < summary.length ? html` <span class="cut">… ${(summary.length - head.length).toLocaleString('en-US')} more characters of the summary</span>` : ''}</div>`;
  return paged(c, 'Arguments', `/calls/${encodeURIComponent(c.id)}/args`, pretty(c.args), pageNo, 'args', { above, flagged: [head] });
}
