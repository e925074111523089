/**
 * The host's login shell reads the command line, not Warden: sshd runs `$SHELL -c LINE`. The
 * canonical line is quoted for a POSIX shell, and another shell reads the same bytes otherwise:
 * fish takes \' inside single quotes as an escaped quote (so '\' ends nothing and a following
 * `;` runs a command), cmd.exe (the default of Windows OpenSSH) ignores single quotes and runs
 * whatever follows an `&`, csh refuses a newline inside quotes. So before a new connection is
 * used, a probe line built by the same quoting must come back word for word; otherwise the
 * connection is refused.
 * The host may also run a command of its own in place of the one sent: sshd `ForceCommand` (in
 * sshd_config or a `Match` block) or a `command=` option on Warden's key in authorized_keys. The
 * agent would then read the output of a command the policy never saw, or its line would pass
 * through a wrapper that may change it. sshd sets SSH_ORIGINAL_COMMAND only then, and the probe
 * prints it: a fixed forced command does not print the probe back, a wrapper that runs the line
 * prints the line as SSH_ORIGINAL_COMMAND; either way the host is refused.
 */
import type { Client } from 'ssh2';
import { ErrorCode, WardenError, type ExecContext } from '../../src/tool-api.js';
import { quoteWord } from '../shared/shell/index.js';
import { execOnClient, type ExecResult } from './exec.js';
import { loggedHostText } from './host-text.js';

/**
 * Words whose quoting tells the shells apart. Only quotes, backslashes, spaces and letters, so
 * that a shell that misreads them gets a wrong word or a syntax error, never a command; the
 * newline comes last and is followed by `#`, which begins a comment where it is read as syntax.
 * The first word is plain letters: a shell that runs printf at all prints it.
 */
const WORDS = ['wardenprobe', '\\', "'", "\\'", "a\\\\'b", '"', 'a  b', '\u00e9'];
const LAST = 'a\n#';

/**
 * SSH_ORIGINAL_COMMAND, empty when unset. A variable expansion is only a word in every shell
 * (never a command), so a shell that misreads it still runs nothing.
 */
const ORIGINAL_COMMAND = '"${SSH_ORIGINAL_COMMAND-}"';

/** The probe command line, quoted exactly as agents' lines are (exported for tests). */
export const PROBE_LINE = ["'printf'", quoteWord('%s\\n'), ...WORDS.map(quoteWord), ORIGINAL_COMMAND, quoteWord(LAST)].join(' ');

const BEFORE = WORDS.map((w) => `${w}\n`).join('');
const AFTER = `${LAST}\n`;

/** What a POSIX shell prints for the probe, when sshd ran it as sent. */
export const PROBE_EXPECTED = `${BEFORE}\n${AFTER}`;

/** How the probe's output tells what ran. */
type Verdict = 'ok' | 'wrapped' | 'not-run' | 'misread';

function verdict(r: ExecResult): Verdict {
  if (r.exitCode === 0 && !r.truncated && r.stdout === PROBE_EXPECTED) return 'ok';
  // The words came back, and so did a non-empty SSH_ORIGINAL_COMMAND: a wrapper ran the line.
  if (r.stdout.startsWith(BEFORE) && r.stdout.endsWith(AFTER) && r.stdout.length > PROBE_EXPECTED.length) return 'wrapped';
  if (!r.stdout.startsWith(`${WORDS[0]}\n`)) return 'not-run';
  return 'misread';
}

const FORCED = 'a forced command (sshd ForceCommand or an authorized_keys command=)';

function refusal(v: Exclude<Verdict, 'ok'>, where: string, r: ExecResult): string {
  const fix = 'Warden runs no command there. ';
  if (v === 'wrapped') {
    return `the host ${where} runs ${FORCED} in place of the command Warden sends (the probe line came back as SSH_ORIGINAL_COMMAND); ${fix}Remove the forced command for Warden's account`;
  }
  if (v === 'not-run') {
    return `the host ${where} did not run the probe line Warden sent (none of its words came back): it runs ${FORCED}, or its login shell cannot parse POSIX shell at all (fish, csh, cmd.exe); ${fix}Remove the forced command for Warden's account, give it a POSIX login shell`;
  }
  return (
    `the login shell on ${where} does not read POSIX shell quoting as written (a probe line came back ${r.exitCode === 0 ? 'altered' : `with exit code ${r.exitCode ?? r.exitSignal ?? 'none'}`}); ` +
    `${fix}Give the account a POSIX login shell (sh, bash, dash, ksh, zsh) that prints nothing on its own`
  );
}

/**
 * Run the probe on a fresh connection; throws a coded error when the shell misreads it or the
 * host ran something else. The agent gets Warden's words only; what the host printed goes to
 * Warden's log (escape and control characters removed, capped: host-text.ts) for the operator.
 */
export async function checkLoginShell(client: Client, where: string, timeoutMs: number, log?: ExecContext['log']): Promise<void> {
  const r = await execOnClient(client, PROBE_LINE, { timeoutMs, maxBytes: 4096, answerTimeoutMs: timeoutMs, ...(log ? { log } : {}) });
  const v = verdict(r);
  if (v === 'ok') return;
  log?.('warn', 'ssh host failed the login-shell probe; refusing it', {
    host: where,
    verdict: v,
    exit_code: r.exitCode,
    exit_signal: r.exitSignal,
    stdout: loggedHostText(r.stdout),
    stderr: loggedHostText(r.stderr),
  });
  throw new WardenError(ErrorCode.BACKEND, refusal(v, where, r));
}
