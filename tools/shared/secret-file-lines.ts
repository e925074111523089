/**
 * Lines of a recursive search's output that come from a file that is itself a secret by its
 * name (shell/secret-files.ts: `config/master.key`, `.vault-token`, `.erlang.cookie`, ...):
 * `grep -r . /app` prints `/app/config/master.key:<key>`, the file's name before each line (and
 * `FILE-` before a context line, `FILE\0` with -Z). Why mask here and not refuse every recursive
 * grep: the file may lie at any depth, which Warden cannot see from the command line, but grep
 * names it on each line it prints, so the line can be judged by that name. A search that hides
 * the names (`grep -rh`, `--no-filename`) is refused instead (secret-files.ts). Cheap: one
 * search of the whole text for a secret base name before any line is looked at.
 */
import { SECRET_MASK } from './secret-text.js';

/** A secret base name followed by grep's separator (`:` a match, `-` context, NUL with -Z). */
const NAME_THEN_SEPARATOR = /(?:^|\/)(?:\.vault-token|master\.key|\.erlang\.cookie|\.mysql_secret|\.gem\/credentials|credentials\/[^/\n:\0]+\.key)[:\0-]/;

/** `text` with the content of every line that a secret file's name leads masked, and how many. */
export function maskSecretFileLines(text: string): { text: string; masked: number } {
  if (!NAME_THEN_SEPARATOR.test(text)) return { text, masked: 0 };
  let masked = 0;
  const lines = text.split('\n').map((line) => {
    const m = NAME_THEN_SEPARATOR.exec(line);
    if (!m) return line;
    masked++;
    return line.slice(0, m.index + m[0].length) + SECRET_MASK;
  });
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
