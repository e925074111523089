/**
 * The `paths:` of a deny rule, judged fail closed. A deny matches a command whose file words
 * (operands.ts: a modelled program's operands and file options, any program's path-like words)
 * reach a denied prefix, also where the word does not name it:
 * - a relative word (`shadow`, `../../etc/shadow`, `.ssh/id_rsa`, `~/x`, the `.` of `grep -r x`)
 *   resolves in a folder Warden does not know (the login folder, the remote user's home, or a
 *   container's; `cd` may have moved it), which may lie under the prefix, so it matches every one;
 * - a folder read whole (`cp -r`, `tar -c`, `zip -r`, `rsync -a`, `grep -r`, `rg`, `find`, `rm -r`,
 *   ...) above a denied path holds it, so it matches too. A program Warden does not model may
 *   read any folder it names whole.
 * - a glob or brace word (`/etc/shad?w`) may expand to a denied path: it matches where the folder
 *   before its first pattern character holds one, and everywhere when it may expand to `..` (climbs).
 * - an option that reads files no word names (journalctl `-m`, `-M`, `--namespace`: option-models.ts
 *   `elsewhere`) may read any path, so it matches every one.
 * - a disk, partition or volume, or the machine's memory (`/dev/sda1`, `/dev/mem`: device-places.ts)
 *   holds every file, so every denied path, unless the program reads only its metadata (`df`, `ls`).
 * Absolute words outside every prefix, and folders a program reads one level (`ls /srv`), do not.
 */
import { findFlag } from './flags.js';
import { COMPILED } from './option-models.js';
import { fileWords, relevantPathLike } from './operands.js';
import { aboveProcRoots, lexicalPath, normalisePath, throughOpenFile } from './paths.js';
import { devicePlace, readsDeviceContent, wholeDeviceRead } from './device-places.js';
import { deviceLanding } from './device-landings.js';
import { globMatches } from './glob-match.js';

/** Programs (modelled ones) that read or change a folder's whole tree: always, or with one of these flags (every spelling). */
const WHOLE: Readonly<Record<string, 'always' | readonly string[]>> = {
  cp: ['-r', '-a'], rm: ['-r'], chmod: ['-R'], chown: ['-R'], chgrp: ['-R'], ls: ['-R'], diff: ['-r', '--recursive'],
  grep: ['-r', '-R', '-d'], egrep: ['-r', '-R', '-d'], fgrep: ['-r', '-R', '-d'], zgrep: ['-r', '-R', '-d'],
  gzip: ['-r', '--recursive'], gunzip: ['-r', '--recursive'], zstd: ['-r'], unzstd: ['-r'],
  // A folder moved, linked, archived, extracted into or walked carries everything under it.
  mv: 'always', ln: 'always', tar: 'always', unzip: 'always', find: 'always', du: 'always',
  // Searchers that recurse by default, and archivers and copiers that take a folder's tree.
  rg: 'always', ag: 'always', ack: 'always', pt: 'always', '7z': 'always', '7za': 'always', '7zr': 'always', pax: 'always', bsdtar: 'always',
  ugrep: 'always', ug: 'always',
  zip: ['-r', '-R', '--recurse-paths', '--recurse-patterns'], rsync: ['-r', '-a', '--recursive', '--archive'], scp: ['-r'],
};
/** Modelled outside option-models.ts (operands.ts reads their words itself). */
const MODELLED_APART = new Set(['find', 'tar', 'dd', 'unzip']);

/** Programs of WHOLE that change or list a tree but print none of its files' content (find only without an action that runs). */
const NO_CONTENT = new Set(['chmod', 'chown', 'chgrp', 'rm', 'ls', 'du']);
const FIND_RUNS = /^-(?:exec|execdir|ok|okdir)$/;

/**
 * How `program` reads the folders it names: whole (and why), or null for one level. `content`:
 * only a modelled program that carries or prints the files' content (secret-files.ts), not one
 * that lists names; an unmodelled one (`git config core.worktree /`) is not taken to.
 */
export function wholeFolders(program: string, args: string[], content = false): string | null {
  if (content && (NO_CONTENT.has(program) || (program === 'find' && !args.some((a) => FIND_RUNS.test(a))))) return null;
  const how = Object.hasOwn(WHOLE, program) ? WHOLE[program] : undefined;
  if (how === 'always') return `${program} reads a folder's whole tree`;
  if (how !== undefined) {
    const hit = findFlag(program, args, how);
    if (hit !== null) return `${program} ${hit.word} reads a folder's whole tree`;
    if (COMPILED.has(program) || MODELLED_APART.has(program)) return null;
  }
  if (content || COMPILED.has(program) || MODELLED_APART.has(program)) return null;
  return `${program} is not modelled, so it may read a folder's whole tree`;
}

