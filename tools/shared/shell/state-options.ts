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
 * the host name, or close sockets; `hwclock --set/-s/-w/-a/--systz`, `mount`/`umount` with an
 * operand or `-a`, `--bind`, ..., `iptables -A/-D/-F/-Z/...` and `crontab -r/-e` set clocks,
 * mount, change the firewall or the crontab (CHANGES). An allow rule never grants these, like the
 * injection catalogue; a deny rule is not widened by them (they run no program of the line's).
 * Verb tools (`ip OBJECT VERB`, nmcli, nft, systemctl, timedatectl, hostnamectl, resolvectl,
 * loginctl) read only with their reading verbs (`show`, `list`, `status`, `list-*`, ...): another
 * verb (`ip link set`, `systemctl restart`, `timedatectl set-time`) is refused unless the grant's
 * `subcommands:` names it, since a grant without subcommands: reads as one to inspect. LVM's
 * listings (pvs, vgs, lvs, *display, lvmdiskscan) and lvmconfig only in their read-only form; `lvm`
 * is a verb tool too: its reading commands in that form, others when `subcommands:` names them, and
 * never without a command, `-` or a script file (it reads commands unseen; device-metadata.ts).
 * Long options match in every GNU abbreviation (flags.ts findFlag).
 */
import { lvmListingChange } from './device-metadata.js';
import { findFlag, optionWords } from './flags.js';
import { fileWords, scanWords } from './operands.js';
import { findSubcommand } from './subcommand-options.js';
import { normalisePath } from './paths.js';
import { AWKS, programBase } from './runners.js';
import type { ShellCommand } from './types.js';

/** systemd tools whose -H/--host connects over ssh (systemd's bus_set_address_system_remote). */
const SYSTEMD_REMOTE = ['systemctl', 'journalctl', 'loginctl', 'machinectl', 'hostnamectl', 'timedatectl', 'localectl', 'busctl', 'systemd-analyze', 'networkctl', 'resolvectl', 'coredumpctl', 'portablectl', 'homectl', 'userdbctl', 'systemd-cgls', 'systemd-cgtop', 'bootctl', 'oomctl'];

/** hostname and its domain-name aliases (net-tools hostname): an operand or -F/-b sets the name. */
const NAME_SETTING: Change = { flags: ['-F', '--file', '-b', '--boot'], operands: 'any', why: 'sets the host or domain name' };

/** mount/umount: an operand, or one of these, mounts or unmounts (util-linux 2.38 `mount --help`). */
const MOUNTING = [
  '-a', '--all', '-B', '--bind', '-R', '--rbind', '-M', '--move', '--source', '--target', '--make-shared', '--make-slave', '--make-private',
  '--make-unbindable', '--make-rshared', '--make-rslave', '--make-rprivate', '--make-runbindable',
];
/** iptables' commands that change the rules (iptables 1.8 getopt: `-nvL` clusters; `-L -Z` zeroes counters). */
const IPTABLES: Change = {
  flags: ['-A', '-D', '-I', '-R', '-F', '-Z', '-N', '-X', '-P', '-E', '--append', '--delete', '--insert', '--replace', '--flush', '--zero',
    '--new-chain', '--delete-chain', '--policy', '--rename-chain'],
  why: 'changes the firewall rules',
};

/** A changing entry: options, operands, or a verb (subcommand) other than the reading ones. */
interface Change {
  flags: readonly string[];
  /** An operand sets too (`sysctl k=v` without `-w`, `hostname NAME`): 'assignment' when it holds `=`, 'any' for every operand. */
  operands?: 'assignment' | 'any';
  /**
   * The verbs that only read; any other verb changes the host unless the grant's `subcommands:`
   * names it. `at`: which operand is the verb (ip and nmcli: OBJECT VERB, so 1); with no verb the
   * tool reads. `getters`: verbs that read when given at most that many further operands
   * (`hostnamectl hostname` prints, `hostnamectl hostname NAME` sets).
   */
  verbs?: { reads: RegExp; at?: number; getters?: Readonly<Record<string, number>> };
  why: string;
}

/**
 * Options of inspection tools that change the host (checked on util-linux 2.38, procps-ng 4.0,
 * hostname 3.23, iproute2 6.1, systemd 252); option values are told apart by option-models.ts
 * where the tool is modelled there (`dmesg -fkern` is `-f kern`, `sysctl -r 'a=b'` a pattern).
 */
const CHANGES: Readonly<Record<string, Change>> = {
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
  hwclock: {
    flags: ['--set', '-s', '--hctosys', '-w', '--systohc', '--systz', '-a', '--adjust', '--param-set', '--update-drift'],
    why: 'sets the hardware or system clock',
  },
  mount: { flags: MOUNTING, operands: 'any', why: 'mounts or remounts a file system' },
  umount: { flags: ['-a', '--all'], operands: 'any', why: 'unmounts a file system' },
  iptables: IPTABLES, ip6tables: IPTABLES,
  crontab: { flags: ['-r', '--remove', '-e', '--edit'], why: 'removes or edits the crontab' },
  // ip OBJECT VERB: matched by prefix (`ip l s` is `link set`), so only these exact words read.
  ip: { flags: [], verbs: { reads: /^(show|sh|sho|list|lst|ls|get|help|showdump)$/, at: 1 }, why: 'changes the network configuration' },
  nmcli: { flags: [], verbs: { reads: /^(show|status|list|s|sh|st)$/, at: 1 }, why: 'changes the network configuration' },
  nft: { flags: ['-f', '--file', '-i', '--interactive'], verbs: { reads: /^(list|describe|monitor|help)$/ }, why: 'changes the firewall rules' },
  systemctl: {
    flags: [],
    verbs: { reads: /^(status|show|cat|help|list-[a-z-]+|is-[a-z-]+|get-default|show-environment)$/ },
    why: 'starts, stops or changes units or the system state',
  },
  timedatectl: { flags: [], verbs: { reads: /^(status|show|list-timezones|timesync-status|show-timesync|help)$/ }, why: 'sets the time, time zone or NTP' },
  hostnamectl: {
    flags: [],
    verbs: { reads: /^(status|help)$/, getters: { hostname: 0, 'icon-name': 0, chassis: 0, deployment: 0, location: 0 } },
    why: 'sets the host name or machine information',
  },
  resolvectl: {
    flags: [],
    verbs: {
      reads: /^(status|query|service|openpgp|tlsa|statistics|monitor|show-cache|show-server-state|help)$/,
      getters: { 'log-level': 0, dns: 1, domain: 1, 'default-route': 1, llmnr: 1, mdns: 1, dnssec: 1, dnsovertls: 1, nta: 1 },
    },
    why: 'changes the DNS resolver settings',
  },
  loginctl: {
    flags: [],
    verbs: { reads: /^(list-[a-z-]+|show-[a-z-]+|[a-z]+-status|help)$/ },
    why: 'terminates, kills, locks sessions or changes seats and lingering',
  },
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
      if (!w.includes('=') && ['date', 'file', 'reference', 'rfc-3339'].some((n) => name.length > 0 && n.startsWith(name))) i++;
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

/** The option of `change` a command uses, by option-models.ts when the tool is modelled there (values told apart), or null. */
function changingOption(base: string, args: string[], flags: readonly string[]): { flag: string; word: string } | null {
  const scanned = scanWords(base, args);
  if (scanned === undefined) return findFlag(base, args, flags);
  for (const flag of flags) {
    const used = scanned.options.find((o) => o.flag === flag || (flag.startsWith('--') && o.flag.length > 2 && flag.startsWith(o.flag)));
    if (used !== undefined) return { flag, word: used.value === undefined ? used.flag : `${used.flag} ${used.value}` };
  }
  return null;
}

/** The verb a verb tool runs and the operands after it: systemctl's through subcommand-options.ts, others generously. */
function verbOf(base: string, args: string[], at: number): { verb: string; rest: string[] } | { unknown: string } | null {
  if (base === 'systemctl') {
    const sub = findSubcommand(base, args);
    if (sub.kind === 'undetermined') return { unknown: sub.why };
    if (sub.kind === 'none') return null;
    return { verb: sub.word, rest: [] };
  }
  const ops = scanWords(base, args)?.operands ?? operandWords(args);
  const verb = ops[at];
  return verb === undefined ? null : { verb, rest: ops.slice(at + 1) };
}

/**
 * Why a verb tool's verb changes the host, or null; a verb the grant names in `subcommands:` is the
 * admin's choice. When the verb is the subcommand itself, a grant with `subcommands:` already
 * holds it to those (condition.ts), so only a grant without them is judged here.
 */
function verbChange(base: string, args: string[], change: Change, named: readonly string[] | undefined): string | null {
  if (change.verbs === undefined || (named !== undefined && (change.verbs.at ?? 0) === 0)) return null;
  const found = verbOf(base, args, change.verbs.at ?? 0);
  if (found === null) return null;
  if ('unknown' in found) return `${found.unknown}, so whether it ${change.why} cannot be told.`;
  const { verb, rest } = found;
  const getter = Object.hasOwn(change.verbs.getters ?? {}, verb) ? change.verbs.getters?.[verb] : undefined;
  if (change.verbs.reads.test(verb) || (getter !== undefined && rest.length <= getter) || named?.includes(verb) === true) return null;
  return `${base} '${verb}' ${change.why} (name it in subcommands: to grant it).`;
}

/**
 * Why `cmd` changes the host or reaches another one (never granted by an allow), or null.
 * `named`: the grant's `subcommands:`, which may grant a changing verb (`systemctl restart`).
 */
export function stateChange(cmd: ShellCommand, named?: readonly string[]): string | null {
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
  const lvm = lvmListingChange(base, cmd.args, named);
  if (lvm !== null) return lvm;
  const change = Object.hasOwn(CHANGES, base) ? CHANGES[base] : undefined;
  if (change === undefined) return null;
  const hit = changingOption(base, cmd.args, change.flags);
  if (hit !== null) return `${base} ${hit.flag} (spelled '${hit.word}') ${change.why}.`;
  const operands = scanWords(base, cmd.args)?.operands ?? operandWords(cmd.args);
  const operand = change.operands === undefined ? undefined : operands.find((w) => change.operands === 'any' || w.includes('='));
  if (operand !== undefined) return `${base} '${operand}' ${change.why}.`;
  return verbChange(base, cmd.args, change, named);
}
