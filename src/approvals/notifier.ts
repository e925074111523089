/**
 * Webhooks on new approval requests and decisions: a generic JSON body or a Slack-compatible
 * one. Delivery runs in the background with retries and backoff and never blocks a call. The
 * call's text is escaped (and fenced) so that a crafted statement cannot forge the message, and
 * shown as every reviewer view shows it (preview.ts): hidden characters visible, look-alike words
 * flagged, a cut announced outside the fence, and every line with right-to-left letters held in
 * stored order (inStoredOrder; Slack draws text with the bidi algorithm, which reorders `5, 50000`
 * between two Hebrew letters) with a note that their words read reversed. A notice is masked by the policy's content detectors
 * before it leaves (NotifierOptions.mask), signed when the rule names a `secret`
 * (webhook-signing.ts), and sent to each webhook in the order the notices happened. Each carries
 * `seq`, the transcript seq of the record it reports: the order across processes (replicas, CLIs).
 */
import type { ApprovalView } from './review-api.js';
import { callPreview, type CallPreview } from './preview.js';
import { reviewable } from './reviewable.js';
import { RTL_NOTE, hasRtl, inStoredOrder, visibleJson } from '../visible-text.js';
import { approvalsCount, combinationLine, requesterLabel } from './views.js';
import { signedHeaders, webhookKey, webhookMessageId } from './webhook-signing.js';

/** The `notify:` block of an approval rule. */
export interface NotifySpec {
  webhook: string;
  format: 'json' | 'slack';
  /** A secret reference (env:NAME, file:/path): each notice is signed with it (webhook-signing.ts); unresolvable, nothing is sent. */
  secret?: string;
}

/** What happened to a request. */
export interface ApprovalNotice {
  event: 'requested' | 'decision' | 'approved' | 'denied' | 'expired' | 'voided' | 'withdrawn';
  /**
   * The transcript seq of the approval_event record this notice reports: one order across every
   * process writing the store (replicas, reviewer CLIs), which arrival order is not.
   */
  seq: number;
  approval: ApprovalView;
  /** The canonical call (tool, connection, normalised arguments). */
  call: unknown;
  reviewer?: { subject: string; decision: 'approve' | 'deny'; comment: string | null };
  /** `voided`: the live policy's refusal of the call the request waited for (Warden's words, rule ids). */
  reason?: { code: string; message: string; ruleIds: string[] };
  /** `withdrawn`: whose approval no longer counts (the reviewer no longer qualifies), and why. */
  withdrawn?: { reviewer: string; why: string };
}

/** Fire-and-forget delivery; `drain` lets a short-lived process (the CLI) wait for it. */
export interface Notifier {
  notify(spec: NotifySpec, notice: ApprovalNotice): void;
  drain(timeoutMs?: number): Promise<void>;
}

/** Options; why: tests shorten the backoff, runtime resolves secret references. */
export interface NotifierOptions {
  resolve?: (ref: string) => Promise<string>;
  attempts?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
  /**
   * Masks a notice before it is sent (the server and the CLI pass the live policy's content
   * detectors: server/policy-scanner.ts); why: a webhook leaves Warden for a chat channel or a
   * bot. A mask that throws sends nothing (fail closed).
   */
  mask?: (notice: unknown) => unknown;
}

const MAX_CALL_TEXT = 1500;

/** Escape text for Slack mrkdwn; why: `<!channel>`, links and formatting must not come from call text. */
export function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Text fenced as code: escaped, backticks neutralised so the fence cannot be closed early. */
export function slackCode(s: string): string {
  return '```' + escapeSlack(s).replace(/`/g, 'ˋ') + '```';
}

/**
 * The call's section: the look-alike warning, the fenced preview, and, when the preview was cut,
 * a notice outside the fence (call text cannot forge or hide it) saying how much is shown and
 * where to read the whole call.
 */
function slackCall(p: CallPreview, id: string, rtl: boolean): string {
  const parts = [p.warning ? escapeSlack(p.warning) : '', rtl ? `_note: ${escapeSlack(RTL_NOTE)}_` : '', slackCode(inStoredOrder(p.text))];
  if (p.cut) {
    const n = (v: number) => v.toLocaleString('en-US');
    parts.push(`_preview cut: ${n(p.shown)} of ${n(p.total)} characters shown, the middle left out; read the whole call in the reviewer UI or with_ \`warden approvals show ${escapeSlack(id).replace(/`/g, 'ˋ')}\``);
  }
  return parts.filter(Boolean).join('\n');
}

