/**
 * The `policies:` patterns of warden.yaml: shell-like globs (`*` in the file name, never matching
 * a leading dot) expanded relative to the config folder, and a warning for a pattern that matches
 * no file. Kept apart from the loader because the policy watcher shares the name matcher.
 */
import { readdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import type { ServerConfig } from './server-config.js';
import { ConfigError, readYamlSource, type ConfigProblem } from './yaml-source.js';

/**
 * Expand `dir/*.yaml` style patterns (a `*` in the file name only, never matching a leading dot)
 * relative to the config folder.
 * `at` names the config file and the line of each pattern, for an error that points at it.
 */
export function expandPolicyGlobs(patterns: string[], baseDir: string, at?: { file: string; lineOf: (index: number) => number }): string[] {
  const out: string[] = [];
  for (const [i, pat] of patterns.entries()) {
    const abs = isAbsolute(pat) ? pat : join(baseDir, pat);
    const name = basename(abs);
    if (!name.includes('*')) {
      out.push(abs);
      continue;
    }
    const dir = dirname(abs);
    const matches = policyNameMatcher(name);
    let entries: string[] = [];
    try {
      entries = readdirSync(dir).filter(matches).sort();
    } catch {
      throw new ConfigError([{ file: at?.file ?? join(baseDir, 'warden.yaml'), line: at ? at.lineOf(i) : 0, path: `policies.${i}`, message: `policy folder ${dir} cannot be read`, severity: 'error' }]);
    }
    out.push(...entries.map((f) => join(dir, f)));
  }
  return [...new Set(out)];
}

function escapeRe(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Whether a file name matches a pattern's file-name part (`*` any run of characters). As in a
 * shell, `*` does not match a leading dot: `.old-grants.yaml`, an admin's way to set a file aside,
 * and editor lock files such as emacs's `.#rules.yaml` are not policies. Why exported: the policy
 * watcher must react to exactly the files the loader reads.
 */
export function policyNameMatcher(name: string): (file: string) => boolean {
  const re = new RegExp('^' + name.split('*').map(escapeRe).join('[^/]*') + '$');
  return (f) => re.test(f) && (!f.startsWith('.') || name.startsWith('.'));
}

/**
 * A `policies:` pattern that matches no file: a warning at its line in the config file. Why: a
 * typo in a glob otherwise loads as "0 rules", and with nothing allowed the admin sees no hint
 * why (`policy check` prints it; `serve` logs it).
 */
export function unmatchedPolicyPatterns(config: ServerConfig): ConfigProblem[] {
  const src = readYamlSource(config.file);
  const written = (src.data as { policies?: unknown } | null)?.policies;
  const out: ConfigProblem[] = [];
  config.policyPatterns.forEach((pattern, i) => {
    if (expandPolicyGlobs([pattern], config.baseDir).length > 0) return;
    const as = Array.isArray(written) && typeof written[i] === 'string' ? written[i] : pattern;
    const path = Array.isArray(written) ? ['policies', i] : ['policies'];
    out.push({ file: config.file, line: src.lineOf(path), path: path.join('.'), message: `${as}${Array.isArray(written) ? '' : ' (the default)'} matches no policy file`, severity: 'warning' });
  });
  return out;
}
