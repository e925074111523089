/**
 * Files that ARE a secret, with no name beside it for output masking to read (secret-text.ts
 * masks `DB_PASSWORD=x`, not a file holding only `x`): a Docker or Compose secret
 * (`/run/secrets/db_password`), a Kubernetes service account token or a Secret volume's key
 * (`/var/run/secrets/...`, any Secret volume's mountPath: kubectl_exec passes them from the pod
 * spec), a systemd credential (`/run/credentials/UNIT/NAME`), pppd's `chap-secrets` /
 * `pap-secrets` / `srp-secrets`, strongSwan's `ipsec.secrets`, Vault's `.vault-token` and
 * Rails' `master.key` (and `config/credentials/ENV.key`), RabbitMQ's (Erlang's) `.erlang.cookie`,
 * MySQL's `.mysql_secret`, RubyGems' `.gem/credentials`, rsyncd's `rsyncd.secrets`, the LDAP
 * bind passwords of `/etc/ldap.secret`, `pam_ldap.secret`, `libnss-ldap.secret`, Jenkins'
 * `secrets/` folder and the k3s / RKE2 join tokens. A command that reads one (by its
 * name, by a glob that may expand to it, or by reading a folder above it whole: `grep -r`,
 * `cp -r`, `tar -c`, `zip -r`, `rsync -a`, `rg`, `find -exec`) is refused, naming the file, unless the
 * program's grant names the secret itself: a `paths:` entry at or under the secret location
 * (`/run/secrets`, `/run/secrets/db_password`) or ending at such a file. A folder above it
 * (`/run`, `/`) or a grant with no `paths:` does not. Why refuse rather than mask the whole
 * output: the agent learns why, and a grant of `/run` or `/app` was almost never meant to give
 * these out. A file known by its base name may lie anywhere, and Warden cannot see the host's
 * tree, so a read that prints or packs a folder's whole tree (`grep -r . /app` over
 * `/app/config/master.key`, `tar -c`, `zip -r`, `rg`, `ag`, `ack`, which recurse by default, with
 * no folder the working one) is refused too unless that folder is a named secret place; copies
 * that keep the names (`cp -r`, `rsync -a`, `mv`, `ln`) and listings (`ls -R`, `find` without
 * -exec) are not. git's reads of a repository are judged the same way (git-secret-reads.ts:
 * `git show REV:PATH` as `cat PATH`, `git grep -h` and `git archive` as a tree read whole). A
 * path through a process's root (`/proc/1/root/run/secrets/x`) is the path it reaches, one through
 * its working folder (`/proc/1/cwd/x`) a relative word (paths.ts); one through another open file
 * (`/proc/1/fd/3`, `/dev/fd/3`; not the program's own stdin, stdout, stderr) is refused. Not seen: an OpenVPN `auth-user-pass` file or any other secret at a path only
 * its config names; a relative word is judged as if the working folder were `/` (a container's
 * usual one) and by its base name, so `../../run/secrets/x` from another folder under a grant
 * without paths: is not (a grant with paths: refuses relative words anyway), nor a folder above
 * a place given to a program Warden does not model, nor names a list gives (`tar -c -T LIST`).
 */
import { fileWords, modelled, relevantPathLike } from './operands.js';
import { aboveProcRoots, lexicalPath, normalisePath, procRelative, throughOpenFile } from './paths.js';
import { wholeFolders } from './deny-paths.js';
import { devicePlace, FIND_RUNS, NAMES_ONLY, readsDeviceContent, wholeDeviceRead } from './device-places.js';
import { findFlag } from './flags.js';
import { gitRevPaths, gitWholeTree } from './git-secret-reads.js';
import { gitFolder } from './git-guard.js';
import type { ShellCommand } from './types.js';
import { globMatcher } from './glob-match.js';

