/**
 * git configuration keys that make a later git call run code (a pager, an editor, an alias with
 * `!`, a filter, a hook, a credential helper, another config file), and the git words that set
 * one: `git config [--global|--file F|set|--add|...] KEY VALUE`, `git -c KEY=VALUE`,
 * `git clone --config KEY=VALUE`. One table for the injection catalogue (an allow never grants
 * them) and the deny side (they may run any program).
 */
import { findSubcommand } from './subcommand-options.js';
import { optionWords } from './flags.js';

export { gitGuardLength } from './git-guard.js';

/** Keys, lower-cased as git compares section and key names (subsections too, generously). */
const CODE_KEYS: readonly RegExp[] = [
  // Whole sections: aliases (`!cmd`, or a git command with -c), filters, helpers, hooks, other
  // config files, pagers, tools, transports (protocol.*.allow opens ext::), other users' repositories.
  /^(alias|filter|credential|pager|include|includeif|hook|difftool|mergetool|browser|man|guitool|sendemail|instaweb|protocol|lfs|safe)\./,
  /^core\.(pager|editor|sshcommand|fsmonitor|hookspath|askpass|gitproxy|alternaterefscommand|attributesfile)$/,
  /^(sequence\.editor|diff\.(external|tool|guitool)|merge\.(tool|guitool)|web\.browser|interactive\.difffilter|init\.templatedir)$/,
  /^(uploadpack\.packobjectshook|gpg\.program|gpg\..+\.program|gpg\.ssh\.defaultkeycommand)$/,
  /^diff\..+\.(command|textconv)$/,
  /^merge\..+\.driver$/,
  /^remote\..+\.(uploadpack|receivepack|vcs)$/,
  /^submodule\..+\.update$/,
  /^trailer\..+\.(command|cmd)$/,
];

/** Does `key` (any case) name a configuration key that runs code? */
export function gitCodeKey(key: string): boolean {
  const k = key.toLowerCase();
  return CODE_KEYS.some((re) => re.test(k));
}

/** git config actions that run an editor, or rename a section into one that runs code. */
const CONFIG_ACTIONS = ['edit', 'rename-section'];

/** Why the words after `git config` set a key that runs code (or run an editor), or null. */
function configDanger(words: string[]): string | null {
  const opts = optionWords(words);
  for (const w of opts) {
    if (/^-[^-]*e/.test(w)) return `git config ${w} (-e) runs an editor.`;
    const name = w.startsWith('--') ? (w.slice(2).split('=', 1)[0] as string) : '';
    const action = name.length > 0 ? CONFIG_ACTIONS.find((a) => a.startsWith(name)) : undefined;
    if (action !== undefined) return `git config --${action} (spelled '${w}') runs an editor or renames a section into any other.`;
  }
  // Generous: options may stand before a subcommand, so any such word counts.
  const action = opts.find((w) => CONFIG_ACTIONS.includes(w));
  if (action !== undefined) return `git config ${action} runs an editor or renames a section into any other.`;
  // Every word, values and option values too: which one is the key depends on the action.
  const key = words.find((w) => gitCodeKey(w));
  return key === undefined ? null : `git config ${key} sets a key that makes git run code.`;
}

/**
 * Why a git command sets a configuration key that runs code (`git config`, or a `KEY=VALUE`
 * word of -c/--config, spelled any way), or null. When the subcommand cannot be told, any word
 * that could be `config` counts.
 */
export function gitConfigDanger(args: string[]): string | null {
  const pair = optionWords(args).find((w) => {
    const kv = w.replace(/^(-c|--[\w-]+=)/, '');
    const eq = kv.indexOf('=');
    return eq > 0 && gitCodeKey(kv.slice(0, eq));
  });
  if (pair !== undefined) return `git ${pair} sets a key that makes git run code.`;
  const sub = findSubcommand('git', args);
  if (sub.kind === 'none' || (sub.kind === 'word' && sub.word !== 'config')) return null;
  const at = sub.kind === 'word' ? args.indexOf(sub.word) : args.indexOf('config');
  return at < 0 ? null : configDanger(args.slice(at + 1));
}

/**
 * Keys (lower-cased) whose value names a file, a folder or a repository that later git calls read:
 * the work tree (`core.worktree /` makes `git diff` read /), ignore and template files, a mailmap,
 * fsck skip lists, TLS and cookie files (sent to a server), other repositories to fetch from.
 */
const PATH_KEYS: readonly RegExp[] = [
  /^core\.(worktree|excludesfile)$/,
  /^(commit\.template|mailmap\.(file|blob)|blame\.ignorerevsfile|diff\.orderfile|user\.signingkey)$/,
  /^gpg\.ssh\.(allowedsignersfile|revocationfile)$/,
  /^http\.(.+\.)?(cookiefile|sslcert|sslkey|sslcainfo|sslcapath)$/,
  /^((fetch|receive)\.)?fsck\.skiplist$/,
  /^(remote|submodule)\..+\.(url|pushurl)$/,
  /^url\..+\.(insteadof|pushinsteadof)$/,
];

/** `git config` scopes that write a file outside any folder a grant names (~/.gitconfig, /etc/gitconfig); any unambiguous prefix. */
const OUTER_SCOPES = ['--global', '--system'];

/**
 * Why `git config` (under a grant with `paths:`) writes a file git reads outside the prefixes,
 * or sets a key that points git at a file, folder or repository the line does not bound, or
 * null. Generous like configDanger: any word after `config` counts, reads of the key too.
 */
export function gitConfigReach(args: string[]): string | null {
  const sub = findSubcommand('git', args);
  if (sub.kind === 'none' || (sub.kind === 'word' && sub.word !== 'config')) return null;
  const at = sub.kind === 'word' ? args.indexOf(sub.word) : args.indexOf('config');
  if (at < 0) return null;
  const words = args.slice(at + 1);
  const scope = optionWords(words).find((w) => w.length >= 4 && OUTER_SCOPES.some((s) => s.startsWith(w.split('=', 1)[0] as string)));
  if (scope !== undefined) return `git config ${scope} reads and writes a configuration file outside the prefixes, which every git call reads: with paths:, keep to the repository's own configuration.`;
  const key = words.find((w) => PATH_KEYS.some((re) => re.test(w.toLowerCase())));
  return key === undefined ? null : `git config ${key} names a file, folder or repository later git calls read, which paths: cannot bound.`;
}
