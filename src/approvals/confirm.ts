/**
 * `approval: { confirm: requester }`: ask the connected user through MCP elicitation (form mode)
 * to confirm the parsed call. A client without elicitation, a decline, a cancel or an error is a
 * denial, never a silent allow. The answer is recorded like any decision (auth `elicitation`).
 * A delegated principal (an agent acting for the requester, `act` claim) is never asked: the
 * agent would confirm on the human's behalf, so the call is refused (delegatedConfirmRefusal).
 */
import { ErrorCode } from '../errors.js';
import type { Principal } from '../tool-api.js';
import type { ApprovalRow, ApprovalStore, VoidReason } from '../recorder/index.js';
import { actingFor, actorChain, isDelegated } from './actors.js';
import { lookalikeWarning, reviewable, reviewableValue } from './reviewable.js';
import { RTL_NOTE, hasRtl, inStoredOrder } from '../visible-text.js';
import { tokenEndMs, tokenExpiredRefusal, voidedRefusal, type VoidNotify } from './gate-results.js';
import type { GateInput, GateResult } from './service.js';

/** The form shown to the user: one required yes/no. */
export const CONFIRM_SCHEMA: Record<string, unknown> = {
  type: 'object',
  properties: {
    confirm: { type: 'boolean', title: 'Run this call?', description: 'Yes runs the call exactly as shown, once.' },
  },
  required: ['confirm'],
};

/**
 * The message: the parsed call (summary and canonical arguments), not just the raw text, with
 * hidden characters and long blank runs made visible and look-alike words flagged (the agent
 * wrote that text). A line holding right-to-left letters is held in stored order (inStoredOrder:
 * a client that draws the message with the bidi algorithm cannot reorder `5, 50000` around two
 * Hebrew letters), and a note says their words read reversed.
 */
export function confirmMessage(row: ApprovalRow): string {
  let args = '';
  const raw: string[] = [row.summary, row.connection ?? ''];
  try {
    const c = JSON.parse(row.canonicalCall) as { args?: Record<string, unknown> };
    const entries = Object.entries(c.args ?? {}).filter(([k]) => k !== 'connection');
    args = entries.map(([k, v]) => `  ${reviewable(k)}: ${reviewableValue(v)}`).join('\n');
    raw.push(...entries.flatMap(([k, v]) => [k, typeof v === 'string' ? v : (JSON.stringify(v) ?? '')]));
  } catch {
    /* the summary is still shown */
  }
  const text = [
    `Warden asks you to confirm a call (rule ${row.approvalRule}).`,
    lookalikeWarning(...raw) ?? '',
    raw.some(hasRtl) ? `Note: ${RTL_NOTE}.` : '',
    `tool: ${row.tool}${row.connection ? ` on ${reviewable(row.connection)}` : ''}`,
    `what it does: ${reviewable(row.summary)}`,
    args ? `parsed call:\n${args}` : '',
    `approval id: ${row.id}`,
  ]
    .filter(Boolean)
    .join('\n');
  return inStoredOrder(text);
}

// Aborts at the caller's token expiry (gate-results.ts tokenEndMs: at exp, no leeway); never
// for a token without one, or one further off than a timer reaches (the wait ends first).
function tokenLapse(input: Pick<GateInput, 'tokenExpiresAt'>): { signal: AbortSignal; clear: () => void } {
  const c = new AbortController();
  const ms = tokenEndMs(input) - Date.now();
  if (ms <= 0) c.abort();
  const timer = ms > 0 && ms <= 2 ** 31 - 1 ? setTimeout(() => c.abort(), ms) : undefined;
  return { signal: c.signal, clear: () => clearTimeout(timer) };
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T | 'aborted'> {
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e: unknown) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}

/**
 * The refusal for a delegated principal, or undefined for one acting directly. Why refuse rather
 * than route to reviewers: the rule asks the requester themself, and whoever holds an `act` token
 * is an agent, not that human; a reviewer approval would be another rule. Any `act` claim counts,
 * well formed or not (fail closed, as for reviewers). Nothing is stored and no prompt is shown.
 */
export function delegatedConfirmRefusal(principal: Principal, rule: string): GateResult | undefined {
  if (!isDelegated(principal.claims)) return undefined;
  const chain = actorChain(principal.claims);
  const who = chain.length ? actingFor(principal.subject, chain) : `someone acting for ${principal.subject}`;
  return {
    granted: false,
    code: ErrorCode.APPROVAL_DENIED,
    message: `rule ${rule} needs ${principal.subject} to confirm this call, and the caller is ${who} (delegated token, act claim): a confirmation must come from ${principal.subject} acting directly, not from an agent on their behalf, so it was not run`,
  };
}

/**
 * The refusal for a client that can never be asked (GateInput.cannotElicit), or undefined. Why
 * refuse before any request is stored: nobody was asked, so no answer is recorded (as for a
 * delegated principal), and the caller learns at once how to reach a client that can be asked.
 */