/** Folders (and files) every file under which is a bare secret. */
export const SECRET_LOCATIONS: readonly string[] = [
  '/run/secrets', '/var/run/secrets', '/run/credentials', '/var/run/credentials',
  '/etc/ppp/chap-secrets', '/etc/ppp/pap-secrets', '/etc/ppp/srp-secrets',
  '/etc/ipsec.secrets', '/etc/strongswan/ipsec.secrets', '/etc/strongswan.d/ipsec.secrets',
  '/etc/rsyncd.secrets', '/etc/rsyncd/rsyncd.secrets', '/etc/ldap.secret', '/etc/pam_ldap.secret', '/etc/libnss-ldap.secret',
  '/var/lib/jenkins/secrets', '/var/lib/rancher/k3s/server/token', '/var/lib/rancher/k3s/server/node-token',
  '/var/lib/rancher/rke2/server/token', '/var/lib/rancher/rke2/server/node-token',
];
/** Base names that are a bare secret wherever they are, and Rails' per-environment keys. */
const SECRET_BASENAMES = /(?:^|\/)(?:\.vault-token|master\.key|\.erlang\.cookie|\.mysql_secret|\.gem\/credentials|credentials\/[^/]+\.key)$/;
/** The base names above a glob's last segment may expand to. */
const BARE_NAMES = ['.vault-token', 'master.key', '.erlang.cookie', '.mysql_secret'];
/** Programs whose whole-tree reads keep every file's name (a copy, a move, a link): a secret known by its base name keeps it. */
const NAME_KEEPING: ReadonlySet<string> = new Set(['cp', 'mv', 'ln', 'rsync', 'scp']);
/** grep's -d ACTION recurses only with `recurse` (-d read and -d skip do not). */
const GREPS = /^[ez]?grep$|^[ef]grep$/;
const GREP_RECURSE = /^(?:-[A-Za-z]*d=?recurse|--d[a-z]*=recurse)$/;
/** Programs that read their working folder's whole tree when no folder is named. */
const RECURSIVE_DEFAULT: ReadonlySet<string> = new Set(['rg', 'ag', 'ack', 'pt', 'ugrep', 'ug']);
/** tar (and bsdtar) packing files: -c, -r, -u, -A, in any spelling. */
const TAR_PACKS = (args: readonly string[]) => args.some((a, i) => /^--(?:cr|ap|up|cat|conc)/.test(a) || (/^-[^-]/.test(a) || (i === 0 && !a.startsWith('-'))) && /^-?[A-Za-z]*[cruA]/.test(a));

