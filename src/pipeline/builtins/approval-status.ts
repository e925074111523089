/**
 * `approval_status`: the state of the caller's own approval requests. Visible to every principal;
 * it never shows another principal's request (an unknown id and a foreign id look the same).
 * "Own" is the source's call: same subject, auth method and actor chain (approvals/service.ts),
 * so each agent acting for a human sees its own requests, not the human's nor another agent's.
 */
import { z } from 'zod';
import { ErrorCode, WardenError, type GovernedTool, type Principal } from '../../tool-api.js';
import { approvalsCount, type ApprovalView } from '../../approvals/index.js';

/** Where the tool reads requests from (the approval service). */
export interface ApprovalStatusSource {
  statusFor(principal: Principal, id: string): Promise<ApprovalView | null>;
  listFor(principal: Principal, limit?: number): Promise<ApprovalView[]>;
}

const input = z
  .object({
    approval_id: z.string().min(1).max(100).regex(/^[A-Za-z0-9-]+$/, 'an approval id as returned by WARDEN_APPROVAL_PENDING').optional(),
  })
  .strict();

/** What the agent sees: no reviewer identity beyond the subject, no call ids of other sessions. */
function brief(v: ApprovalView) {
  return {
    approval_id: v.id,
    state: v.state,
    tool: v.tool,
    connection: v.connection,
    summary: v.summary,
    rule_ids: v.rule_ids,
    // People, as the gate counts them (views.ts), not the approve decisions listed below.
    approvals: approvalsCount(v),
    created_at: v.created_at,
    expires_at: v.expires_at,
    decisions: v.decisions.map((d) => ({ reviewer: d.reviewer, decision: d.decision, comment: d.comment, at: d.at })),
    // Why it was voided: the live policy's refusal of the call (code, message, rule ids).
    ...(v.voided ? { voided: v.voided } : {}),
    next:
      v.state === 'approved'
        ? 'call the same tool again with the same arguments: it runs once'
        : v.state === 'pending'
          ? 'wait for the reviewers, then call the same tool again with the same arguments'
          : v.state === 'used'
            ? 'this approval ran its call; a new call needs a new approval'
            : v.state === 'voided'
              ? 'this approval was voided by a policy change (see voided) and can never run a call; calling again is judged under the current policy and asks anew'
              : 'a new call needs a new approval',
  };
}

/** Build the approval_status tool over the approval service. */
export function approvalStatusTool(source: ApprovalStatusSource): GovernedTool<z.infer<typeof input>> {
  return {
    name: 'approval_status',
    title: 'Approval status',
    description: 'Show the state of one of your approval requests (approval_id from a WARDEN_APPROVAL_PENDING result), or your recent requests when no id is given.',
    connectionTypes: null,
    input,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    parse(i) {
      return { family: 'discovery', summary: i.approval_id ? `approval status ${i.approval_id}` : 'list my approval requests' };
    },
    async execute(i, _facts, ctx) {
      if (!i.approval_id) {
        const mine = await source.listFor(ctx.principal, 20);
        return { kind: 'json', data: { approvals: mine.map(brief) }, truncated: false };
      }
      const v = await source.statusFor(ctx.principal, i.approval_id);
      if (!v) throw new WardenError(ErrorCode.INVALID_INPUT, `no approval request ${i.approval_id} of yours`);
      return { kind: 'json', data: brief(v), truncated: false };
    },
  };
}