/** One line of agent- or token-supplied text for a Slack field: hidden characters visible, on one line, escaped. */
function slackLine(s: string): string {
  return escapeSlack(inStoredOrder(reviewable(s).replace(/[\r\n]+/g, ' ')));
}

/** Whether any text of the notice a person reads holds right-to-left letters (the note is added). */
function rtlIn(n: ApprovalNotice): boolean {
  const a = n.approval;
  return [callText(n), headline(n), a.summary, a.rule_ids.join(', '), a.approval_rule ?? '', n.reviewer?.comment ?? '', combinationLine(a)].some(hasRtl);
}

function headline(n: ApprovalNotice): string {
  const a = n.approval;
  switch (n.event) {
    case 'requested':
      return `approval requested by ${requesterLabel(a)} for ${a.tool}${a.connection ? ` on ${a.connection}` : ''} (${a.approvals_required} approval${a.approvals_required === 1 ? '' : 's'} needed, expires ${a.expires_at})${a.combination ? `; ${combinationLine(a)}` : ''}`;
    case 'decision':
      return `${n.reviewer?.subject ?? 'a reviewer'} voted ${n.reviewer?.decision ?? '?'} on a request by ${requesterLabel(a)} (${approvalsCount(a)} approvals, ${a.state})`;
    case 'voided':
      return `request by ${requesterLabel(a)} for ${a.tool} is now voided: the live policy refused the call after a reload (${n.reason?.code ?? 'refused'}: ${n.reason?.message ?? ''}); its approvals will never run it`;
    case 'withdrawn':
      return `${n.withdrawn?.reviewer ?? 'a reviewer'}'s approval of a request by ${requesterLabel(a)} for ${a.tool} was withdrawn (${n.withdrawn?.why ?? 'no longer a reviewer'}); it is now ${a.state}`;
    default:
      return `request by ${requesterLabel(a)} for ${a.tool} is now ${n.event}${n.reviewer ? ` (by ${n.reviewer.subject})` : ''}`;
  }
}

function preview(n: ApprovalNotice): CallPreview {
  const a = n.approval;
  return callPreview(callText(n), MAX_CALL_TEXT, [a.summary, requesterLabel(a), a.connection ?? '', n.reviewer?.subject ?? '', n.reviewer?.comment ?? '']);
}

/**
 * The call as a person reads it: the statement or command first, then every other argument that
 * runs (but the connection, in the headline) as `name: JSON` on a line of its own. Why all: the
 * preview once showed `sql` alone, so `UPDATE users SET role = $1` read the same with params
 * ["viewer"] and ["admin"], and two such requests looked identical but for their ids. An argv
 * (kubectl_exec) keeps its word boundaries: a word with other characters than plain ones is
 * quoted, as the call's summary quotes it (`sh -c "ls /srv"` is not `sh -c ls /srv`).
 */
function callText(n: ApprovalNotice): string {
  const c = n.call as { args?: unknown } | null;
  const args = c?.args !== null && typeof c?.args === 'object' && !Array.isArray(c.args) ? (c.args as Record<string, unknown>) : {};
  const main = typeof args.sql === 'string' ? 'sql' : args.command !== undefined ? 'command' : null;
  const v = main === null ? undefined : args[main];
  const head = typeof v === 'string' ? v : Array.isArray(v) ? v.map((w) => (typeof w === 'string' && /^[\w./:=@%+,-]+$/.test(w) ? w : JSON.stringify(w))).join(' ') : '';
  const rest = Object.entries(args)
    .filter(([k, a]) => k !== main && k !== 'connection' && a !== null && a !== undefined && !(Array.isArray(a) && a.length === 0))
    .map(([k, a]) => `${k}: ${JSON.stringify(a)}`);
  return [head, ...rest].filter(Boolean).join('\n') || JSON.stringify(c?.args ?? {});
}

/**
 * The generic JSON body; why: JSON encoding already escapes, fields stay separate from text.
 * `call` is exact (for machines); `text`, `preview` and `warnings` are what a person should read
 * (a receiver that relays to chat shows hidden characters, the cut and look-alikes the same way,
 * and right-to-left lines in stored order with the note among the warnings).
 */
export function jsonBody(n: ApprovalNotice): Record<string, unknown> {
  const p = preview(n);
  return {
    type: 'warden.approval',
    event: n.event,
    seq: n.seq,
    text: inStoredOrder(reviewable(headline(n))),
    preview: inStoredOrder(p.text),
    preview_cut: p.cut,
    warnings: [...(p.warning ? [p.warning] : []), ...(rtlIn(n) ? [RTL_NOTE] : [])],
    approval: n.approval,
    call: n.call,
    ...(n.reviewer ? { reviewer: n.reviewer } : {}),
    ...(n.reason ? { reason: n.reason } : {}),
  };
}

