/**
 * Files git obeys: a repository's `.git/` (config, hooks, info/attributes, a `.git` file naming
 * another git dir), the work tree's `.gitattributes` and `.gitmodules`, a home's `.gitconfig`
 * and `.config/git/` (config, attributes). What they name (`diff.X.textconv`, `core.fsmonitor`,
 * `filter.X.clean`, hooks) runs when a later git call reads them, so a write that lands there
 * plants a command no rule judges. A grant with `paths:` never writes one (condition.ts).
 * Matched on path components, any case (a case-insensitive file system would obey `.GIT` too).
 */

/** Names git obeys wherever they stand (a `.git` folder's whole contents count too). */
const OBEYED = new Set(['.git', '.gitattributes', '.gitmodules', '.gitconfig']);

/** Does a write to `path` (absolute or relative) land in a file git obeys? */
export function gitObeys(path: string): boolean {
  const parts = path.toLowerCase().split('/').filter((p) => p !== '' && p !== '.');
  if (parts.slice(0, -1).includes('.git')) return true;
  const last = parts[parts.length - 1];
  if (last !== undefined && OBEYED.has(last)) return true;
  // $XDG_CONFIG_HOME/git/{config,attributes} (a home under the prefixes).
  return parts.some((p, i) => p === '.config' && parts[i + 1] === 'git');
}

/** The reason given for such a write. */
export function gitObeysWhy(program: string, path: string): string {
  return `${program} writes '${path}', a file git obeys: a command it names would run later (a diff textconv, fsmonitor, a filter or a hook), which no rule judges.`;
}
