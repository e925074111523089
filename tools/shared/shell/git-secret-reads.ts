/**
 * git's reads of a repository's files, judged for files that are themselves a secret
 * (secret-files.ts): a repository may hold a committed `config/master.key` or `.vault-token` at
 * any depth, which Warden cannot see from the command line. `git show REV:PATH` and `git
 * cat-file -p REV:PATH` print one file: PATH is judged as `cat` of it (relative to the
 * repository's top, so as a relative word: by its base name, and as if the top were `/`). `git
 * grep` names the file before each line it prints (`config/master.key:...`, masked by
 * secret-file-lines.ts), so only a search that hides the names (`-h`, `--no-filename`,
 * `--heading`, which prints a name once above its lines) prints the tree whole; `git archive`,
 * `git fast-export` (a blob's data before its name) and `git cat-file --batch` (contents after
 * object ids) print or pack it whole. Those are refused unless the repository folder is a secret
 * place the grant's paths: name, like `grep -r -h` and `tar -c`; so are `git cat-file -p ID`,
 * `git grep PATTERN ID` and the other reads of an object named by its id (a blob's id, from `git
 * ls-tree`, names no file) that git-object-shows.ts refuses; `git show ID` is judged by its
 * output there. A diff (`git show`, `git log -p`, `git diff`) names the file in its header, and
 * secret-file-lines.ts masks its lines.
 */
import { gitObjectRead, gitShowRefusal, gitWords } from './git-object-shows.js';

/** `REV:PATH`, `:PATH` and `:N:PATH` (the index's stages): the PATH part, or null (a URL, an option, a word with blanks). */
function revPath(word: string): string | null {
  if (word.startsWith('-') || /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(word)) return null;
  const m = /^(?:[^\s:]+|:[0-3]?)?:(?!\/)(\S+)$/.exec(word);
  return m === null ? null : (m[1] as string).replace(/^\.\//, '');
}

/** The paths `git ... REV:PATH` words name in the repository (judged as relative words: by base name, as if the top were `/`). */
export function gitRevPaths(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    const p = revPath(a);
    if (p !== null) out.push(p);
  }
  return out;
}

/** Is `word` (a git grep option before `--`) one that hides the file names: `-h` in a cluster, `--no-filename`, `--heading`, or their abbreviations? */
function hidesNames(word: string): boolean {
  if (/^-[A-Za-z0-9]*h/.test(word) && !word.startsWith('--')) return true;
  const name = word.split('=', 1)[0] as string;
  return (name.length >= 5 && '--heading'.startsWith(name)) || (name.length >= 6 && '--no-filename'.startsWith(name));
}

/**
 * How `git ARGS` prints or packs its repository's whole tree without each file's name before
 * its lines (`git grep -h`, `git archive`, `git fast-export`, `git cat-file --batch`), or an
 * object named by its id (`git cat-file -p ID`), or null.
 */
export function gitWholeTree(args: readonly string[]): string | null {
  const g = gitWords(args);
  if (g === null) return null;
  const { sub } = g;
  const opts = g.words.filter((w) => w.startsWith('-'));
  if (sub === 'grep') {
    const hide = opts.find(hidesNames);
    return hide === undefined ? gitObjectRead(args) : `git grep ${hide}, which drops the file names before the lines it prints`;
  }
  if (sub === 'archive') return opts.some((w) => w === '-l' || w === '--list') ? null : 'git archive, which packs the tree';
  if (sub === 'fast-export') return opts.includes('--no-data') ? null : 'git fast-export, which prints every file\'s content';
  if (sub === 'cat-file') {
    const batch = opts.find((w) => /^--batch(?:-command)?(?:=|$)/.test(w));
    if (batch !== undefined) return `git cat-file ${batch}, which prints objects' contents without their names`;
  }
  // An object named by its id may be any file's content (a blob id from git ls-tree): its name is unknown.
  return gitObjectRead(args) ?? gitShowRefusal(args);
}
