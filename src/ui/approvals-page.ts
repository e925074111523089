/** The pending-approvals queue: each request with what it would run, and approve/deny forms. */
import type { Principal } from '../tool-api.js';
import type { ApprovalReviewApi, ApprovalView, QueueEntry } from '../approvals/review-api.js';
import { approvalsCount, combinationLine, requesterLabel, reviewersLabel, voidedLine } from '../approvals/views.js';
import { html, href, lookalikeWarning, reviewable, type Safe } from './html.js';
import { hasRtl } from '../visible-text.js';

/**
 * Characters of a request's call (its arguments as the card indents them, and its parsed summary)
 * that a queue card draws; a longer call is drawn whole on its own page (`/ui/approvals?id=ID`),
 * with the buttons, and its queue card says how long it is and links there. Why: a card drew every
 * call whole, and ten calls of 1 MiB of `"` (3.5 million characters of page each: `\"`, then
 * `&quot;`) made every view and live refresh of the queue 35 MB, twenty identities' too long to
 * render at all. Never an excerpt: nothing is decided from a card that does not show the whole call.
 */
export const CARD_CALL_CHARS = 64_000;
/**
 * The call characters one queue page draws in all, its cards in order (the oldest requester's
 * first); a card past it is held back like a long one. Why: cards just under CARD_CALL_CHARS from
 * twenty requesters still made each view and live refresh some 77 MB.
 */
export const QUEUE_PAGE_CHARS = 1_000_000;

/** The call's length as a card counts it (CARD_CALL_CHARS): cheap, nothing rendered. */
/** A bound call's arguments as drawn; a stored call with none (a damaged or hand-made row) draws `null`, never a crash of the queue. */
function argsText(a: ApprovalView, indent?: number): string {
  return a.call ? JSON.stringify(a.call.args ?? null, null, indent) : '';
}

function callChars(a: ApprovalView): number {
  return argsText(a, 1).length + a.summary.length;
}

// A card for a call too long to draw on the queue (or past the page's budget): who and what, its length, the link to its own page; no buttons.
function heldBack(a: ApprovalView, pageFull = false): Safe {
  return html`<section class="call approval held-back" id="approval-${a.id}">
    <h3>${reviewable(a.tool)}${a.connection ? html` @ ${reviewable(a.connection)}` : ''} · requested by ${reviewable(requesterLabel(a))} <span class="badge ${a.state}">${a.state}</span></h3>
    <div class="meta">rules: ${a.rule_ids.join(', ') || '-'} · created ${a.created_at} · expires ${a.expires_at} · id ${a.id}</div>
    <p class="cannot-decide">This call is ${callChars(a).toLocaleString('en-US')} characters, ${pageFull ? `more than this page draws after the requests above it (${QUEUE_PAGE_CHARS.toLocaleString('en-US')} in all)` : `too long to draw here (a card draws up to ${CARD_CALL_CHARS.toLocaleString('en-US')})`}:
      <a href="${href('/approvals', { id: a.id })}">review and decide request ${a.id} on its own page</a>, where it is shown whole.</p>
  </section>`;
}

/** The call characters a queue page may still draw (QUEUE_PAGE_CHARS), spent card by card. */
interface PageBudget {
  left: number;
}