const GLOB = /[*?[{]|[@!+]\(/;
/** The reading program's own standard streams: what the line feeds it, or its output. */
const OWN_STREAM = /^\/(?:dev\/std(?:in|out|err)|dev\/fd\/[012]|proc\/(?:self|thread-self)\/fd\/[012])$/;

/** A URL names no local file, except `file://PATH`. */
function localWord(word: string): string | null {
  const url = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(word);
  if (url === null) return word;
  return (url[1] as string).toLowerCase() === 'file' ? `/${(url[2] as string).replace(/^[^/]*\/?/, '')}` : null;
}

const under = (p: string, loc: string) => loc === '/' || p === loc || p.startsWith(`${loc}/`);


/** Is `p` (normalised absolute) a bare secret, or may a glob in it expand to one? Returns the secret location or file. */
function secretAt(p: string, locations: readonly string[]): string | null {
  const at = p.search(GLOB);
  if (at < 0) {
    const loc = locations.find((l) => under(p, l));
    if (loc !== undefined) return p;
    return SECRET_BASENAMES.test(p) ? p : null;
  }
  // A pattern: its folder before the first pattern character holds a location or lies under one.
  const folder = p.slice(0, p.lastIndexOf('/', at)) || '/';
  const loc = locations.find((l) => under(folder, l) || under(l, folder));
  if (loc !== undefined) return loc;
  // Only the last segment is a pattern: may it be a secret base name?
  const slash = p.lastIndexOf('/');
  if (slash < at) {
    // Braces and extglobs taken as anything; matched without backtracking (glob-match.ts).
    const pat = globMatcher(p.slice(slash + 1), 'loose');
    if (BARE_NAMES.some((n) => pat(n)) || (/\/credentials$/.test(folder) && (pat('x.key') || pat('credentials')))) return p;
  }
  return null;
}

/** Does the grant name this secret itself (a paths: entry at or under its location, or at the file)? */
function named(secret: string, paths: readonly string[] | undefined, locations: readonly string[]): boolean {
  if (paths === undefined) return false;
  return paths.some((g) => under(secret, g) && (locations.some((l) => under(g, l)) || SECRET_BASENAMES.test(g)));
}

/**
 * Why `cmd` reads a bare-secret file its grant does not name, or null. `mounts`: more secret
 * locations (a pod's Secret volume mountPaths).
 */
export function secretFileRead(cmd: ShellCommand, paths: readonly string[] | undefined, mounts: readonly string[] = [], extra: readonly string[] = [], fed = false): string | null {
  if (NAMES_ONLY.has(cmd.program) || (cmd.program === 'find' && !cmd.args.some((a) => FIND_RUNS.test(a)))) return null;
  const locations = [...SECRET_LOCATIONS, ...mounts];
  const { files, pathLike, writes } = fileWords(cmd.program, cmd.args);
  const words = [...files, ...relevantPathLike(pathLike), ...extra, ...(cmd.program === 'git' ? gitRevPaths(cmd.args) : [])];
  if (cmd.program === 'git') {
    // git prints or packs its repository's tree without the names (git-secret-reads.ts): the -C folder, or the working one.
    const tree = gitWholeTree(cmd.args);
    const top = gitFolder(cmd.args);
    if (tree !== null && (top === null || !named(normalisePath(top) ?? top, paths, locations))) {
      return `${tree}: a file that is itself a secret by its name alone (config/master.key, .vault-token, .erlang.cookie) may be committed at any depth, which Warden cannot see from the command line; read files by name (git show REV:PATH), list them (git ls-files, git ls-tree -r), or search with the names shown (git grep without -h).`;
    }
  }
  // rg, ag, ack: with no folder named they search the working one.
  if (RECURSIVE_DEFAULT.has(cmd.program) && !words.some((w) => w.startsWith('/'))) words.push('.');
  let whole: string | null | undefined;
  for (const word of words) {
    const local = localWord(word);
    if (local === null) continue;
    const abs = normalisePath(local);
    // Another open file of a process (/proc/1/fd/3): any file, a secret too (under paths: proc-places.ts judges it).
    if (abs === null && paths === undefined && throughOpenFile(local) && !OWN_STREAM.test(lexicalPath(local) ?? local)) {
      return `${cmd.program} reads '${word}', an open file of a process, whose path Warden cannot know: it may be a file that is itself a secret (output masking cannot see a secret with no name beside it); a grant reads it only when its paths: name its place (such as /proc/PID/fd).`;
    }
    // A relative word: as if the working folder were `/`; a base name anywhere (also below /proc/N/cwd/).
    const p = abs ?? normalisePath(`/${(procRelative(local) ?? local).replace(/^~(?=\/|$)/, '')}`) ?? local;
    // A relative word's pattern characters are not judged (`["ls","/x"]` is a JSON value, not a glob).
    // A disk, partition or the machine's memory holds every file, secrets too (under paths: proc-places.ts judges it).
    const wholeDevices = paths === undefined ? wholeDeviceRead(cmd.program, cmd.args, p) : null;
    if (wholeDevices !== null) return `${wholeDevices}; read a device by name under a grant whose paths: name it.`;
    const device = paths === undefined ? devicePlace(p) : null;
    if (device !== null && readsDeviceContent(cmd.program, cmd.args, fed)) {
      // A modelled program's written file (dd of=, tee, cp's target) is written; an unmodelled one's words may be either.
      const verb = !writes.includes(word) ? 'reads' : modelled(cmd.program) ? 'writes' : 'reads or writes';
      return `${cmd.program} ${verb} '${abs ?? word}', ${device.what}, whose output masking cannot see a secret with no name beside it; a grant reads it only when its paths: name it${device.place === null ? ' (write the device plainly, not as a pattern)' : ` (${device.place})`}.`;
    }
    const hit = abs === null && GLOB.test(p) ? (SECRET_BASENAMES.test(p) ? p : null) : secretAt(p, locations);
    if (hit !== null && !named(hit, paths, locations)) {
      return `${cmd.program} reads '${abs ?? word}', ${hit === p ? 'a file that is itself a secret' : `which may expand to a secret under ${hit}`} (output masking cannot see a secret with no name beside it); a grant reads it only when its paths: name it (${hit}).`;
    }
    whole ??= wholeFolders(cmd.program, cmd.args, true);
    if (whole === null || (abs === null && GLOB.test(p))) continue;
    // /proc and /proc/PID hold each process's root, and so every secret location (grep -R follows the links).
    if (aboveProcRoots(p)) return `${cmd.program} reads '${abs ?? word}' whole (${whole}), which holds every process's root (/proc/PID/root) and so every file that is itself a secret; read the files by name.`;
    const held = locations.find((l) => under(l, p) && l !== p && !named(l, paths, locations));
    if (held !== undefined) return `${cmd.program} reads '${abs ?? word}' whole (${whole}), which holds ${held}, files that are themselves secrets; a grant reads them only when its paths: name ${held}.`;
    if (bareNamesReached(cmd, p, paths, locations)) {
      return `${cmd.program} reads '${abs ?? word}' whole (${whole}), where a file that is itself a secret by its name alone (config/master.key, .vault-token, .erlang.cookie) may lie at any depth, which Warden cannot see from the command line; read the files by name, or list the tree (ls -R, find without -exec).`;
    }
  }
  return null;
}

/** Does a whole-tree read of `p` print or pack files a secret base name may name (p not a named secret place)? */
function bareNamesReached(cmd: ShellCommand, p: string, paths: readonly string[] | undefined, locations: readonly string[]): boolean {
  // unzip reads an archive, not the host's tree (its extraction is judged as a write).
  if (NAME_KEEPING.has(cmd.program) || cmd.program === 'unzip' || named(p, paths, locations)) return false;
  if (GREPS.test(cmd.program)) {
    const recursive = findFlag(cmd.program, cmd.args, ['-r', '-R']) !== null
      || cmd.args.some((a, i) => GREP_RECURSE.test(a) || (a === 'recurse' && /^(?:-[A-Za-z]*d|--d[a-z]*)$/.test(cmd.args[i - 1] ?? '')));
    // grep -r names the file before each line it prints, and a line led by a secret file's name
    // is masked (secret-file-lines.ts); only a search that hides the names is refused.
    return recursive && findFlag(cmd.program, cmd.args, ['-h', '--no-filename']) !== null;
  }
  if (cmd.program === 'tar' || cmd.program === 'bsdtar') return TAR_PACKS(cmd.args);
  if (/^7z[ar]?$/.test(cmd.program)) return cmd.args.find((a) => !a.startsWith('-')) === 'a' || cmd.args.find((a) => !a.startsWith('-')) === 'u';
  return true;
}
