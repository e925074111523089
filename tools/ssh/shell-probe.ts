/**
 * The host's login shell reads the command line, not Warden: sshd runs `$SHELL -c LINE`. The
 * canonical line is quoted for a POSIX shell, and another shell reads the same bytes otherwise:
 * fish takes \' inside single quotes as an escaped quote (so '\' ends nothing and a following
 * `;` runs a command), cmd.exe (the default of Windows OpenSSH) ignores single quotes and runs
 * whatever follows an `&`, csh refuses a newline inside quotes. So before a new connection is
 * used, a probe line built by the same quoting must come back word for word; otherwise the
 * connection is refused. The same line names the shell (IDENTITY below): only bash and dash
 * (or a POSIX sh like it) get a command; zsh, which reads the quoting alike, and the ksh family
 * run more in a line than Warden judged, and are refused, as is a shell it cannot name unless
 * the connection says `unknown_login_shell: allow`. One exec per new connection, none per call.
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

/**
 * Which shell read the line. Reading the quoting alike is not enough: Warden judges a line as
 * bash or POSIX sh would run it, and zsh, which reads the same quoting, runs more in it: its
 * printf evaluates a `%d` argument as arithmetic, where a subscript (`PATH[$(cmd)]`) runs a
 * command; ksh93 and mksh have their own builtins and expansions too. Each shell sets its own
 * version variable (over one of that name in the environment), and dash sets none, not even
 * RANDOM, which bash, zsh, the ksh family, yash and BusyBox ash all have. Expansions again: a
 * shell that errors on one (fish, csh) runs nothing and fails the probe.
 */
const IDENTITY = ['BASH_VERSION', 'ZSH_VERSION', 'KSH_VERSION', 'YASH_VERSION', 'RANDOM'] as const;

/** The probe command line, quoted exactly as agents' lines are (exported for tests). */
export const PROBE_LINE = [
  "'printf'",
  quoteWord('%s\\n'),
  ...WORDS.map(quoteWord),
  ORIGINAL_COMMAND,
  ...IDENTITY.map((v) => `"\${${v}-}"`),
  quoteWord(LAST),
].join(' ');

const BEFORE = WORDS.map((w) => `${w}\n`).join('');
const AFTER = `${LAST}\n`;

/** What a POSIX shell prints for the probe, sent as it is, with the identity variables' values `ids` (for tests). */
export function probeOutput(ids: readonly string[]): string {
  return `${BEFORE}\n${ids.map((v) => `${v}\n`).join('')}${AFTER}`;
}

/** What dash (a POSIX shell with none of the identity variables) prints for the probe, when sshd ran it as sent. */
export const PROBE_EXPECTED = probeOutput(IDENTITY.map(() => ''));

/**
 * The login shells Warden runs commands under: bash, and dash (or a POSIX sh like it, with
 * none of the identity variables). The others it can name are refused; `unknown` (RANDOM but
 * no version: ksh88, BusyBox ash, ...) only runs where the connection says so.
 */
export type LoginShell = 'bash' | 'dash' | 'zsh' | 'ksh' | 'yash' | 'unknown';

/** How the probe's output tells what ran. */
type Verdict = { v: 'ok'; shell: LoginShell; ids: string[] } | { v: 'wrapped' | 'not-run' | 'misread' };

function shellOf(ids: readonly string[]): LoginShell {
  const [bash, zsh, ksh, yash, random] = ids;
  if (zsh) return 'zsh';
  if (ksh) return 'ksh';
  if (yash) return 'yash';
  if (bash) return 'bash';
  return random ? 'unknown' : 'dash';
}

/** Read the probe's output (exported for tests: what sh, dash, bash and others print). */
export function readProbe(r: Pick<ExecResult, 'stdout' | 'exitCode' | 'truncated'>): Verdict {
  const out = r.stdout;
  if (!out.startsWith(`${WORDS[0]}\n`)) return { v: 'not-run' };
  if (r.truncated || !out.startsWith(BEFORE) || !out.endsWith(AFTER) || out.length < BEFORE.length + AFTER.length + IDENTITY.length + 1) return { v: 'misread' };
  // Between the words: SSH_ORIGINAL_COMMAND, then one line per identity variable.
  const lines = out.slice(BEFORE.length, out.length - AFTER.length).split('\n');
  // A non-empty SSH_ORIGINAL_COMMAND, whatever else came back: a wrapper ran the line.
  if (lines[0] !== '') return { v: 'wrapped' };
  if (r.exitCode !== 0 || lines.length !== IDENTITY.length + 2) return { v: 'misread' };
  const ids = lines.slice(1, -1);
  return { v: 'ok', shell: shellOf(ids), ids };
}

