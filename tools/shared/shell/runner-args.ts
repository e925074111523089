/**
 * How runners read their own arguments, as far as a deny rule needs: where a shell's script
 * comes from, whether env splits a command line, whether a wrapper given no program runs an
 * interactive shell, and where the command find -exec runs ends.
 */

/** Is `word` the -c option of su or script (`-c`, `-lc`, `--command`, `--session-command`)? */
export function commandOption(word: string): boolean {
  return /^-[lmpfPq]*c$/.test(word) || /^--(session-)?command(=|$)/.test(word);
}

/**
 * A shell's script: the first operand with `-c` (empty: none given), `stdin` when it reads
 * standard input (no operand, `-s`, `-`, /dev/stdin), or null when it runs a script file.
 */
export function shellScript(args: string[]): { texts: string[] } | 'stdin' | null {
  let c = false;
  let stdin = false;
  let i = 0;
  for (; i < args.length; i++) {
    const w = args[i] as string;
    if (w === '-' || w === '--') {
      i++;
      break;
    }
    if (w === '--rcfile' || w === '--init-file') i++;
    else if (w.startsWith('--')) continue;
    else if (!/^[-+][A-Za-z]+$/.test(w)) break;
    else {
      if (w.startsWith('-')) {
        c ||= w.includes('c');
        stdin ||= w.includes('s');
      }
      i += (w.match(/[oO]/g) ?? []).length; // -o/-O name their option in the next word
    }
  }
  const operands = args.slice(i);
  if (c) return { texts: operands.slice(0, 1) }; // the rest are $0, $1, ...
  return stdin || pipedScript(operands[0]) ? 'stdin' : null;
}

/** Does env split a command line (-S, --split-string) among its own options, before the program? */
export function envSplits(args: string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string;
    if (w === '--' || (!w.startsWith('-') && !w.includes('='))) return false;
    if (w.startsWith('--')) {
      const name = w.slice(2).split('=', 1)[0] as string;
      if (name.length > 0 && 'split-string'.startsWith(name)) return true;
      if (!w.includes('=') && ['unset', 'chdir', 'argv0'].some((o) => name.length > 0 && o.startsWith(name))) i++;
    } else if (w.startsWith('-')) {
      const at = w.search(/[SuCa]/);
      if (at > 0 && w[at] === 'S') return true;
      if (at === w.length - 1) i++; // -u NAME, -C DIR, -a ARG
    }
  }
  return false;
}

/** Is an operand a script read from standard input or a pipe (`-`, /dev/stdin, /proc/self/fd/0, `<(...)`)? */
export function pipedScript(operand: string | undefined): boolean {
  return operand === undefined || /^(\/dev\/|\/proc\/|<\()/.test(operand);
}

/** Short options (per wrapper) whose value is the next word, for wrappers that run a shell when given no program. */
const BARE_SHELL_VALUES: Readonly<Record<string, string>> = {
  sudo: 'ugpCrtUDTRh', doas: 'uC', pkexec: '', unshare: 'SGRwCl', nsenter: 'tSGrwUTN', firejail: '', chroot: '',
};

/** Does the wrapper `base` run an interactive shell (one that reads standard input), given no program? */
export function bareShell(base: string, args: string[]): boolean {
  if (!Object.hasOwn(BARE_SHELL_VALUES, base)) return false;
  const values = BARE_SHELL_VALUES[base] as string;
  // sudo and doas run a shell only with -s/-i; the others whenever no program is given (chroot: after NEWROOT).
  let shell = base !== 'sudo' && base !== 'doas';
  let operands = 0;
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string;
    if (w === '--') {
      operands += args.length - i - 1;
      break;
    }
    if (!w.startsWith('-') || w === '-') operands++;
    else if (w.startsWith('--')) {
      if (/^--(shell|login)$/.test(w)) shell = true;
      else if (!w.includes('=')) i++; // generous: a value, so fewer words count as the program
    } else {
      for (let k = 1; k < w.length; k++) {
        const ch = w[k] as string;
        if (ch === 's' || ch === 'i') shell ||= base === 'sudo' || base === 'doas';
        if (values.includes(ch)) {
          if (k === w.length - 1) i++;
          break;
        }
      }
    }
  }
  return shell && operands <= (base === 'chroot' ? 1 : 0);
}

/** The words of a command find runs: up to `;`, or `+` right after `{}`. */
export function findExecWords(words: string[]): string[] {
  const end = words.findIndex((w, i) => w === ';' || (w === '+' && words[i - 1] === '{}'));
  return end < 0 ? words : words.slice(0, end);
}

/** ssh's short options that take a value (OpenSSH 9.x getopt string); the other letters it knows are switches. */
const SSH_VALUES = 'BbcDEeFIiJLlmOoPpQRSWw';
const SSH_SWITCHES = '1246AaCfGgKkMNnqsTtVvXxYy';

/**
 * ssh's destination and the words of its remote command. OpenSSH reads options before the
 * destination and again after it (unless `--` came first), up to the first operand or `--`; the
 * remaining words are joined with spaces into a command line for the remote user's shell.
 * Unknown is returned for an option letter ssh does not have (its words cannot be told apart).
 */
export function sshRemote(args: string[]): { destination: string | undefined; command: string[] } | { unknown: string } {
  let destination: string | undefined;
  let ended = false;
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string;
    if (!ended && w === '--') {
      ended = true;
      continue;
    }
    if (!ended && w.length > 1 && w.startsWith('-')) {
      for (let k = 1; k < w.length; k++) {
        const ch = w[k] as string;
        if (SSH_VALUES.includes(ch)) {
          if (k === w.length - 1) i++;
          break;
        }
        if (!SSH_SWITCHES.includes(ch)) return { unknown: `ssh option -${ch} (in '${w}') is not one Warden knows` };
      }
      continue;
    }
    if (destination !== undefined) return { destination, command: args.slice(i) };
    destination = w;
  }
  return { destination, command: [] };
}
