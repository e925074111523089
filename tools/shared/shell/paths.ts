/** POSIX path normalisation and prefix-safe containment for `paths:` grants. */

/** Looks like a file path to a shell user. Why broad: fail closed on anything path-ish. */
export function isPathLike(word: string): boolean {
  return word.startsWith('/') || word.startsWith('.') || word.startsWith('~') || word.includes('/');
}

/** The lexical segments of an absolute path, `.` and `..` resolved; `procs` follows /proc's links (PROC_LINKS, DEV_STREAM). */
function segments(path: string, procs: boolean): string[] | null {
  const walk = walkSegments(path, procs);
  return typeof walk === 'string' ? null : walk;
}

/** segments, or which link stopped it: a working folder (`cwd`) or an open file (`open`: fd/N, map_files/X, /dev/fd/N, /dev/stdin). */
function walkSegments(path: string, procs: boolean): string[] | 'cwd' | 'open' {
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
    if (!procs) continue;
    // /dev/fd is /proc/self/fd, /dev/stdin its 0: an open file of the reading process.
    if (out[0] === 'dev' && (out.length === 2 ? DEV_STREAM.test(out[1] as string) : out.length === 3 && out[1] === 'fd')) return 'open';
    // A link is the 3rd to 6th segment (/proc/1/root, /proc/1/task/2/fd/3): joined only then, so the cost stays linear.
    if (out[0] !== 'proc' || out.length < 3 || out.length > 6) continue;
    const link = PROC_LINKS.exec(out.join('/'));
    if (link?.[1] === 'root') out.length = 0;
    else if (link !== null) return link[1] === 'cwd' ? 'cwd' : 'open';
  }
  return out;
}

/**
 * A process's links under /proc: `root` is the folder it sees as `/` (`/proc/1/root/etc/shadow`
 * is `/etc/shadow`), `cwd` its working folder (taken as a relative word) and `fd/N`, `map_files/X`
 * an open file (proc-places.ts), which Warden cannot know. Also `self`, `thread-self` and `task/TID/`, and
 * any other word in the process's place (a pattern such as `/proc/[0-9]+` written with a star: the shell expands it to every
 * process; judging a non-process such as `/proc/sys/root` so only refuses more).
 */
const PROC_LINKS = /^proc\/[^/]+(?:\/task\/[^/]+)?\/(root|cwd|fd\/[^/]+|map_files\/[^/]+)$/;

/** `/dev/stdin`, `/dev/stdout`, `/dev/stderr`: links to /proc/self/fd/0, 1, 2. */
const DEV_STREAM = /^std(?:in|out|err)$/;

/**
 * Does `path` (absolute) go through an open file of a process (`/proc/N/fd/3`, `/proc/self/map_files/X`,
 * `/dev/fd/3`, `/dev/stdin`, also inside a process's root), whose path Warden cannot know?
 */
export function throughOpenFile(path: string): boolean {
  return path.startsWith('/') && walkSegments(path, true) === 'open';
}

/**
 * Resolve `.`/`..` segments of an absolute path lexically, and the path a /proc link reaches
 * (`/proc/self/root/run/secrets/x` is `/run/secrets/x`); null for relative paths (the host's
 * working directory is unknown) and for a path through a process's working folder or open file
 * (`/proc/1/cwd/x`). Symlinks cannot be seen from here: a grant covers whatever the host
 * resolves below the prefix.
 */
export function normalisePath(path: string): string | null {
  if (!path.startsWith('/')) return null;
  const out = segments(path, true);
  return out === null ? null : `/${out.join('/')}`;
}

/** normalisePath without following /proc's links: where the word itself lies (a program's folder, git's -C). */
export function lexicalPath(path: string): string | null {
  return path.startsWith('/') ? `/${(segments(path, false) ?? []).join('/')}` : null;
}

/**
 * What a path through a process's working folder or open file names below it (`/proc/1/cwd/run/x`
 * is `run/x`, relative to a folder Warden does not know), or null when it goes through none.
 */
export function procRelative(path: string): string | null {
  const lex = lexicalPath(path);
  const m = lex === null ? null : /^\/proc\/[^/]+(?:\/task\/[^/]+)?\/(?:cwd|fd\/[^/]+|map_files\/[^/]+)(?:\/(.*))?$/.exec(lex);
  return m === null ? null : (m[1] ?? '.');
}

/**
 * `/var/log/app` grants `/var/log/app/x` but never `/var/log/application`. A path through /proc's
 * links must lie under a prefix both where it is and where it leads: a grant of `/proc` does not
 * reach `/proc/1/root/etc/shadow`, nor one of `/srv` `/proc/1/root/srv/x` (another process's root).
 */
export function underPrefix(path: string, prefixes: readonly string[]): boolean {
  const p = normalisePath(path);
  const lex = lexicalPath(path);
  if (p === null || lex === null) return false;
  const inside = (q: string) => prefixes.some((pre) => pre === '/' || q === pre || q.startsWith(`${pre}/`));
  return inside(p) && inside(lex);
}

/**
 * A `paths:` entry: an absolute folder prefix, never a pattern. Why: `*`, `?`, `[` and `{` are
 * taken literally, so a deny of `/home/<star>/.ssh` never fires (no path starts with
 * `/home/<star>/`) and an allow grants nothing the admin meant: fail closed at load.
 */
export const PREFIX = /^\/[^*?[{]*$/;

/** The load error for an entry PREFIX refuses; `at` is its schema path (…, PROGRAM, 'paths', i). */
export function prefixProblem(at: readonly PropertyKey[] | undefined, entry: unknown): string {
  const program = at !== undefined && at.length >= 3 ? String(at[at.length - 3]) : 'a program';
  const text = typeof entry === 'string' ? entry : String(entry);
  const glob = /[*?[{]/.exec(text);
  if (glob === null) return `${program}: paths: entry '${text}' is not an absolute path: paths are folder prefixes (e.g. /var/log)`;
  const head = text.slice(0, glob.index);
  const folder = head.startsWith('/') ? (normalisePath(head.slice(0, head.lastIndexOf('/') + 1)) ?? '/') : null;
  const name = folder !== null ? `name the folder: ${folder}` : 'name the folder that holds them, as an absolute path (e.g. /srv/repo)';
  return `${program}: paths: entry '${text}' holds '${glob[0]}', which is taken literally (no path starts with it): paths are folder prefixes, not patterns; ${name}`;
}

/** `/proc`, `/proc/PID`, `/proc/PID/task[/TID]`: a folder above every process's root. */
const PROC_ABOVE_ROOTS = /^\/proc(?:\/[^/]+(?:\/task(?:\/[^/]+)?)?)?$/;

/**
 * Is `p` (normalised) `/proc`, `/proc/PID` or `/proc/PID/task[/TID]`? Why: read whole (grep -R,
 * tar -c follow the links), it holds every process's root, and so every file of the machine.
 */
export function aboveProcRoots(p: string): boolean {
  return PROC_ABOVE_ROOTS.test(p);
}
