/**
 * Options that make a program people grant for reading change the host, or reach another one.
 * `date` prints the time, `date -s X` (or an operand `MMDDhhmm`) sets the system clock;
 * `journalctl` reads the journal, `--vacuum-*` deletes journal files and `--rotate`, `--flush`,
 * `--sync`, `--relinquish-var`, `--setup-keys`, `--update-catalog` write them; `-H`/`--host`
 * makes systemctl, journalctl and the other systemd tools run ssh to another host (whose
 * commands no grant on this connection names). An allow rule never grants these, like the
 * injection catalogue; a deny rule is not widened by them (they run no program of the line's).
 * Long options match in every GNU abbreviation (flags.ts findFlag).
 */
import { findFlag, optionWords } from './flags.js';
import { programBase } from './runners.js';
import type { ShellCommand } from './types.js';

/** systemd tools whose -H/--host connects over ssh (systemd's bus_set_address_system_remote). */
const SYSTEMD_REMOTE = ['systemctl', 'journalctl', 'loginctl', 'machinectl', 'hostnamectl', 'timedatectl', 'localectl', 'busctl', 'systemd-analyze', 'networkctl', 'resolvectl', 'coredumpctl', 'portablectl', 'homectl', 'userdbctl', 'systemd-cgls', 'systemd-cgtop', 'bootctl', 'oomctl'];

const CHANGES: Readonly<Record<string, { flags: readonly string[]; why: string }>> = {
  journalctl: {
    flags: ['--vacuum-size', '--vacuum-time', '--vacuum-files', '--rotate', '--flush', '--sync', '--relinquish-var', '--smart-relinquish-var', '--setup-keys', '--update-catalog'],
    why: 'deletes or writes journal files',
  },
};

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
  const change = Object.hasOwn(CHANGES, base) ? CHANGES[base] : undefined;
  if (change !== undefined) {
    const hit = findFlag(base, cmd.args, change.flags);
    if (hit !== null) return `${base} ${hit.flag} (spelled '${hit.word}') ${change.why}.`;
  }
  return null;
}
