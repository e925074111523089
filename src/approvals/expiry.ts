/**
 * The `expired` notice. A request that passes its expiry unused is moved to `expired` lazily, with
 * no timer of its own: by the next sweep (store expireDue) that a read or write already runs (the
 * approval list, show and reviewer queue, the UI's live feed each tick while a reviewer watches, a
 * decision, a gated call and each poll of a waiting one), or by the gate's consume finding it
 * expired. The `expired` record is hash-chained like every approval event and `verify` replays it.
 * Whoever's write moved a request sends its notice: the store moves each under its row lock, so of
 * several replicas (or CLIs) sweeping one PostgreSQL store at once, exactly one sends it.
 */
import type { Expired } from '../recorder/index.js';
import type { ServiceContext } from './service.js';

/** Sweep what is due at `at` and send an `expired` notice for each request this sweep moved. */
export async function expireDue(ctx: Pick<ServiceContext, 'tables' | 'notify' | 'viewOf'>, at: string): Promise<void> {
  const moved = await ctx.tables.expireDue(at);
  if (moved.length) await notifyExpired(ctx, moved);
}

/**
 * Send the `expired` notice (its record's seq) of each request in `moved`. A confirmation (confirm:
 * requester) is skipped: it is never announced to the webhook, so its end is not either.
 */
export async function notifyExpired(ctx: Pick<ServiceContext, 'tables' | 'notify' | 'viewOf'>, moved: readonly Expired[]): Promise<void> {
  for (const { id, seq } of moved) {
    const row = await ctx.tables.get(id);
    if (!row || row.confirm !== null) continue;
    ctx.notify(row, 'expired', seq, {}, undefined, await ctx.viewOf(row));
  }
}
