/**
 * The key holder's refusal to sign over a chain that lost or changed its signed head
 * (signedHeadBlocks in signing.ts), made visible: the store exposes the reason and calls its
 * `onWarning` once per incident, so the running server logs it at once instead of it waiting for
 * someone to run verify. `serve` runs the same check once when the store opens (checkHead), so a
 * server started on an already cut or forged chain says so at startup (`found: startup`), not at
 * its first write; the first write then finds the same incident and says nothing more. Why a
 * callback: the recorder must not import the server's log (test/layering.test.ts); the runtime
 * passes one in.
 */

/** A warning for the operator (the server logs it); `fields` carry reasons only, never secrets. */
export type StoreWarning = (message: string, fields: Record<string, unknown>) => void;

/** What the warning says; the reason goes in its fields. */
export const REFUSAL_WARNING =
  'transcripts: the signed chain head no longer names a record of this chain (cut or rewritten without the key, or its signature is not valid): new records are left unsigned; run `warden transcripts verify`';

/** When a refusal was found: the check when the store opened, or a signing attempt after a write. */
export type RefusalFound = 'startup' | 'write';

/** The current refusal of one store (shared by its connections: the writer thread reports here too). */
export class HeadRefusal {
  private current: string | null = null;

  constructor(
    private readonly onWarning?: StoreWarning,
    /** Told every change (the writer thread relays them to the store's thread). */
    private readonly onChange?: (reason: string | null) => void,
  ) {}

  /** Why the last signing attempt left the head as it was, or null when it signed. */
  get reason(): string | null {
    return this.current;
  }

  /**
   * Record a signing attempt's outcome. Warns when a refusal starts, not again while it lasts
   * (its reason may change: a cut record's seq written again differs from the signed one); a
   * signature that goes through ends it. `found` goes into the warning's fields.
   */
  report(reason: string | null, found: RefusalFound = 'write'): void {
    const was = this.current;
    if (reason === was) return;
    this.current = reason;
    this.onChange?.(reason);
    if (reason !== null && was === null) this.onWarning?.(REFUSAL_WARNING, { reason, found });
  }
}
