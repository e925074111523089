/**
 * git's reads of an object named by its id, which may be a blob (a file's content) whose file
 * name Warden cannot see: `git ls-tree -r HEAD` gives each file's blob id, and `git show ID`
 * printed `.vault-token` raw (also abbreviated, `ID^{}`, `ID^{blob}`, `ID^{object}`, `ID^{tag}`).
 * A bare id looks the same as a commit id, so `git show` of one is judged by what git printed
 * (git-object-output.ts): it must read as git's display of a commit, a tag or a tree; and the
 * command line must let that be judged, else it is refused before running: a bare id is the
 * only object the command shows, with options that keep git's default display (`--stat`,
 * `-s`, `--name-only`, colour; not `--format`, `--pretty`, `--oneline`, which a blob ignores),
 * no `--stdin` (ids from the input), and git show is the line's last command (a later stage
 * could add a header or drop one). `git grep PATTERN ID` prints a blob's lines under its id, and
 * `git cat-file` of an id prints its content (the type, size or existence aside): both refused.
 * Another name (`main`, `v1.0`: a tag may point at a blob) shown alone with git's default display
 * is judged by its output the same way when it is the line's last command; with `--oneline` or
 * beside another object it is taken as a commit. `HEAD`, `ID^`, `ID~2`, `ID^{commit}`,
 * `ID^{tree}`, ranges and `:/text` are commits or trees, and `REV:PATH` is judged by its path
 * (git-secret-reads.ts).
 */
import { locateSubcommand } from './subcommand-options.js';

/** An object id, whole or abbreviated (git's minimum is 4 hex digits; a ref of hex letters counts too, fail closed), bare or peeled to what may be a blob. */
export const BARE_OBJECT = /^[0-9a-fA-F]{4,64}(?:\^\{(?:blob|object|tag|)\})*$|\^\{(?:blob|object|tag|)\}$/;

/** Options of git show that keep its default display (each object as `commit ID`, `tag NAME`, `tree NAME` first). */
const DEFAULT_DISPLAY = new RegExp(String.raw`^(?:-[psuwbmcWRtM]|-U\d+|-[MCB]\d*%?|--(?:patch|no-patch|stat(?:=[\d,]+)?|shortstat|numstat|summary|dirstat(?:=[\w,.]+)?|name-only|name-status|raw|` +
  String.raw`(?:no-)?abbrev-commit|abbrev(?:=\d+)?|decorate(?:=\w+)?|no-decorate|colou?r(?:=\w+)?|no-colou?r|unified=\d+|ignore-[\w-]+|` +
  String.raw`find-(?:renames|copies)(?:=\d+%?)?|no-renames|pretty(?:=medium)?|format=medium|date=[\w:%+-]+|(?:no-)?notes|cc|first-parent|` +
  String.raw`diff-merges=\w+|full-index|binary|no-ext-diff|(?:no-)?textconv|function-context|minimal|patience|histogram|diff-algorithm=\w+|` +
  String.raw`no-prefix|(?:src|dst)-prefix=\S*|word-diff(?:=\w+)?|color-words|text|ita-visible-in-index|relative(?:=\S*)?|quiet|show-signature|end-of-options))$`);

/** `git ARGS`'s subcommand and its words before the `--` that ends them (paths after it), or null when no subcommand word is found. */
export function gitWords(args: readonly string[]): { sub: string; words: readonly string[] } | null {
  const at = locateSubcommand('git', args);
  if (at.kind !== 'word') return null;
  const rest = args.slice(at.at + 1);
  const end = rest.indexOf('--');
  return { sub: args[at.at] as string, words: end < 0 ? rest : rest.slice(0, end) };
}

/** git show's objects (its words that are no option) and its options. */
function showWords(words: readonly string[]): { objects: string[]; opts: string[] } {
  const objects: string[] = [];
  const opts: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (!w.startsWith('-') || w === '-') objects.push(w);
    else {
      opts.push(w);
      if (w === '-n' || w === '--max-count') i++;
    }
  }
  return { objects, opts };
}

/** The args of `git show ...` when they name an object by its id (or read ids from the input), else null. */
function showById(args: readonly string[]): { objects: string[]; opts: string[]; ids: string[] } | null {
  const g = gitWords(args);
  if (g?.sub !== 'show') return null;
  const { objects, opts } = showWords(g.words);
  const ids = objects.filter((w) => BARE_OBJECT.test(w));
  return ids.length > 0 || opts.includes('--stdin') ? { objects, opts, ids } : null;
}

