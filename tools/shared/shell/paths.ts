/** POSIX path normalisation and prefix-safe containment for `paths:` grants. */

/** Looks like a file path to a shell user. Why broad: fail closed on anything path-ish. */
export function isPathLike(word: string): boolean {
  return word.startsWith('/') || word.startsWith('.') || word.startsWith('~') || word.includes('/');
}

/**
 * Resolve `.`/`..` segments of an absolute path lexically; null for relative paths (the
 * host's working directory is unknown). Symlinks cannot be seen from here: a grant covers
 * whatever the host resolves below the prefix.
 */
export function normalisePath(path: string): string | null {
  if (!path.startsWith('/')) return null;
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`;
}

/** `/var/log/app` grants `/var/log/app/x` but never `/var/log/application`. */
export function underPrefix(path: string, prefixes: readonly string[]): boolean {
  const p = normalisePath(path);
  if (p === null) return false;
  return prefixes.some((pre) => pre === '/' || p === pre || p.startsWith(`${pre}/`));
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
