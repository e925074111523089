/**
 * Giving back the approvals of a call that was cancelled after the gate spent them but before it
 * started (pipeline.ts: the cancel is seen at a stage boundary before `execute`). Why give back
 * rather than leave them `used`: nothing ran, so a `used` record would tell reviewers that their
 * approval ran a call. Why it is race-free: the store returns a request only while it is `used` by
 * exactly this call, under its row lock, and this call never runs afterwards (it is refused with
 * WARDEN_CANCELLED); a given-back request is `approved` again and one later call can use it once.
 * The requester's confirmation served this call only (a new call asks anew), so it is given back
 * and at once voided with the same reason: it ends `voided`, never approved for another call.
 */
import { ErrorCode, WardenError } from '../errors.js';
import type { ServiceContext } from './service.js';

/**
 * Give back what call `callId` spent (`spent`: every request id it used, confirmation included);
 * the ids approved again. A request an approval was withdrawn from while it was used (withdraw.ts:
 * its reviewer seen out of the group meanwhile) goes back pending, short of its count, not listed.
 */
export async function giveBack(ctx: Pick<ServiceContext, 'tables' | 'iso'>, callId: string, spent: readonly string[], why?: WardenError): Promise<string[]> {
  // `why`: the call was stopped for another cause than the client's cancel (an approval withdrawn: in-flight.ts).
  const reason = why
    ? { code: why.code, message: `call ${callId} was stopped before it started (${why.message}); nothing ran, so its approvals were given back`, ruleIds: [] }
    : { code: ErrorCode.CANCELLED, message: `the client cancelled call ${callId} after its approvals were spent and before it started; nothing ran, so they were given back`, ruleIds: [] };
  const back = await ctx.tables.giveBack(spent, callId, reason, ctx.iso());
  const confirmations: string[] = [];
  const approved: string[] = [];
  for (const { id } of back) {
    const row = await ctx.tables.get(id);
    if (row?.confirm !== null) confirmations.push(id);
    else if (row.state === 'approved') approved.push(id);
  }
  if (confirmations.length) await ctx.tables.voidAll(confirmations, reason, ctx.iso());
  return approved;
}

/**
 * The pipeline's side: give back through `gate` and answer the cancel's error saying so. A store
 * that fails leaves them used (logged): never a guess that could let one approval run twice.
 */
export async function givenBack(
  gate: { giveBack?(callId: string, spent: readonly string[], why?: WardenError): Promise<string[]> } | undefined,
  log: (level: 'warn', msg: string, data?: Record<string, unknown>) => void,
  callId: string,
  spent: readonly string[],
  err: WardenError,
  why?: WardenError,
): Promise<WardenError> {
  const back = await gate?.giveBack?.(callId, spent, why).catch((e: unknown) => (log('warn', 'approvals not given back', { callId, message: String(e) }), []));
  return back?.length ? new WardenError(err.code, `${err.message}; nothing ran, so approval ${back.join(', ')} was given back (approved again, for one call)`, err.details) : err;
}