/** Does `git ARGS` show an object named by its id, whose output is judged and which must be the line's last command? */
export function gitShowsById(args: readonly string[]): boolean {
  return showById(args) !== null;
}

/** A name git resolves to a commit (or a commit's tree), never to a blob: HEAD, a peel or walk suffix, a range, a reflog entry, a message search, `REV:PATH` (judged by its path). */
const COMMIT_NAME = /^(?:HEAD|@|\^.*|:\/.*)$|(?:\^\d*|~\d*|\^\{(?:commit|tree|\/[^}]*)\}|\^[!@]|\^-\d*|@\{[^}]*\})$|\.\.|:/;

/**
 * Is `git ARGS`'s output judged as an object's display (git-object-output.ts)? An id (as above),
 * and also one other name shown with git's default display (`git show v1.0`: a tag may point at a
 * blob): judged when it is the line's last command, let through otherwise.
 */
export function gitShowJudged(args: readonly string[]): boolean {
  if (showById(args) !== null) return true;
  const g = gitWords(args);
  if (g?.sub !== 'show') return false;
  const { objects, opts } = showWords(g.words);
  return objects.length === 1 && !COMMIT_NAME.test(objects[0] as string) && opts.every((o) => DEFAULT_DISPLAY.test(o));
}

/** Why `git ARGS` showing an object by its id cannot be judged by its output, or null. */
export function gitShowRefusal(args: readonly string[]): string | null {
  const s = showById(args);
  if (s === null) return null;
  const id = s.ids[0] ?? '--stdin';
  const why = `git show ${id}: an object named by its id may be a file's content (a blob id from git ls-tree), whose file name Warden cannot see, so its output is judged as git's display of a commit, tag or tree`;
  if (s.opts.includes('--stdin')) return `${why}, and --stdin reads the objects from the input; name one object on the line.`;
  if (s.objects.length > 1) return `${why}, which holds only when it is the one object shown; show one object per call.`;
  const odd = s.opts.find((o) => !DEFAULT_DISPLAY.test(o));
  if (odd !== undefined) return `${why}, which ${odd} changes (a blob ignores it); for a commit use git log -1 --format=... ${id}, or git show ${id} with git's default display.`;
  return null;
}

/** Why a line is refused whose `git show ID` is not its last command, or is in an ssh remote command: its output could not be judged. */
export const GIT_SHOW_LAST = 'git show of an object named by its id is judged by what git printed (a blob\'s content is masked), so it must be the line\'s last command, run on the line Warden rebuilds (not in an ssh remote command).';

/** git grep's options whose value is the next word. */
const GREP_VALUED = new Set(['-e', '-f', '-A', '-B', '-C', '-m', '--max-depth', '--threads', '--max-count', '--context', '--after-context', '--before-context']);

/** Why `git ARGS` prints an object named by its id without the file's name (`git grep PATTERN ID`, `git cat-file --filters ID`), or null. */
export function gitObjectRead(args: readonly string[]): string | null {
  const g = gitWords(args);
  if (g === null) return null;
  const { sub, words } = g;
  if (sub === 'grep') {
    const revs: string[] = [];
    let pattern = !words.some((w) => w === '-e' || w === '-f' || /^-[ef]./.test(w) || /^--(?:regexp|file)\b/.test(w));
    for (let i = 0; i < words.length; i++) {
      const w = words[i] as string;
      if (w.startsWith('-')) {
        if (GREP_VALUED.has(w)) i++;
      } else if (pattern) pattern = false;
      else revs.push(w);
    }
    const id = revs.find((w) => BARE_OBJECT.test(w));
    return id === undefined ? null : `git grep in ${id}, an object named by its id, which prints a blob's lines under its id, not its file name; name a commit as ${id.replace(/\^\{.*$/, '')}^{commit} or a tree as ${id.replace(/\^\{.*$/, '')}^{tree}`;
  }
  if (sub === 'cat-file' || sub === 'unpack-file') {
    // The type, the size, whether it exists, or a commit, tag or tree's raw text: no file's content.
    if (sub === 'cat-file' && (words.some((w) => /^-[tse]$/.test(w)) || words.some((w) => w === 'commit' || w === 'tag' || w === 'tree'))) return null;
    const id = words.find((w) => BARE_OBJECT.test(w));
    return id === undefined ? null : `git ${sub} ${id}, which prints an object named by its id, whose file name Warden cannot see (name it as REV:PATH)`;
  }
  return null;
}