/** A Slack-compatible body (incoming webhook: text + blocks), every dynamic part escaped. */
export function slackBody(n: ApprovalNotice): Record<string, unknown> {
  const a = n.approval;
  const head = `*Warden* ${slackLine(headline(n))}`;
  const lines = [`id: \`${escapeSlack(a.id)}\` · seq ${Number(n.seq)} · rules: ${slackLine(a.rule_ids.join(', '))}${a.approval_rule ? ` · approval rule: ${slackLine(a.approval_rule)}` : ''}`, `summary: ${slackLine(a.summary)}`];
  if (a.combination && n.event !== 'requested') lines.push(slackLine(combinationLine(a)));
  if (n.reviewer?.comment) lines.push(`comment: ${slackLine(n.reviewer.comment)}`);
  return {
    text: head,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: head } },
      { type: 'section', text: { type: 'mrkdwn', text: slackCall(preview(n), a.id, rtlIn(n)) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: lines.join('\n') }] },
    ],
  };
}

/** Build the background webhook notifier. */
export function createWebhookNotifier(opts: NotifierOptions = {}): Notifier {
  const attempts = opts.attempts ?? 5;
  const base = opts.baseDelayMs ?? 500;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const inflight = new Set<Promise<void>>();
  const log = opts.log ?? (() => undefined);

  const resolveRef = opts.resolve ?? (async () => { throw new Error('no secret resolver'); });
  // Notices to one webhook go out one after another, in the order they happened: sent at once, a
  // retried `decision` reached the receiver after the `approved` it caused. Across processes (a
  // server, its replicas, a reviewer CLI) arrival has no common order: the body's `seq` (the
  // transcript record's) has, and a receiver orders by it.
  const queues = new Map<string, Promise<void>>();

  async function deliver(spec: NotifySpec, body: string, what: string): Promise<void> {
    let url: string;
    try {
      url = /^https?:\/\//.test(spec.webhook) ? spec.webhook : await resolveRef(spec.webhook);
    } catch {
      log('warn', 'approval webhook: cannot resolve the webhook reference', { event: what });
      return;
    }
    // A rule that asks for signed notices never gets an unsigned one (fail closed).
    let key: Buffer | null = null;
    if (spec.secret !== undefined) {
      try {
        key = webhookKey(await resolveRef(spec.secret));
      } catch {
        key = null;
      }
      if (!key) {
        log('warn', 'approval webhook: cannot resolve the signing secret (notify.secret); the notice was not sent', { event: what });
        return;
      }
    }
    const id = webhookMessageId();
    for (let i = 0; i < attempts; i++) {
      let status = 0;
      try {
        const headers = { 'content-type': 'application/json', ...(key ? signedHeaders(key, id, body) : {}) };
        // No redirects: a 307/308 would re-post the bound call to wherever the receiver points.
        const r = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
        status = r.status;
        await r.arrayBuffer().catch(() => undefined);
        if (r.ok) return;
      } catch {
        status = 0;
      }
      // The URL may carry a token: log the status only.
      log('warn', 'approval webhook delivery failed', { event: what, attempt: i + 1, status });
      if ((status >= 300 && status < 400) || (status >= 400 && status < 500 && status !== 408 && status !== 429)) return;
      if (i + 1 < attempts) await new Promise((r) => setTimeout(r, base * 2 ** i * (0.75 + Math.random() * 0.5)));
    }
  }

  return {
    notify(spec, given) {
      let notice: ApprovalNotice;
      try {
        notice = opts.mask ? (opts.mask(given) as ApprovalNotice) : given;
      } catch {
        log('warn', 'approval webhook: the notice could not be masked; it was not sent', { event: given.event });
        return;
      }
      // Hidden characters in `approval` and `call` (exact for machines) as JSON \uXXXX escapes: the same
      // values once parsed, but a receiver that logs or relays the raw body shows no bidi override or C1 control.
      const body = visibleJson(spec.format === 'slack' ? slackBody(notice) : jsonBody(notice));
      const before = queues.get(spec.webhook) ?? Promise.resolve();
      const p = before.then(() => deliver(spec, body, notice.event)).catch(() => undefined);
      queues.set(spec.webhook, p);
      inflight.add(p);
      void p.finally(() => {
        inflight.delete(p);
        if (queues.get(spec.webhook) === p) queues.delete(spec.webhook);
      });
    },
    async drain(timeoutMs = 30_000) {
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
      await Promise.race([Promise.all([...inflight]).then(() => undefined), limit]);
      clearTimeout(timer);
    },
  };
}
