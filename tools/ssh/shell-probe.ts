/**
 * The host's login shell reads the command line, not Warden: sshd runs `$SHELL -c LINE`. The
 * canonical line is quoted for a POSIX shell, and another shell reads the same bytes otherwise:
 * fish takes \' inside single quotes as an escaped quote (so '\' ends nothing and a following
 * `;` runs a command), cmd.exe (the default of Windows OpenSSH) ignores single quotes and runs
 * whatever follows an `&`, csh refuses a newline inside quotes. So before a new connection is
 * used, a probe line built by the same quoting must come back word for word; otherwise the
 * connection is refused.
 */
import type { Client } from 'ssh2';
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import { quoteWord } from '../shared/shell/index.js';
import { execOnClient } from './exec.js';

/**
 * Words whose quoting tells the shells apart. Only quotes, backslashes, spaces and letters, so
 * that a shell that misreads them gets a wrong word or a syntax error, never a command; the
 * newline comes last and is followed by `#`, which begins a comment where it is read as syntax.
 */
const WORDS = ['\\', "'", "\\'", "a\\\\'b", '"', 'a  b', '\u00e9', 'a\n#'];

/** The probe command line, quoted exactly as agents' lines are (exported for tests). */
export const PROBE_LINE = ["'printf'", quoteWord('%s\\n'), ...WORDS.map(quoteWord)].join(' ');

/** What a POSIX shell prints for the probe. */
export const PROBE_EXPECTED = WORDS.map((w) => `${w}\n`).join('');

/** Run the probe on a fresh connection; throws a coded error when the shell misreads it. */
export async function checkLoginShell(client: Client, where: string, timeoutMs: number): Promise<void> {
  const r = await execOnClient(client, PROBE_LINE, { timeoutMs, maxBytes: 4096, answerTimeoutMs: timeoutMs });
  if (r.exitCode === 0 && !r.truncated && r.stdout === PROBE_EXPECTED) return;
  throw new WardenError(
    ErrorCode.BACKEND,
    `the login shell on ${where} does not read POSIX shell quoting as written (a probe line came back ${r.exitCode === 0 ? 'altered' : `with exit code ${r.exitCode ?? r.exitSignal ?? 'none'}`}); ` +
      'Warden runs no command there. Give the account a POSIX login shell (sh, bash, dash, ksh, zsh) that prints nothing on its own',
  );
}
