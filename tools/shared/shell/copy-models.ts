/**
 * The files rsync and scp touch, for a grant's `paths:`. Unmodelled, only their path-like words
 * were judged, so `rsync -a /srv/app/x authorized_keys` wrote a bare relative name in the login
 * folder (the remote user's home). Modelled: every operand and file option is a file (absolute,
 * under a prefix); the last of two or more operands is written (the destination), the others
 * read (also written with --remove-source-files, which deletes them). An operand on another host
 * (`host:path`, `host::module`, `rsync://`, `scp://`) is refused: paths: bounds this host's files
 * only. Options that run programs (`-e`, `--rsh`, `--rsync-path`, scp's `-S`, `-F`, `-D`) are the
 * injection catalogue's; any option the lists below do not hold is refused (option-spec.ts).
 * Lists: rsync 3.5 and OpenSSH 9 scp `--help`/man page on this machine.
 */
import type { FileWords } from './operands.js';
import { remoteWhy, remoteWord, scanSpec, specFileWords, uses, valuesOf, type OptionSpec } from './option-spec.js';

/** rsync's long options that take a value and name no file. */
const RSYNC_TEXT = [
  '--info', '--debug', '--stderr', '--suffix', '--chmod', '--checksum-choice', '--block-size', '--max-delete', '--max-size', '--min-size',
  '--max-alloc', '--usermap', '--groupmap', '--chown', '--timeout', '--contimeout', '--modify-window', '--compress-choice', '--compress-level',
  '--compress-threads', '--skip-compress', '--exclude', '--include', '--copy-as', '--address', '--port', '--sockopts', '--outbuf',
  '--out-format', '--log-file-format', '--bwlimit', '--stop-after', '--stop-at', '--protocol', '--iconv', '--checksum-seed', '--filter',
];
/** rsync's long options whose value is a file or folder it reads. */
const RSYNC_READS = [
  '--files-from', '--exclude-from', '--include-from', '--compare-dest', '--copy-dest', '--link-dest', '--read-batch', '--password-file',
  '--early-input', '--confine-root',
];
/** rsync's long options whose value is a file or folder it writes (a relative folder counts as relative: refused). */
const RSYNC_WRITES = ['--log-file', '--backup-dir', '--temp-dir', '--partial-dir', '--write-batch', '--only-write-batch'];

const RSYNC: OptionSpec = {
  name: 'rsync',
  // Not -e (the catalogue's) nor -M/--remote-option, which hands any option (--log-file=X) to the other side.
  flags: 'vqcarRbudlLkKHpEAXogDtUNOJSnWxzCFmIy0s8hiP46V',
  values: 'BTf@',
  longFlags: [
    '--verbose', '--no-motd', '--quiet', '--checksum', '--archive', '--recursive', '--inc-recursive', '--i-r', '--relative', '--implied-dirs',
    '--backup', '--update', '--inplace', '--append', '--append-verify', '--dirs', '--old-dirs', '--old-d', '--mkpath', '--links',
    '--copy-links', '--copy-unsafe-links', '--safe-links', '--insecure-links', '--munge-links', '--copy-dirlinks', '--keep-dirlinks',
    '--hard-links', '--perms', '--executability', '--acls', '--xattrs', '--owner', '--group', '--devices', '--copy-devices',
    '--write-devices', '--specials', '--times', '--atimes', '--open-noatime', '--crtimes', '--omit-dir-times', '--omit-link-times',
    '--super', '--fake-super', '--sparse', '--preallocate', '--dry-run', '--whole-file', '--W', '--one-file-system', '--existing',
    '--ignore-non-existing', '--ignore-existing', '--remove-source-files', '--del', '--delete', '--delete-before', '--delete-during',
    '--delete-delay', '--delete-after', '--delete-excluded', '--ignore-missing-args', '--delete-missing-args', '--ignore-errors',
    '--force', '--partial', '--delay-updates', '--prune-empty-dirs', '--numeric-ids', '--ignore-times', '--size-only', '--fuzzy',
    '--compress', '--cvs-exclude', '--from0', '--old-args', '--secluded-args', '--protect-args', '--trust-sender', '--blocking-io',
    '--stats', '--8-bit-output', '--human-readable', '--progress', '--itemize-changes', '--list-only', '--fsync', '--ipv4', '--ipv6',
    '--version', '--help',
  ],
  longValues: [...RSYNC_TEXT, ...RSYNC_READS, ...RSYNC_WRITES],
  negations: true,
};

