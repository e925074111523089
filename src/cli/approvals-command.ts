/**
 * `warden approvals list|show|approve|deny`: reviewers act on approval requests in the same store
 * the server uses, while it runs (the waiting call polls the store and notices the decision).
 * Reviewers act as a verified identity (`--token JWT` or WARDEN_TOKEN, checked like any other
 * token: signature, issuer, audience, expiry and required_scopes; recorded as `oidc`) or as a local
 * assertion (`--as SUBJECT --groups g1,g2`, recorded as `local`) on the machine that holds the
 * config, unless warden.yaml says `approvals: { cli_as: refuse }` (then --as is a usage error naming
 * WARDEN_UNAUTHENTICATED); giving both `--token` and `--as` is a usage error. The approval rules hold either way: no
 * self-approval, reviewer groups enforced, distinct reviewers counted. A refused decision exits non-zero.
 */
import { connectionTypes } from '../../tools/connection-types.js';
import { loadServerConfig, type ServerConfig } from '../config/server-config.js';
import { createSecretResolver } from '../config/secrets.js';
import { ConfigError } from '../config/yaml-source.js';
import { ErrorCode, WardenError } from '../errors.js';
import type { Principal } from '../tool-api.js';
import { APPROVAL_STATES, type WardenStore } from '../recorder/index.js';
import type { CompiledPolicy } from '../policy/types.js';
import { approvalsCount, combinationLine, createApprovalService, createWebhookNotifier, requesterLabel, reviewersLabel, voidedLine, type ApprovalView } from '../approvals/index.js';
import { chainSigner, openConfiguredStore } from '../server/store-open.js';
import { webhookMask } from '../server/policy-scanner.js';
import { lookalikeWarning, reviewable as r, reviewableValue } from '../approvals/reviewable.js';
import { parseArgs, UsageError } from './args.js';
import { usage } from './usage.js';
import { jsonDoc, stderrLine, stdoutLine } from './terminal-out.js';

const STATES = APPROVAL_STATES;

// Human output goes to a terminal, which obeys escape sequences and carriage returns: every text
// that came from an agent, a token or another reviewer is printed through `r` (reviewable), so it
// cannot rewrite what the reviewer reads. --json prints the exact text, every hidden character as a
// JSON \uXXXX escape (jsonDoc); and whatever else reaches the terminal (an error quoting a requester's
// name, a token's subject) passes stdoutLine/stderrLine, which show hidden characters escaped.
function line(v: ApprovalView): string {
  const part = v.combination ? ` (${v.combination.part} of ${v.combination.of})` : '';
  return [v.id, v.state, v.requester, v.tool, v.connection ?? '-', `${v.approvals}/${v.approvals_required}${part}`, v.created_at, v.expires_at, listSummary(v)]
    .map((f) => r(f).replace(/\s+/g, ' '))
    .join('\t');
}

/** Characters of a request's parsed summary a `list` row prints. */
export const LIST_SUMMARY_CHARS = 80;

/**
 * A request's summary for its `list` row: blanks as single spaces, and past LIST_SUMMARY_CHARS
 * cut with the cut said (`… (+N characters: warden approvals show ID)`). Why: the row was cut at
 * 80 without a mark, so `ls /var/log/app ; ... ; rm -rf /srv/data` listed as its `ls` commands,
 * and a reviewer approving from the list (approve needs no show) approved what they never saw.
 */
