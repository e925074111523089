/**
 * A closed stdout, handled once for the whole CLI. `warden transcripts export | head -c 300`: the
 * reader leaves, and the next write fails with EPIPE, which Node raises as an unhandled stream error
 * (a stack trace). Like a Unix tool the CLI then stops writing and exits quietly with 141 (128 +
 * SIGPIPE, what a shell reports for `seq 1e9 | head`), so `set -o pipefail` scripts still see that
 * the output was cut short. Commands finish what they were doing (stores close, webhooks drain);
 * streaming ones stop early on `outputClosed`. Another write error (a full disk) is reported once on
 * stderr and exits 1.
 */

/** The exit code after the reader of stdout went away. */
export const CLOSED_PIPE_EXIT = 141;

const closed = new AbortController();
let forcedExit: number | undefined;

/** Aborted once stdout can take no more output: streaming commands stop on it. */
export const outputClosed: AbortSignal = closed.signal;

/** Handle write errors of stdout and stderr for the rest of the process (call once, first). */
export function handleClosedOutput(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (closed.signal.aborted) return;
    if (e.code === 'EPIPE') {
      forcedExit = CLOSED_PIPE_EXIT;
    } else {
      forcedExit = 1;
      process.stderr.write(`warden: cannot write output: ${e.message}\n`);
    }
    process.exitCode = forcedExit;
    closed.abort();
  });
  // Nowhere left to report a stderr failure (`2>&1 | head`): drop it.
  process.stderr.on('error', () => undefined);
}

/** The command's exit code, unless output failed (then 141, or 1 for another write error). */
export function exitCode(code: number): number {
  return forcedExit ?? code;
}
