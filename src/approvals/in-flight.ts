/**
 * Calls running on approvals, and stopping one whose approval is withdrawn while it runs. Why: a
 * withdrawal (withdraw.ts) that leaves a used request short of its count means the call runs on
 * the approval of someone Warden has just seen is no longer a reviewer; left running, a write
 * approved that way still commits. The pipeline holds each granted call here while it executes
 * (`hold`); its signal is aborted, as a client's cancel aborts the call's own signal, when a
 * request it used is found short: at once by the withdrawal in this process (`withdrawn`), and,
 * for a withdrawal by another process on the same store (the CLI, another replica), by the held
 * call re-reading its requests every `everyMs` while it runs (one store read per request it used,
 * only for calls that needed approval), and once when its intent is recorded, before it executes
 * (`recheck`: a withdrawal between the use and the intent). Once the call's result is in, it is
 * released: nothing changes.
 */
import { ErrorCode, WardenError } from '../errors.js';
import { approvingPersons, type ApprovalRow, type ApprovalStore } from '../recorder/index.js';

/** A granted call's hold while it runs: `signal` aborts when its approval is withdrawn; `withdrawn` says why. */
export interface CallHold {
  readonly signal: AbortSignal;
  /** The coded error the call answers with, once its approval was withdrawn. */
  withdrawn(): WardenError | undefined;
  /**
   * Re-read the requests it used now (`signal` aborts if one is short). Why: the pipeline asks
   * once its intent is recorded, before it executes: a withdrawal made between the use and
   * the intent (by another process, or by this one before the hold was registered) left no
   * running call to stop, and the periodic re-read would see it only after a fast write committed.
   * A store that fails to answer rejects it: the call is refused before it executes (fail closed;
   * the periodic read, while the call runs, stops nothing on a failure: the store logs it).
   */
  recheck(): Promise<void>;
  /** The call's result is in (or it failed): later withdrawals change nothing. Idempotent. */
  release(): void;
}

/** How often a running call re-reads its requests for a withdrawal made elsewhere. */
export const IN_FLIGHT_CHECK_MS = 1000;

/**
 * Whether `row`, used by `callId`, is short of its approvals now (a reviewer's approval withdrawn
 * while it was used). A requester's confirmation has no reviewers to withdraw.
 */
export function usedShort(row: ApprovalRow | null, callId: string): boolean {
  if (!row || row.confirm !== null || row.state !== 'used' || row.usedByCall !== callId) return false;
  // Counted as the store counts a give-back (returnsTo): by approving people.
  return approvingPersons(row.decisions) < row.approvalsRequired;
}

/** The registry of held calls in this process (one per approval service). */
export interface InFlightCalls {
  hold(callId: string, spent: readonly string[]): CallHold;
  /** Stop call `callId` if held here, its request `row` being short now (withdraw.ts); whether it was. */
  withdrawn(callId: string, row: ApprovalRow): boolean;
}

/** Build the registry over the store the requests live in. */
export function inFlightCalls(tables: Pick<ApprovalStore, 'get'>, everyMs = IN_FLIGHT_CHECK_MS): InFlightCalls {
  const held = new Map<string, (row: ApprovalRow) => void>();
  return {
    hold(callId, spent) {
      const ctrl = new AbortController();
      let why: WardenError | undefined;
      let done = false;
      const stop = (row: ApprovalRow): void => {
        if (done || why) return;
        why = new WardenError(
          ErrorCode.APPROVAL_WITHDRAWN,
          `approval ${row.id} was withdrawn while this call ran (a reviewer it counted is no longer one of ${row.id}'s reviewers), leaving it short of its ${row.approvalsRequired} required approval${row.approvalsRequired === 1 ? '' : 's'}; the call was cancelled and did not take effect; call again to ask anew`,
          { approvalId: row.id },
        );
        ctrl.abort(why);
      };
      held.set(callId, stop);
      const check = async (): Promise<void> => {
        for (const id of spent) {
          const row = await tables.get(id);
          if (row && usedShort(row, callId)) return stop(row);
        }
      };
      // A withdrawal elsewhere: re-read the requests this call used while it runs (never two reads at once).
      let busy = false;
      const timer = setInterval(() => {
        if (busy || done) return;
        busy = true;
        // A store that fails to answer leaves the call as it is (the store logs it).
        void check().catch(() => undefined).finally(() => (busy = false));
      }, everyMs);
      timer.unref();
      return {
        signal: ctrl.signal,
        withdrawn: () => why,
        recheck: () => (done ? Promise.resolve() : check()),
        release() {
          done = true;
          clearInterval(timer);
          if (held.get(callId) === stop) held.delete(callId);
        },
      };
    },
    withdrawn(callId, row) {
      const stop = held.get(callId);
      if (!stop || !usedShort(row, callId)) return false;
      stop(row);
      return true;
    },
  };
}