function listSummary(v: ApprovalView): string {
  const s = v.summary.replace(/\s+/g, ' ');
  if (s.length <= LIST_SUMMARY_CHARS) return s;
  let end = LIST_SUMMARY_CHARS - 1;
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${s.slice(0, end)}… (+${s.length - end} characters: warden approvals show ${v.id})`;
}

/** `warden approvals show` for a terminal (exported for tests). */
export function approvalDetails(v: ApprovalView): string {
  // One line per field: a newline in agent text (a quoted name in the summary, a comment) is shown
  // as \n, and an argument's own lines are indented, so no agent text starts a line at column 0
  // (a statement ending in a line `decision: dana approve` read as another reviewer's approval).
  const r1 = (s: string) => r(s).replace(/\n/g, '\\n');
  const arg = (a: unknown) => reviewableValue(a).replace(/\n/g, '\n    ');
  const out = [
    `approval ${v.id}: ${v.state}`,
    // Why it can never run a call: the live policy's refusal (right under the state).
    ...(v.voided ? [`voided:     ${r1(voidedLine(v))}`] : []),
    `requester:  ${r1(requesterLabel(v))}`,
    `call:       ${r1(v.tool)}${v.connection ? ` on ${r1(v.connection)}` : ''}`,
    `summary:    ${r1(v.summary)}`,
    `rules:      ${r1(v.rule_ids.join(', '))}`,
    ...(v.approval_rule ? [`terms:      rule ${r1(v.approval_rule)}: ${v.approvals_required} approval(s) by ${r1(reviewersLabel({ reviewers: v.reviewers ?? {} }))}`] : []),
    // People, as the gate counts them (views.ts), not the decisions listed below.
    `approvals:  ${approvalsCount(v)}`,
    ...(v.combination ? [`combined:   ${r1(combinationLine(v))}`] : []),
    `created:    ${v.created_at}`,
    `expires:    ${v.expires_at}`,
  ];
  // Look-alike words anywhere in what follows, flagged first (the raw texts, before `r`).
  const args = Object.entries(v.call?.args !== null && typeof v.call?.args === 'object' ? v.call.args : {}).flatMap(([k, a]) => [k, typeof a === 'string' ? a : (JSON.stringify(a) ?? '')]);
  const lookalikes = lookalikeWarning(...args, v.summary, v.connection ?? '', requesterLabel(v), ...v.decisions.flatMap((d) => [d.reviewer, d.comment ?? '']));
  if (lookalikes) out.splice(1, 0, `warning:    ${lookalikes}`);
  // A damaged or hand-made row may lack its arguments: said, not a crash.
  const callArgs = v.call?.args !== null && typeof v.call?.args === 'object' ? v.call.args : null;
  if (v.call) out.push(...(callArgs ? ['arguments:', ...Object.entries(callArgs).map(([k, a]) => `  ${r1(k)}: ${arg(a)}`)] : ['arguments:  (not recorded)']));
  if (v.call_hash) out.push(`call hash:  ${v.call_hash}`);
  for (const d of v.decisions) out.push(`decision:   ${r1(d.reviewer)} (${d.auth}) ${d.decision} at ${d.at}${d.comment ? `: ${r1(d.comment)}` : ''}`);
  return out.join('\n');
}

/** Refuse missing or ambiguous reviewer flags before anything is opened: one identity, stated one way. */
function checkReviewerFlags(flags: Record<string, string | boolean>): void {
  if (flags.token !== undefined && flags.as !== undefined) {
    throw new UsageError('--token and --as are two different reviewer identities: give one (--token JWT, or --as SUBJECT [--groups g1,g2])');
  }
  if (flags.groups !== undefined && flags.as === undefined) {
    throw new UsageError("--groups goes with --as (a token's groups come from the token)");
  }
  const token = typeof flags.token === 'string' ? flags.token : flags.as === undefined ? process.env.WARDEN_TOKEN : undefined;
  if (!token && (typeof flags.as !== 'string' || !flags.as.trim())) throw new UsageError(NO_REVIEWER);
}

const NO_REVIEWER = 'approve and deny need a reviewer identity: --as SUBJECT [--groups g1,g2] or --token JWT';

async function reviewerFrom(flags: Record<string, string | boolean>, config: ServerConfig, warn: (s: string) => void): Promise<Principal> {
  const token = typeof flags.token === 'string' ? flags.token : flags.as === undefined ? process.env.WARDEN_TOKEN : undefined;
  if (flags.as !== undefined && process.env.WARDEN_TOKEN) warn('warden: note: WARDEN_TOKEN is set but --as was given; acting as the local reviewer named by --as');
  if (flags.as === undefined && token) {
    // A token is checked like any other bearer token: signature, issuer, audience, expiry and required scopes (fail closed).
    if (!config.identity.oidc) {
      throw new WardenError(ErrorCode.UNAUTHENTICATED, '--token/WARDEN_TOKEN: identity.oidc is not configured in warden.yaml, so the token cannot be verified; act as a local reviewer with --as SUBJECT --groups g1,g2');
    }
    const { INSUFFICIENT_SCOPE, verifierFromConfig, verifyBearerToken } = await import('../server/http-verifier.js');
    try {
      return (await verifyBearerToken(verifierFromConfig({ config }), token)).principal;
    } catch (e) {
      if (e instanceof WardenError && e.details.reason === INSUFFICIENT_SCOPE) {
        throw new WardenError(ErrorCode.UNAUTHENTICATED, `--token/WARDEN_TOKEN lacks the required scope(s): ${(e.details.missing as string[]).join(' ')}`, { reason: INSUFFICIENT_SCOPE });
      }
      const why = e instanceof WardenError ? String(e.details.reason ?? e.message) : 'invalid token';
      throw new WardenError(ErrorCode.UNAUTHENTICATED, `--token/WARDEN_TOKEN could not be verified (${why})`);
    }
  }
  if (typeof flags.as !== 'string' || !flags.as.trim()) throw new UsageError(NO_REVIEWER);
  const groups = typeof flags.groups === 'string' ? flags.groups.split(',').map((g) => g.trim()).filter(Boolean) : [];
  return { subject: flags.as.trim(), groups, claims: {}, authMethod: 'local' };
}

/** How the reviewer proved who they are, for the human-readable confirmation line. */
function reviewerSource(p: Principal): string {
  return p.authMethod === 'oidc' ? 'token' : p.authMethod;
}

/** Run `warden approvals SUBCOMMAND ...`; resolves to the exit code (0 ok, 1 refused or failed, 2 usage). */
export async function runApprovalsCommand(argv: string[]): Promise<number> {
  const out = stdoutLine;
  const err = stderrLine;
  let store: WardenStore | undefined;
  try {
    const a = parseArgs(argv, ['config=', 'json', 'comment=', 'as=', 'groups=', 'token=', 'state=', 'limit=', 'requester=']);
    const [sub, id, ...extra] = a.positionals;
    if (!sub) throw new UsageError('missing subcommand');
    if (!['list', 'show', 'approve', 'deny'].includes(sub)) throw new UsageError(`unknown subcommand "${sub}"`);
    if (sub !== 'list' && !id) throw new UsageError(`${sub} needs an approval id`);
    if ((sub === 'list' && id) || extra.length) throw new UsageError(`unexpected argument "${sub === 'list' ? id : extra[0]}"`);
    if (sub === 'approve' || sub === 'deny') checkReviewerFlags(a.flags);
    // Argument errors before the config is read and the store opened.
    const state = a.flags.state;
    if (state !== undefined && !STATES.includes(state as never)) throw new UsageError(`--state must be one of ${STATES.join(', ')}`);
    const limit = a.flags.limit === undefined ? 100 : Number(a.flags.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
    const requester = a.flags.requester;
    if (requester !== undefined && (typeof requester !== 'string' || !requester.trim())) throw new UsageError('--requester needs a subject');
    const json = a.flags.json === true;
    // The connection types, not the tools: list and show load no parser (tools/connection-types.ts).
    const config = loadServerConfig(String(a.flags.config ?? 'warden.yaml'), connectionTypes);
    // --as is a claim nobody checks; a team that wants every decision verified refuses it (before the store opens).
    if ((sub === 'approve' || sub === 'deny') && a.flags.as !== undefined && config.approvals.cli_as === 'refuse') {
      throw new UsageError(`${ErrorCode.UNAUTHENTICATED}: --as is refused here (approvals.cli_as: refuse in ${config.file}): approve and deny need a verified token: --token JWT or WARDEN_TOKEN`);
    }
    // list and show only read: the store opens read-only (nothing created, migrated or settled; an
    // auditor's SELECT-only role or read-only files will do); approve and deny need the writer.
    const readOnly = sub === 'list' || sub === 'show';
    // Decisions fire the rule's webhook and are checked against the rule's reviewers: compile the
    // policy to find them (a broken policy only loses the webhook). list and show use no policy, so
    // they load neither the tools nor the runtime.
    let policy: CompiledPolicy | undefined;
    if (!readOnly) {
      const [{ families }, { compileForConfig }] = await Promise.all([import('../../tools/index.js'), import('../server/runtime.js')]);
      try {
        policy = compileForConfig(config, families);
      } catch {
        err('warden: warning: the policy does not compile; approval webhooks will not fire');
      }
    }
    // approve and deny append approval events: with transcripts.signing_key they sign the head as
    // the server does (red-team: an unsigned deny at the tail could be cut away undetected, and a
    // key holder does not sign over records written without the key).
    const signer = readOnly ? undefined : await chainSigner(config);
    store = await openConfiguredStore(config, { readOnly, ...(signer ? { signer } : {}) });
    const secrets = createSecretResolver(config.baseDir);
    // The policy's content detectors mask each notice before it leaves, as in the server.
    const notifier = createWebhookNotifier({ resolve: (r) => secrets.resolve(r), mask: webhookMask(() => policy) });
    const svc = createApprovalService(store.approvals, { ...(policy ? { policy: () => policy } : {}), notifier, readOnly, personClaims: config.approvals.person_claims });

    if (sub === 'list') {
      const items = await svc.list({ ...(state ? { state: state as ApprovalView['state'] } : {}), ...(typeof requester === 'string' ? { requester: requester.trim() } : {}), limit });
      if (json) out(jsonDoc(items));
      else out(items.length ? ['ID\tSTATE\tREQUESTER\tTOOL\tCONNECTION\tAPPROVALS\tCREATED\tEXPIRES\tSUMMARY', ...items.map(line)].join('\n') : '(no approval requests)');
      // A full page may hide older requests (one requester's flood fills it): said, on stderr.
      if (!json && items.length === limit) err(`warden: the newest ${limit} shown; older ones exist: raise --limit, or narrow with --requester SUBJECT or --state`);
      return 0;
    }
    if (sub === 'show') {
      const v = await svc.get(id!);
      if (!v) {
        err(`warden: no approval request ${JSON.stringify(id)}`);
        return 1;
      }
      out(json ? jsonDoc(v) : approvalDetails(v));
      return 0;
    }
    const reviewer = await reviewerFrom(a.flags, config, err);
    const comment = typeof a.flags.comment === 'string' ? a.flags.comment : undefined;
    const v = sub === 'approve' ? await svc.approve(id!, reviewer, comment) : await svc.deny(id!, reviewer, comment);
    out(json ? jsonDoc(v) : `${sub === 'approve' ? 'approved' : 'denied'} by ${r(reviewer.subject).replace(/\s+/g, ' ')} (${reviewerSource(reviewer)}): approval ${r(v.id)} is now ${v.state}${v.state === 'pending' ? `, ${approvalsCount(v)} approvals` : ''}`);
    await notifier.drain(10_000);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`warden: ${e.message}\n\n${usage('approvals')}`);
      return 2;
    }
    if (e instanceof ConfigError) {
      err(`warden: configuration error\n${e.message}`);
      return 1;
    }
    if (e instanceof WardenError) {
      err(`warden: ${e.code}: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    await store?.close();
  }
}