function card({ view: a, refused }: QueueEntry, csrf: string, whole = false, budget?: PageBudget): Safe {
  if (!whole) {
    const n = callChars(a);
    if (n > CARD_CALL_CHARS) return heldBack(a);
    if (budget && n > budget.left) return heldBack(a, true);
    if (budget) budget.left -= n;
  }
  // Every text a reviewer reads here is shown with hidden (bidi, zero-width, control) characters
  // visible: the summary quotes names from the agent's statement, and subjects and comments come
  // from tokens and other reviewers.
  // The whole call, never an excerpt: a reviewer approves exactly what runs (a cut at 4,000
  // characters once hid `OR true` behind a run of spaces). Indentation is JSON's own, 2 spaces a level.
  const args = a.call ? reviewable(argsText(a, 1)) : null;
  // Words that mix Latin with Cyrillic, Greek or full-width letters, over every text on the card.
  const texts = [argsText(a), a.summary, a.connection ?? '', requesterLabel(a), ...a.decisions.flatMap((d) => [d.reviewer, d.comment ?? ''])];
  const lookalikes = lookalikeWarning(...texts);
  // Right-to-left letters read reversed: the stylesheet draws every text in stored order (assets.ts).
  const rtl = texts.some(hasRtl);
  const form = (action: 'approve' | 'deny', label: string) =>
    html`<form method="post" action="${href(`/approvals/${encodeURIComponent(a.id)}/${action}`)}" class="decide">
      <input type="hidden" name="csrf" value="${csrf}"><input type="text" name="comment" maxlength="500" placeholder="comment (optional)">
      <button type="submit" name="decision" value="${action}">${label}</button></form>`;
  // Only the buttons the server would accept for this reviewer; for the others, why not (the
  // approval service's own check, decision-refusal.ts: own request, not a reviewer, already decided).
  const decisions = () => {
    const why = refused.approve ?? refused.deny;
    const note = why ? html`<p class="cannot-decide" title="${reviewable(why.message)}">${refused.deny ? 'You cannot decide this request' : 'You cannot approve this request'}: ${reviewable(why.short)}.</p>` : '';
    return html`${note}${refused.approve ? '' : form('approve', 'Approve')}${refused.deny ? '' : form('deny', 'Deny')}`;
  };
  return html`<section class="call approval" id="approval-${a.id}">
    <h3>${reviewable(a.tool)}${a.connection ? html` @ ${reviewable(a.connection)}` : ''} · requested by ${reviewable(requesterLabel(a))} <span class="badge ${a.state}">${a.state}</span></h3>
    <div class="meta">rules: ${a.rule_ids.join(', ') || '-'} · needs ${a.approvals_required} approval(s)${a.approval_rule ? html` by ${reviewable(reviewersLabel({ reviewers: a.reviewers ?? {} }))} (rule ${a.approval_rule})` : ''} · approvals so far: ${approvalsCount(a)} · created ${a.created_at} · expires ${a.expires_at} · id ${a.id}
      ${a.session_id ? html` · <a href="${href(`/sessions/${encodeURIComponent(a.session_id)}`)}">session</a>` : ''}</div>
    ${a.combination ? html`<div class="combination"><strong>Combined:</strong> ${reviewable(combinationLine(a))}</div>` : ''}
    ${a.voided ? html`<div class="voided"><strong>Voided by a policy change:</strong> ${reviewable(voidedLine(a))}</div>` : ''}
    ${lookalikes ? html`<div class="lookalike">${lookalikes}</div>` : ''}
    ${rtl ? html`<div class="rtl-note">Right-to-left letters (Hebrew, Arabic, …) in this request: every text here is drawn in stored order, left to right, so their words read reversed and nothing around them is moved.</div>` : ''}
    <div><strong>Parsed:</strong> <code>${reviewable(a.summary)}</code></div>
    ${args !== null ? html`<pre class="bound-call">${args}</pre>` : ''}
    ${a.decisions.map((d) => html`<div class="event">${d.at} · ${d.decision} by ${reviewable(d.reviewer)}${d.comment ? html`: “${reviewable(d.comment)}”` : ''}</div>`)}
    ${a.state === 'pending' ? decisions() : ''}
  </section>`;
}

/**
 * The queue region (also the live fragment), as `reviewer` may decide it: the pending total, then
 * each requester's oldest requests under its own heading with its count, the requesters whose
 * oldest pending request is oldest first, and how many requesters are not shown. Why: the queue
 * was the newest 200 of all, so one agent's flood hid another's requests from every reviewer;
 * then the first 20 requesters by name, so 20 identities named "aaa-…" hid everyone after them.
 * `requester`: that subject's requests only (`?requester=NAME`, as the CLI's `--requester`).
 */
