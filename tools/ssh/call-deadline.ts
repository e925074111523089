/**
 * One deadline per ssh_run call, covering every step that waits on someone else: a free session
 * slot, the connection, the host's answer to the session request, the command itself. Without
 * it, a host that never answers (or a queue that never moves) holds the call, and its slot,
 * forever, whatever timeout_s said.
 */
import { ErrorCode, NOTHING_SENT, WardenError } from '../../src/tool-api.js';

/** When a call must be over (performance.now() clock), and what may end it sooner. */
export interface CallDeadline {
  /** performance.now() value at which the call times out. */
  at: number;
  /** The whole budget in ms (for messages). */
  totalMs: number;
  signal?: AbortSignal;
}

/** Start a deadline of `ms` from now. Why a helper: every step measures against the same instant. */
export function deadlineIn(ms: number, signal?: AbortSignal): CallDeadline {
  return { at: performance.now() + ms, totalMs: ms, ...(signal ? { signal } : {}) };
}

/** Milliseconds left (never negative). */
export function remainingMs(d: CallDeadline): number {
  return Math.max(0, d.at - performance.now());
}

/** The budget in seconds as messages print it. */
export function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

/**
 * The error of a call cancelled by its caller. Why shared: the agent sees one wording per case.
 * WARDEN_CANCELLED (it was WARDEN_BACKEND_ERROR: the transcript read a host failure); `nothingSent`
 * only where the command was certainly never started (NOTHING_SENT: its approvals go back).
 */
export function cancelledError(detail: string, nothingSent = false): WardenError {
  return new WardenError(ErrorCode.CANCELLED, `the call was cancelled; ${detail}`, nothingSent ? { [NOTHING_SENT]: true } : {});
}

/**
 * Settle like `p`, or reject with WARDEN_TIMEOUT ("no {what} within Ns") at the deadline, or
 * with a cancel error when the caller aborts. `p` keeps running; its late outcome is ignored.
 * Why: a step that is not the command itself has no channel to kill, only a wait to end.
 * `what` may be a function, asked at the deadline: what the call waited on can change while it
 * waits (a session slot: its principal's share, or every slot of the connection).
 */
export function within<T>(p: Promise<T>, d: CallDeadline, what: string | (() => string)): Promise<T> {
  p.catch(() => undefined); // a late rejection is nobody's concern once we gave up
  if (d.signal?.aborted) return Promise.reject(cancelledError('the command was not started', true));
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      done();
      reject(new WardenError(ErrorCode.TIMEOUT, `no ${typeof what === 'function' ? what() : what} within ${seconds(d.totalMs)}s; the command was not started`));
    }, remainingMs(d));
    const onAbort = () => {
      done();
      reject(cancelledError('the command was not started', true));
    };
    const done = () => {
      clearTimeout(timer);
      d.signal?.removeEventListener('abort', onAbort);
    };
    d.signal?.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        done();
        resolve(v);
      },
      (e: unknown) => {
        done();
        reject(e);
      },
    );
  });
}