/**
 * The file a `--filter`/`-f` rule reads: `merge FILE` and `. FILE` (with modifiers: `merge,- F`,
 * `.- F`) read FILE; `dir-merge`/`:` name a file in each folder of the transfer (path-like check).
 */
function filterFile(rule: string): { file?: string; pathLike?: string } {
  const m = /^\s*(merge|dir-merge|\.|:)[^\s_]*[\s_]+(.*)$/.exec(rule);
  if (m === null) return {};
  const name = (m[2] as string).trim();
  return m[1] === 'merge' || m[1] === '.' ? { file: name } : { pathLike: name };
}

/** rsync [OPTION...] SRC... [DEST]: its files (see the module note). */
export function rsyncWords(args: string[]): FileWords {
  const s = scanSpec(RSYNC, args);
  const reads = valuesOf(s, ...RSYNC_READS);
  const writes = valuesOf(s, ...RSYNC_WRITES, '-T');
  const pathLike: string[] = [];
  for (const rule of valuesOf(s, '--filter', '-f')) {
    const f = filterFile(rule);
    if (f.file !== undefined) reads.push(f.file);
    if (f.pathLike !== undefined) pathLike.push(f.pathLike);
  }
  const remote = s.operands.find(remoteWord);
  const local = s.operands.filter((o) => !remoteWord(o));
  // --read-batch: the one operand is the destination.
  const batch = uses(s, '--read-batch');
  const dest = batch || local.length >= 2 ? local.slice(-1) : [];
  const sources = batch ? [] : local.slice(0, local.length >= 2 ? -1 : undefined);
  reads.push(...sources);
  writes.push(...dest);
  if (uses(s, '--remove-source-files')) writes.push(...sources);
  // --files-from: the names copied (`.git/config` among them) are the list's, not the line's.
  const list = valuesOf(s, '--files-from')[0];
  const listed = list === undefined ? undefined : { list, why: `rsync --files-from copies names only its list gives ('${list}'), which the line does not name (one may be a file git obeys, or lie outside the prefixes)` };
  const why = remote !== undefined ? remoteWhy('rsync', remote) : listed?.why;
  const out = specFileWords(RSYNC.name, s.unknown, reads, writes, why, [...pathLike, ...s.strays]);
  if (listed !== undefined) out.listed = listed;
  return out;
}

/** What a copy takes and where it puts it: `dest` holds the sources under their own names unless `named` (the one source's new name); `whole` why it carries a folder's tree. */
export interface CopyPlan {
  sources: string[];
  dest: string;
  named: boolean;
  whole: string | null;
}

/** rsync's or scp's local sources and destination (see CopyPlan), or null when there is no local destination. */
export function copyPlan(program: 'rsync' | 'scp', args: string[]): CopyPlan | null {
  const s = scanSpec(program === 'rsync' ? RSYNC : SCP, args);
  const local = s.operands.filter((o) => !remoteWord(o));
  if (local.length < 2 || local.length !== s.operands.length || uses(s, '--read-batch')) return null;
  const recursive = program === 'rsync' ? ['-r', '--recursive', '-a', '--archive', '-d', '--dirs'] : ['-r'];
  const hit = s.options.find((o) => recursive.includes(o.flag));
  return { sources: local.slice(0, -1), dest: local[local.length - 1] as string, named: false, whole: hit === undefined ? null : `${program} ${hit.flag}` };
}

const SCP: OptionSpec = {
  name: 'scp',
  flags: '346ABCOpqRrsTv',
  // -S, -F and -D run a program or read ssh's configuration: the catalogue refuses them first.
  values: 'cDFiJloPSX',
  longFlags: [],
  longValues: [],
};

/** scp [OPTION...] SOURCE... TARGET: local operands are files (the last written); -i reads a key. */
export function scpWords(args: string[]): FileWords {
  const s = scanSpec(SCP, args);
  const remote = s.operands.find(remoteWord);
  const local = s.operands.filter((o) => !remoteWord(o));
  const last = s.operands.length >= 2 ? s.operands[s.operands.length - 1] : undefined;
  const writes = last !== undefined && !remoteWord(last) ? [last] : [];
  const reads = [...valuesOf(s, '-i'), ...local.filter((o, at) => !(writes.length > 0 && at === local.length - 1))];
  return specFileWords(SCP.name, s.unknown, reads, writes, remote === undefined ? undefined : remoteWhy('scp', remote), s.strays);
}