export async function approvalsQueue(api: ApprovalReviewApi, csrf: string, reviewer: Principal, requester?: string, only?: string): Promise<Safe> {
  if (only !== undefined) {
    const e = await oneEntry(api, reviewer, only);
    return e
      ? card(e, csrf, true)
      : html`<p id="no-pending">Request ${reviewable(only)} is not pending in the queue you review (decided, expired or unknown). <a href="${href('/approvals')}">Every request</a></p>`;
  }
  const budget: PageBudget = { left: QUEUE_PAGE_CHARS };
  if (!api.queue) {
    const pending = (await api.queueFor(reviewer, 200)).filter((e) => requester === undefined || e.view.requester === requester);
    return pending.length ? html`${pending.map((e) => card(e, csrf, false, budget))}` : html`<p id="no-pending">No pending approvals.</p>`;
  }
  const q = await api.queue(reviewer, requester === undefined ? {} : { requester });
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  let head: Safe;
  if (requester !== undefined) {
    const mine = q.groups.reduce((n, g) => n + g.count, 0);
    if (!mine) return html`<p id="no-pending">No pending approvals from ${reviewable(requester)}. <a href="${href('/approvals')}">Every requester</a></p>`;
    head = html`<p id="queue-total">${plural(mine, 'pending request')} from ${reviewable(requester)} (${q.total} pending in all), the oldest first. <a href="${href('/approvals')}">Every requester</a></p>`;
  } else {
    if (!q.total) return html`<p id="no-pending">No pending approvals.</p>`;
    const cut = Math.max(0, q.requesters - q.groups.length) + (q.requestersCapped ? 1 : 0);
    head = html`<p id="queue-total">${plural(q.total, 'pending request')} from ${q.requestersCapped ? `${q.requesters} or more requesters (only the first ${q.requesters} by name are ordered)` : plural(q.requesters, 'requester')}, each requester's oldest first; the requesters whose oldest pending request is oldest come first.${
      cut ? html` <strong id="requesters-cut">${q.requestersCapped ? `${cut} or more requesters are` : cut === 1 ? '1 requester is' : `${cut} requesters are`} not shown</strong> (the ${q.groups.length} shown have older requests); they appear as these are decided or expire. Show one requester with the filter above.` : ''
    }</p>`;
  }
  return html`${head}
    ${q.groups.map(
      (g) => html`<section class="requester-group"><h2>${reviewable(g.requester)} (${reviewable(g.requesterAuth)}) · ${g.count} pending${g.count > g.entries.length ? html`, the oldest ${g.entries.length} shown` : ''}</h2>
        ${g.entries.map((e) => card(e, csrf, false, budget))}</section>`,
    )}`;
}

/**
 * One pending request as `reviewer` would decide it (its queue entry: the same refusals), or
 * null: not pending, or not on the queue (each requester's oldest; a held-back card links only
 * to a request the queue shows).
 */
async function oneEntry(api: ApprovalReviewApi, reviewer: Principal, id: string): Promise<QueueEntry | null> {
  const v = await api.get(id);
  if (!v || v.state !== 'pending') return null;
  const entries = api.queue ? (await api.queue(reviewer, { requester: v.requester })).groups.flatMap((g) => g.entries) : await api.queueFor(reviewer);
  return entries.find((e) => e.view.id === id) ?? null;
}

/**
 * The approvals page body. The queue is live in notice mode (`data-live-notice`): a change shows
 * `#live-changed` (its space kept from the start: showing it moves nothing) and never re-renders the cards. Why: the queue re-rendered in place, newest
 * first, so an agent that made a second request of the same size while the reviewer read its
 * first moved the new card's Approve button exactly under the reviewer's pointer. A GET form
 * narrows the queue to one requester (`requester`), kept by the reload link and the live fragment;
 * `only` (`?id=ID`) shows that one request, its call whole however long (CARD_CALL_CHARS).
 */
export async function approvalsBody(api: ApprovalReviewApi, csrf: string, reviewer: Principal, decided?: string, requester?: string, only?: string): Promise<Safe> {
  if (only !== undefined) requester = undefined;
  return html`<h1>${only !== undefined ? html`Pending approval <code>${reviewable(only)}</code>` : 'Pending approvals'} <span id="live" class="live"></span></h1>${decided ? html`<p id="decided" class="flash">${decided}</p>` : ''}
    <form method="get" action="${href('/approvals')}" class="requester-filter"><label>Requester <input type="text" name="requester" maxlength="256" value="${requester ?? ''}" placeholder="subject, as the agent signs in"></label>
      <button type="submit">Show</button></form>
    <p id="live-changed" class="flash notice-off">The queue changed since this page was loaded. <a href="${href('/approvals', { requester, id: only })}">Reload</a> to see it
      (cards never move while the page is open, so a click lands on the request you read).</p>
    <div data-live="${href('/approvals', { fragment: 1, requester, id: only })}" data-live-notice>${await approvalsQueue(api, csrf, reviewer, requester, only)}</div>`;
}

/**
 * What a reviewer's own decision did, from the store's answer to it: "You approved request X
 * (query_database @ analytics); it is still pending, 1 of 2 approvals." Why the state: with
 * several approvals required one approval does not approve the request.
 */
export function decidedLine(v: ApprovalView, decision: 'approve' | 'deny'): string {
  // People, as the gate counts them (the view's `approvals`), not the approve decisions listed.
  const now = v.state === 'pending' ? `it is still pending, ${approvalsCount(v)} approvals` : `it is now ${v.state}`;
  return `You ${decision === 'approve' ? 'approved' : 'denied'} request ${v.id} (${v.tool}${v.connection ? ` @ ${v.connection}` : ''}); ${now}.`;
}