/** A URL names no local file, except `file://PATH`. Null: not a file at all. */
function localWord(word: string): string | null {
  const url = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(word);
  if (url === null) return word;
  return (url[1] as string).toLowerCase() === 'file' ? `/${(url[2] as string).replace(/^[^/]*\/?/, '')}` : null;
}

/** Glob and brace characters: bash may expand the word to other names (quoted ones count too, generously). */
const GLOB = /[*?[{]|[@!+]\(/;

/**
 * A glob or brace word (`/etc/shad?w`, `/srv/{repo,x}`): bash expands it to names it does not
 * spell, so it matches where its folder before the first such character (`/etc`) holds a denied
 * path or lies under one.
 */
function globbed(word: string, p: string, denied: readonly string[]): DeniedPath | null {
  const at = p.search(GLOB);
  if (at < 0) return null;
  const folder = p.slice(0, p.lastIndexOf('/', at)) || '/';
  const hit = denied.find((d) => folder === '/' || d === folder || d.startsWith(`${folder}/`) || folder.startsWith(`${d}/`));
  return hit === undefined ? null : { path: p, why: `'${word}' is a pattern bash expands in ${folder}, where it may name ${hit}` };
}

/** A pattern character in a segment (quoted ones count too, generously). */
const SEGMENT_GLOB = /[*?[]|[@!+]\(/;

/**
 * May the pattern `word` expand to a path with a `..` segment, which the lexical reading above
 * cannot see (`/srv/public/.?/private` is /srv/private)? dash, busybox and bash before 5.2 match
 * a pattern segment that starts with a dot (`.?`, `.*`, `.[.]`, `..?`) against `..`; bash's brace
 * expansion spells `..` from pieces of dots (`{.,x}.`, `/srv/a{/../b,}`), so a brace word with any
 * piece of dots between `/`, `{`, `,` and `}` counts (a literal `..` in it too, generously).
 */
function climbs(word: string): boolean {
  const braces = word.includes('{') || word.includes('}');
  if (!braces && !SEGMENT_GLOB.test(word)) return false;
  return word.split(braces ? /[/{},]/ : '/').some((piece) => (braces && /^\.+$/.test(piece)) || (piece.startsWith('.') && SEGMENT_GLOB.test(piece) && matchesDots(piece)));
}

/** May the glob `piece` match `..`? A bracket or an extglob is taken as anything (generous); `.env*` cannot. */
function matchesDots(piece: string): boolean {
  return globMatches(piece, '..', 'extglob');
}

/** A process's folder by its id, self, thread-self, or a thread's (`/proc/1/task/7`): each may name the same process. */
const PROCESS_FOLDER = /^\/proc\/(?:\d+|self|thread-self)(?:\/task\/[^/]+)?(?=\/|$)/;

/**
 * The denied path in a process's folder (`/proc/1/environ`) that `p` or `lex` names in any
 * process's (`/proc/self/environ`, `/proc/7/task/7/environ`): Warden cannot tell which process an
 * id names, nor a thread's id (not listed, yet `/proc/TID/` is its process's) from a process's.
 */
function anyProcess(p: string, lex: string, denied: readonly string[]): string | undefined {
  const generic = (q: string) => q.replace(PROCESS_FOLDER, '/proc/PID');
  const words = [p, lex].filter((q) => PROCESS_FOLDER.test(q)).map(generic);
  if (words.length === 0) return undefined;
  return denied.find((d) => PROCESS_FOLDER.test(d) && words.some((w) => w === generic(d) || w.startsWith(`${generic(d)}/`)));
}

/** A word that reaches a denied path, and why when it does not name it. */
export interface DeniedPath {
  path: string;
  why?: string;
}

/**
 * What `word` (`local`: as a local path) reaches by its name: a denied path (as written, through
 * a process's root or folder, as a pattern), or a word relative or through an open file (any
 * path); else where it leads (`p`) and lies (`lex`), for the caller's further checks.
 */
function namedReach(word: string, local: string, denied: readonly string[]): DeniedPath | { p: string; lex: string } {
  const p = normalisePath(local);
  if (p === null) {
    if (throughOpenFile(local)) return { path: word, why: `'${word}' is an open file of a process, whose path Warden cannot know: it may be one under ${denied.join(', ')}` };
    const why = `'${word}' is relative: it resolves in a folder Warden does not know (the login folder, the remote user's home, or one cd moved to), which may lie under ${denied.join(', ')}; name it by an absolute path`;
    return { path: word, why };
  }
  if (climbs(local)) {
    return { path: word, why: `'${word}' is a pattern that may expand to .. (the shell matches a pattern segment starting with a dot against '..', and brace expansion may spell it), so it may name any path, also under ${denied.join(', ')}` };
  }
  const pattern = globbed(word, p, denied);
  if (pattern !== null) return pattern;
  // Where a /proc link leads (/proc/1/root/etc/shadow) and where the word itself lies (a deny of /proc).
  const lex = lexicalPath(local) ?? p;
  const under = denied.find((d) => d === '/' || p === d || p.startsWith(`${d}/`) || lex === d || lex.startsWith(`${d}/`));
  if (under !== undefined) return { path: p };
  const other = anyProcess(p, lex, denied);
  if (other !== undefined) return { path: p, why: `'${p}' names in one process's folder what ${other} names in another's (a PID, self or a thread's id may name the same process)` };
  return { p, lex };
}

/** The shell's own standard streams, which a redirection may name: what the caller reads. */
const OWN_STREAM = /^\/dev\/(?:std(?:in|out|err)|fd\/[012])$/;

/**
 * The first file a command's redirections open (`> /dev/sda1`, `< /etc/shadow`, `2> x`: the shell
 * opens it for the command) that reaches a denied path, or null. Judged as a file word is; a
 * storage or memory device always holds every denied path (its content is read or written).
 * `/dev/null`, `/dev/tty`, `/dev/stdout` and `2>&1` do not.
 */
export function deniedRedirect(targets: readonly string[], denied: readonly string[]): DeniedPath | null {
  for (const word of denied.length === 0 ? [] : targets) {
    if (OWN_STREAM.test(word)) continue;
    const named = namedReach(word, word, denied);
    if ('path' in named) return { path: named.path, why: `a redirection opens '${word}'${named.why === undefined ? '' : `, and ${named.why}`}` };
    const device = devicePlace(named.p);
    if (device !== null) return { path: named.p, why: `a redirection opens '${word}', and '${named.p}' is ${device.what}, so it holds ${denied.join(', ')}` };
  }
  return null;
}

/** The first word of `program args` that reaches a path under one of `denied` (normalised absolute prefixes), or null. */
export function deniedPath(program: string, args: string[], denied: readonly string[], fed = false): DeniedPath | null {
  if (denied.length === 0) return null;
  const { files, pathLike, listed, elsewhere } = fileWords(program, args);
  // Names a list gives (tar -c -T, zip -@, sha256sum -c) may be any path: fail closed.
  if (listed !== undefined) return { path: listed.list, why: `${listed.why}, so they may lie under ${denied.join(', ')}` };
  // An option that reads files no word names (journalctl -m, -M, --namespace) may read any path: fail closed.
  if (elsewhere !== undefined) return { path: elsewhere.word, why: `${elsewhere.why}, which may lie under ${denied.join(', ')}` };
  // A copy into a folder landing on a device it does not name (`cp /srv/sda /dev`: device-landings.ts).
  const landing = deviceLanding(program, args);
  if (landing !== null) return { path: landing.path, why: `${program} writes ${landing.what}, so it holds ${denied.join(', ')}` };
  const words = [...files, ...relevantPathLike(pathLike)];
  if (words.length === 0) return null;
  let whole: string | null | undefined;
  for (const word of words) {
    const local = localWord(word);
    if (local === null) continue;
    const named = namedReach(word, local, denied);
    if ('path' in named) return named;
    const { p, lex } = named;
    // A disk, partition or the machine's memory holds every file, so every denied path (device-places.ts).
    const device = devicePlace(p);
    if (device !== null && readsDeviceContent(program, args, fed)) return { path: p, why: `'${p}' is ${device.what}, so it holds ${denied.join(', ')}` };
    const wholeDevices = wholeDeviceRead(program, args, local);
    if (wholeDevices !== null) return { path: p, why: `${wholeDevices}, so ${denied.join(', ')} too` };
    whole ??= wholeFolders(program, args);
    if (whole === null) continue;
    // /proc and /proc/PID read whole hold every process's root, so every denied path (paths.ts aboveProcRoots).
    const held = denied.find((d) => p === '/' || aboveProcRoots(lex) || d.startsWith(`${p}/`));
    if (held !== undefined) return { path: p, why: `'${p}' is a folder read whole (${whole}), which holds ${held}` };
  }
  return null;
}