const FORCED = 'a forced command (sshd ForceCommand or an authorized_keys command=)';
const FIX = 'Warden runs no command there. ';
const GIVE = 'Give the account bash or dash (/bin/sh on Debian) as its login shell (chsh -s /bin/sh USER)';

/** Why Warden does not parse for each refused shell. */
const OTHER: Readonly<Record<Exclude<LoginShell, 'bash' | 'dash'>, string>> = {
  zsh: 'zsh, whose builtins and expansions run more than bash or POSIX sh would (its printf evaluates a %d argument as arithmetic, and $(..) in a subscript there runs)',
  ksh: 'a ksh (ksh93, mksh or pdksh), whose builtins and expansions differ from bash and POSIX sh',
  yash: 'yash, whose builtins and expansions differ from bash and POSIX sh',
  unknown: 'a shell Warden cannot name (neither bash nor dash: it sets RANDOM but no version variable Warden knows, as ksh88 or BusyBox ash do)',
};

function refusal(v: Verdict, where: string, r: ExecResult): string {
  if (v.v === 'ok') {
    const shell = v.shell as keyof typeof OTHER;
    const hatch = shell === 'unknown' ? "; or, if it is a POSIX shell that reads the line as dash would, set unknown_login_shell: allow on the connection" : '';
    return `the login shell on ${where} is ${OTHER[shell]}, not one Warden parses commands for; ${FIX}${GIVE}${hatch}`;
  }
  if (v.v === 'wrapped') {
    return `the host ${where} runs ${FORCED} in place of the command Warden sends (the probe line came back as SSH_ORIGINAL_COMMAND); ${FIX}Remove the forced command for Warden's account`;
  }
  if (v.v === 'not-run') {
    return `the host ${where} did not run the probe line Warden sent (none of its words came back): it runs ${FORCED}, or its login shell cannot parse POSIX shell at all (fish, csh, cmd.exe); ${FIX}Remove the forced command for Warden's account, ${GIVE.charAt(0).toLowerCase()}${GIVE.slice(1)}`;
  }
  return (
    `the login shell on ${where} does not read POSIX shell quoting as written (a probe line came back ${r.exitCode === 0 ? 'altered' : `with exit code ${r.exitCode ?? r.exitSignal ?? 'none'}`}); ` +
    `${FIX}${GIVE}, one that prints nothing on its own`
  );
}

/** What the connection allows beyond bash and dash. */
export interface ShellCheckOptions {
  /** `unknown_login_shell: allow`: a shell the probe cannot name but that read its quoting as written. */
  allowUnknown?: boolean;
}

/**
 * Run the probe on a fresh connection, and return the shell it found; throws a coded error when
 * the shell misreads it, is not one Warden parses for, or the host ran something else. The agent
 * gets Warden's words only; what the host printed goes to Warden's log (escape and control
 * characters removed, capped: host-text.ts) for the operator. Cost: this one exec per new
 * connection (its handshake already paid), none per call.
 */
export async function checkLoginShell(client: Client, where: string, timeoutMs: number, log?: ExecContext['log'], o: ShellCheckOptions = {}): Promise<LoginShell> {
  const r = await execOnClient(client, PROBE_LINE, { timeoutMs, maxBytes: 4096, answerTimeoutMs: timeoutMs, ...(log ? { log } : {}) });
  const v = readProbe(r);
  if (v.v === 'ok' && (v.shell === 'bash' || v.shell === 'dash' || (v.shell === 'unknown' && o.allowUnknown === true))) return v.shell;
  log?.('warn', 'ssh host failed the login-shell probe; refusing it', {
    host: where,
    verdict: v.v,
    ...(v.v === 'ok' ? { login_shell: v.shell, shell_variables: Object.fromEntries(IDENTITY.map((name, i) => [name, loggedHostText(v.ids[i] ?? '')])) } : {}),
    exit_code: r.exitCode,
    exit_signal: r.exitSignal,
    stdout: loggedHostText(r.stdout),
    stderr: loggedHostText(r.stderr),
  });
  throw new WardenError(ErrorCode.BACKEND, refusal(v, where, r));
}