export function unaskableConfirmRefusal(input: Pick<GateInput, 'cannotElicit'>, rule: string): GateResult | undefined {
  if (input.cannotElicit !== 'per-request') return undefined;
  return {
    granted: false,
    code: ErrorCode.CONFIRMATION_UNAVAILABLE,
    message:
      `rule ${rule} needs you to confirm this call, and this client cannot be asked for confirmation: it connected without a session ` +
      '(MCP protocol 2026-07-28, served per request), which cannot receive elicitation requests, so the call was not run. ' +
      'Connect with a 2025-11-25 session from a client that supports form elicitation, or have the policy ask for reviewer approval instead',
  };
}

/**
 * Ask, record the answer, and consume the confirmation when it was yes and `consume` (the call
 * needs nothing else). When reviewers must approve too, a yes is left approved: the gate uses it
 * up with their approvals in one transaction, or voids it when they refuse (a used confirmation
 * always ran its call).
 */
export async function confirmWithRequester(
  tables: ApprovalStore,
  row: ApprovalRow,
  input: GateInput,
  iso: () => string,
  notifyVoided: VoidNotify,
  consume = true,
  lapsed: () => GateResult | undefined = () => undefined,
): Promise<GateResult> {
  const me = input.principal.subject;
  const deny = async (comment: string, message: string): Promise<GateResult> => {
    await tables.decide(row.id, { reviewer: me, decision: 'deny', comment, auth: 'elicitation', at: iso() }, () => undefined, true);
    return { granted: false, code: ErrorCode.APPROVAL_DENIED, approvalId: row.id, message };
  };
  if (!input.elicit) {
    return deny(
      'client does not support elicitation',
      `rule ${row.approvalRule} needs you to confirm this call, and your MCP client does not support elicitation (form mode), so it was not run`,
    );
  }
  let answer: { action: string; content?: Record<string, unknown> } | 'aborted' | 'failed';
  // The question is withdrawn when the call is cancelled or the caller's token expires.
  const lapse = tokenLapse(input);
  const ended = AbortSignal.any([input.signal, lapse.signal]);
  try {
    answer = await abortable(input.elicit(confirmMessage(row), CONFIRM_SCHEMA, ended), ended);
  } catch {
    answer = lapse.signal.aborted ? 'aborted' : 'failed';
  } finally {
    lapse.clear();
  }
  // The token expired while the user was asked: nothing runs, and the unanswered request is
  // voided (nobody answered: no decision is recorded for the user).
  if (answer === 'aborted' && lapse.signal.aborted && !input.signal.aborted) {
    const message = 'the token expired while the call waited for approval (your confirmation, unanswered); nothing ran. Call again with a fresh token; you are asked anew';
    return voidedRefusal(tables, [row], { code: ErrorCode.UNAUTHENTICATED, message, ruleIds: row.approvalRule.split(', ') }, iso(), notifyVoided);
  }
  if (answer === 'failed') return deny('elicitation failed', `rule ${row.approvalRule} needs you to confirm this call, and the confirmation request failed, so it was not run`);
  if (answer === 'aborted') return deny('cancelled', 'the call was cancelled while waiting for your confirmation');
  if (answer.action !== 'accept' || answer.content?.confirm !== true) {
    const what = answer.action === 'accept' ? 'answered no' : answer.action === 'cancel' ? 'cancelled' : 'declined';
    return deny(what, `you ${what} the confirmation, so the call was not run`);
  }
  // The user's yes is recorded as given. A reload while the user answered: the call is judged
  // again under the live policy before the yes is used; refused, the confirmation is voided with
  // that reason, as a reviewer approval is (gate-results.ts voidedRefusal).
  await tables.decide(row.id, { reviewer: me, decision: 'approve', comment: null, auth: 'elicitation', at: iso() }, () => undefined, true);
  // The token expired while the user answered: nothing runs. A confirmation serves this call only
  // (a new call asks anew), so it is voided rather than left approved. With reviewers to wait for
  // too, the gate checks again when they have approved (gate.ts).
  if (consume && tokenExpiredRefusal(input, row.id)) {
    const message = 'the token expired while the call waited for approval (your confirmation); nothing ran. Call again with a fresh token; you are asked anew';
    return voidedRefusal(tables, [row], { code: ErrorCode.UNAUTHENTICATED, message, ruleIds: row.approvalRule.split(', ') }, iso(), notifyVoided);
  }
  const now = input.recheck ? await input.recheck() : null;
  if (now) return voidedRefusal(tables, [row], { code: now.code, message: now.message, ruleIds: now.ruleIds ?? [] }, iso(), notifyVoided);
  // A reload while the user answered shortened a confirming rule's `expires` past the prompt's
  // age (gate.ts lapsed): voided, nothing runs.
  const late = lapsed();
  if (late && !late.granted) return voidedRefusal(tables, [row], { code: late.code, message: late.message, ruleIds: row.approvalRule.split(', ') }, iso(), notifyVoided);
  if (!consume) return { granted: true, approvalId: row.id };
  if (!(await tables.consume(row.id, input.callId, iso()))) {
    return { granted: false, code: ErrorCode.APPROVAL_EXPIRED, approvalId: row.id, message: 'the confirmation expired before the call could run' };
  }
  return { granted: true, approvalId: row.id, spent: [row.id] };
}
