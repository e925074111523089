/**
 * `git show ID`'s output judged by what git printed (shell/git-object-shows.ts): an id may be a
 * blob's, and git prints a blob raw, with no name to read it by. With one object shown and git's
 * default display, a commit's output starts `commit <hex>`, a tree's `tree <name>` (then the
 * names it holds), and a tag's `tag <name>`, its header and message, then the display of the
 * object it points at; anything else (a blob, or a tag of a blob) is masked whole. A blob of any
 * file is masked: Warden cannot tell which file a blob came from without reading the repository.
 * A commit's diff of a secret file is masked as any diff (secret-file-lines.ts). Cheap: only a
 * line whose last command is `git show` of an id, and only its first line (a tag's lines too).
 */
import type { ShellCommand } from './shell/types.js';
import { gitShowJudged } from './shell/git-object-shows.js';
import { SECRET_MASK } from './secret-text.js';

const COLOUR = /\x1b\[[0-9;]*m/g;
/** The first line of a commit's display (`commit <hex>`, decorations after it) and of a tree's. */
const COMMIT_OR_TREE = /^(?:commit [0-9a-f]{4,64}(?:[ (].*)?|tree \S.*)$/m;

/** Is `text` git's display of one commit, tree or tag (of a commit or tree), or nothing? */
export function readsAsObjectDisplay(text: string): boolean {
  const plain = text.replace(COLOUR, '');
  if (plain === '') return true;
  const nl = plain.indexOf('\n');
  const first = nl < 0 ? plain : plain.slice(0, nl);
  if (/^commit [0-9a-f]{4,64}(?:[ (].*)?$/.test(first) || /^tree \S/.test(first)) return true;
  // A tag: its header and message, then the tagged object's display (a blob's would be raw).
  return /^tag \S/.test(first) && COMMIT_OR_TREE.test(plain.slice(first.length + 1));
}

/** The streams with stdout masked whole when the line's last command shows an object by its id (or a name alone) and git did not print a commit, tree or tag display. */
export function maskShownObject<S extends Record<string, string>>(streams: S, commands: readonly ShellCommand[]): { streams: S; masked: number } {
  const last = commands[commands.length - 1];
  const stdout = streams.stdout;
  if (last === undefined || last.program !== 'git' || typeof stdout !== 'string' || !gitShowJudged(last.args) || readsAsObjectDisplay(stdout)) return { streams, masked: 0 };
  return { streams: { ...streams, stdout: `${SECRET_MASK}\n` }, masked: 1 };
}
