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
