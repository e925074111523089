/**
 * Lines of a recursive search's output that come from a file that is itself a secret by its
 * name (shell/secret-files.ts: `config/master.key`, `.vault-token`, `.erlang.cookie`, ...):
 * `grep -r . /app` prints `/app/config/master.key:<key>`, the file's name before each line (and
 * `FILE-` before a context line, `FILE\0` with -Z). Why mask here and not refuse every recursive
 * grep: the file may lie at any depth, which Warden cannot see from the command line, but grep
 * names it on each line it prints, so the line can be judged by that name. A search that hides
 * the names (`grep -rh`, `--no-filename`) is refused instead (secret-files.ts). A diff names the
 * file in its header (`diff --git a/config/master.key b/config/master.key`, `+++ b/...`): `git
 * show`, `git log -p`, `git diff` printed a committed key as `+<key>`; the lines of its part are
 * masked behind their markers, and so are those of a diff of blobs named by their ids (`git
 * diff ID ID`, whose header names the ids, not the file). Cheap: one search of the whole text
 * for a secret base name (before a separator, or in a diff header) before any line is looked at.
 */
import { SECRET_MASK } from './secret-text.js';

/** A secret file's base name (shell/secret-files.ts's SECRET_BASENAMES). */
const NAMES = String.raw`(?:\.vault-token|master\.key|\.erlang\.cookie|\.mysql_secret|\.gem\/credentials|credentials\/[^/\n:\0\s"]+\.key)`;
/** A secret base name followed by grep's separator (`:` a match, `-` context, NUL with -Z; git grep's `=` before a function line). */
const NAME_THEN_SEPARATOR = new RegExp(String.raw`(?:^|\/)${NAMES}[:\0=-]`);
/** Colour codes, and `git log --graph`'s lanes before a line (`| `, `* `, `|/ `): each lane is one character, a colour only before it (one way to read a line). */
const LEAD = String.raw`(?:(?:\x1b\[[0-9;]*m)*[*|/\\_] *)*(?:\x1b\[[0-9;]*m)*`;
/**
 * A diff's header naming a secret file (`diff --git a/config/master.key b/...`, `--- a/...`,
 * `+++ b/...`, `--no-prefix`, quoted names), or a blob by its id (`git diff ID ID`: `diff --git
 * a/ce01362 b/671770c`, any file's content; a top-level file named by hex digits alone reads
 * the same and is masked too).
 */
const SECRET_DIFF = new RegExp(String.raw`^${LEAD}(?:(?:diff |--- |\+\+\+ )[^\n]*?[/\s"]${NAMES}(?=[\s"\x1b]|$)|diff --git (?:\S+ )?(?:[^\s/]*\/)?[0-9a-f]{4,64}(?:\x1b\[[0-9;]*m)*(?: |$))`, 'm');
/** The lines that end a file's part of a diff: the next file's, a commit's or a patch mail's header. */
const DIFF_END = new RegExp(String.raw`^${LEAD}(?:diff |commit [0-9a-f]{7,}|From [0-9a-f]{40} )`);
/** A diff's header lines before its first hunk (kept: they hold names and modes, not content). */
const DIFF_HEADER = new RegExp(String.raw`^${LEAD}(?:diff |index |--- |\+\+\+ |(?:new|deleted|old)(?: file)? mode |similarity |dissimilarity |rename |copy |Binary files )`);
/** A hunk's header (`@@ -1,2 +1,3 @@`), and after it the function line git shows from the file (masked too). */
const HUNK = new RegExp(String.raw`^(${LEAD}@@+ [^@\n]*@@+(?:\x1b\[[0-9;]*m)*)(.*)$`);
/** What leads a line of content: lanes and colours, and its marker (`+`, `-`, ` `, `\`). */
const MARKER = new RegExp(String.raw`^${LEAD}[-+ \\]?`);

/**
 * A diff's lines of a secret file's content (`git show`, `git log -p`, `git diff`, `git
 * format-patch --stdout`: `+<key>` under `diff --git a/config/master.key ...`), each masked
 * behind its marker, from the file's header to the next file's, commit's or patch's header.
 */
function maskSecretDiffs(lines: string[]): number {
  let masked = 0;
  let inSecret = false;
  let header = true;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (DIFF_END.test(line)) {
      inSecret = SECRET_DIFF.test(line);
      header = true;
      continue;
    }
    if (!inSecret && header && SECRET_DIFF.test(line)) inSecret = true;
    if (!inSecret) continue;
    if (header && DIFF_HEADER.test(line)) continue;
    const hunk = HUNK.exec(line);
    if (hunk !== null) {
      header = false;
      if ((hunk[2] as string).trim() !== '') {
        lines[i] = `${hunk[1] as string} ${SECRET_MASK}`;
        masked++;
      }
      continue;
    }
    header = false;
    const marker = MARKER.exec(line)?.[0] ?? '';
    if (line.length > marker.length) {
      lines[i] = `${marker}${SECRET_MASK}`;
      masked++;
    }
  }
  return masked;
}

/** `text` with the content of every line that a secret file's name leads masked, and of a diff's part for a secret file, and how many. */
export function maskSecretFileLines(text: string): { text: string; masked: number } {
  const named = NAME_THEN_SEPARATOR.test(text);
  const diff = SECRET_DIFF.test(text);
  if (!named && !diff) return { text, masked: 0 };
  let masked = 0;
  const lines = text.split('\n').map((line) => {
    const m = named ? NAME_THEN_SEPARATOR.exec(line) : null;
    if (!m) return line;
    masked++;
    return line.slice(0, m.index + m[0].length) + SECRET_MASK;
  });
  if (diff) masked += maskSecretDiffs(lines);
  return { text: lines.join('\n'), masked };
}

/** maskSecretFileLines over each stream. */
export function maskSecretFileStreams<S extends Record<string, string>>(streams: S): { streams: S; masked: number } {
  const out: Record<string, string> = {};
  let masked = 0;
  for (const [k, v] of Object.entries(streams)) {
    const r = maskSecretFileLines(v);
    out[k] = r.text;
    masked += r.masked;
  }
  return { streams: out as S, masked };
}
