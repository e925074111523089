/**
 * Options that make a program people grant for reading change the host, or reach another one.
 * `date` prints the time, `date -s X` (or an operand `MMDDhhmm`) sets the system clock;
 * `journalctl` reads the journal, `--vacuum-*` deletes journal files and `--rotate`, `--flush`,
 * `--sync`, `--relinquish-var`, `--setup-keys`, `--update-catalog` write them; `-H`/`--host`
 * makes systemctl, journalctl and the other systemd tools run ssh to another host (whose
 * commands no grant on this connection names); gawk opens a TCP or UDP connection for a data file
 * named `/inet/tcp/0/HOST/PORT` (`/inet4/`, `/inet6/`, `/udp/`), so a grant of awk would read from
 * any host the target reaches (checked on gawk 5.2); `dmesg -c/-C/-n/-D/-E`, `sysctl -w/-p/--system`
 * or `k=v`, `hostname NAME`/`-F`/`-b` and `ss -K` clear the kernel log, set kernel parameters or
 * the host name, or close sockets (CHANGES). An allow rule never grants these, like the
 * injection catalogue; a deny rule is not widened by them (they run no program of the line's).
 * Long options match in every GNU abbreviation (flags.ts findFlag).
 */
import { findFlag, optionWords } from './flags.js';
import { fileWords } from './operands.js';
import { normalisePath } from './paths.js';
import { AWKS, programBase } from './runners.js';
import type { ShellCommand } from './types.js';

/** systemd tools whose -H/--host connects over ssh (systemd's bus_set_address_system_remote). */
const SYSTEMD_REMOTE = ['systemctl', 'journalctl', 'loginctl', 'machinectl', 'hostnamectl', 'timedatectl', 'localectl', 'busctl', 'systemd-analyze', 'networkctl', 'resolvectl', 'coredumpctl', 'portablectl', 'homectl', 'userdbctl', 'systemd-cgls', 'systemd-cgtop', 'bootctl', 'oomctl'];

/** hostname and its domain-name aliases (net-tools hostname): an operand or -F/-b sets the name. */
const NAME_SETTING = { flags: ['-F', '--file', '-b', '--boot'], operands: 'any', why: 'sets the host or domain name' } as const;

/**
 * Options of inspection tools that change the host (checked on util-linux 2.38, procps-ng 4.0,
 * hostname 3.23, iproute2 6.1); `operands`: an operand sets too (`sysctl k=v` without `-w`,
 * `hostname NAME`): 'assignment' when it holds `=`, 'any' for every operand.
 */
const CHANGES: Readonly<Record<string, { flags: readonly string[]; operands?: 'assignment' | 'any'; why: string }>> = {
  journalctl: {
    flags: ['--vacuum-size', '--vacuum-time', '--vacuum-files', '--rotate', '--flush', '--sync', '--relinquish-var', '--smart-relinquish-var', '--setup-keys', '--update-catalog'],
    why: 'deletes or writes journal files',
  },
  dmesg: {
    flags: ['-c', '--read-clear', '-C', '--clear', '-D', '--console-off', '-E', '--console-on', '-n', '--console-level'],
    why: 'clears the kernel log or changes console logging',
  },
  sysctl: { flags: ['-w', '--write', '-p', '-f', '--load', '--system'], operands: 'assignment', why: 'sets kernel parameters' },
  ss: { flags: ['-K', '--kill'], why: "closes other processes' sockets" },
  hostname: NAME_SETTING, domainname: NAME_SETTING, nisdomainname: NAME_SETTING, ypdomainname: NAME_SETTING,
};

/** The operands of a command, generously: every word before `--` not starting with `-`, and every word after it. */
function operandWords(args: string[]): string[] {
  const end = args.indexOf('--');
  const before = (end < 0 ? args : args.slice(0, end)).filter((a) => !a.startsWith('-'));
  return end < 0 ? before : [...before, ...args.slice(end + 1)];
}

/** date's short options that take a value (`-d X`, `-dX`); `-I` takes only an attached one. */
const DATE_VALUE = 'dfrs';

/** The word with which `date` sets the clock (`-s`, `--set`, `--se=`, an operand not starting with `+`), or null. */
function dateSets(args: string[]): string | null {
  const words = optionWords(args);
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (w.startsWith('--')) {
      const name = w.slice(2).split('=', 1)[0] as string;
      if (name.length > 0 && 'set'.startsWith(name)) return w;
      if (!w.includes('=') && ['date', 'file', 'reference', 'rfc-3339', 'resolution'].some((n) => name.length > 0 && n.startsWith(name))) i++;
      continue;
    }
    if (w.startsWith('-') && w.length > 1) {
      for (let k = 1; k < w.length; k++) {
        const ch = w[k] as string;
        if (ch === 's') return w;
        if (ch === 'I') break;
        if (DATE_VALUE.includes(ch)) {
          if (k + 1 === w.length) i++;
          break;
        }
      }
      continue;
    }
    if (!w.startsWith('+')) return w;
  }
  const end = args.indexOf('--');
  const after = end < 0 ? undefined : args.slice(end + 1).find((a) => !a.startsWith('+'));
  return after ?? null;
}

/** gawk's network special files (io.c): recognised by name, so a respelling that normalises to one counts too, generously. */
const GAWK_INET = /^\/inet[46]?\//;

/** The awk data-file operand that gawk opens as a network connection, or undefined. */
function awkNetworkFile(base: string, args: string[]): string | undefined {
  return fileWords(base, args).files.find((f) => GAWK_INET.test(f) || GAWK_INET.test(normalisePath(f) ?? ''));
}

/** Why `cmd` changes the host or reaches another one (never granted by an allow), or null. */
export function stateChange(cmd: ShellCommand): string | null {
  const base = programBase(cmd.program);
  if (base === 'date') {
    const w = dateSets(cmd.args);
    return w === null ? null : `date '${w}' sets the system clock.`;
  }
  if (SYSTEMD_REMOTE.includes(base)) {
    const hit = findFlag(base, cmd.args, ['-H', '--host']);
    if (hit !== null) return `${base} ${hit.flag} (spelled '${hit.word}') runs ssh to another host.`;
  }
  if (AWKS.has(base)) {
    const net = awkNetworkFile(base, cmd.args);
    if (net !== undefined) return `${base} '${net}' opens a network connection to another host (a gawk special file).`;
  }
  const change = Object.hasOwn(CHANGES, base) ? CHANGES[base] : undefined;
  if (change !== undefined) {
    const hit = findFlag(base, cmd.args, change.flags);
    if (hit !== null) return `${base} ${hit.flag} (spelled '${hit.word}') ${change.why}.`;
    const operand = change.operands === undefined ? undefined : operandWords(cmd.args).find((w) => change.operands === 'any' || w.includes('='));
    if (operand !== undefined) return `${base} '${operand}' ${change.why}.`;
  }
  return null;
}
