/**
 * Secret values among the words of an argv, one string per word: a container's `command` then
 * `args` (kubernetes/clean.ts), and NUL-separated records a command prints (`/proc/PID/environ`,
 * `/proc/PID/cmdline`, `find -print0`: secret-text.ts maskSecretStreams). Why words, not text:
 * a flag and its value are two words (`--password`, `hunter2`), and may sit in two lists (the
 * flag ending `command`, the value opening `args`); NUL-separated words ran together once the
 * NULs were dropped as control characters (`PATH=/binDB_PASSWORD=...`), so the line-oriented
 * masker read one assignment named PATH.
 * Masked: the word after a bare flag whose name is a secret one (`--password`, `--db-password`,
 * `--requirepass`, `--api-key`, `-token`), the value of `--flag=value`/`NAME=value` under such a
 * name, and the passwords programs take from flags whose name says nothing (`mysql -pPW`,
 * `sshpass -p PW`, `redis-cli -a PW`: credential-flags.ts). A short flag is judged by its program
 * only: `-p 8080` is a port for most programs and is shown. The word after a secret flag is
 * masked whatever it is (`--password --verbose` hides `--verbose`), except a count beside a
 * count name (`--max-tokens 4096`, secret-names.ts).
 */
import { maskCredentialArgv } from './credential-flags.js';
import { secretValue } from './secret-names.js';
import { plainText } from './terminal-text.js';

/** secret-text.ts's SECRET_MASK (not imported: that module calls this one). */
const MASK = '***';
/** A bare flag: its value is the next word. */
const FLAG = /^-{1,2}[A-Za-z0-9_.-]+$/;
/** `--password=x`, `-token=x`, `PASSWORD=x`, `--auth:x`. */
const ASSIGN = /^(-{0,2}[A-Za-z0-9_.-]+)([=:])(.+)$/s;

/** The argv with secret values masked (a new array); `count.n` grows by each value masked. */
export function maskSecretArgv(argv: readonly string[], count?: { n: number }): string[] {
  const words = maskCredentialArgv(argv);
  return words.map((w, i) => {
    if (w !== argv[i]) {
      if (count) count.n++;
      return w;
    }
    // The previous word as masked: `-pPW` (mysql's) is no flag whose value comes next.
    const prev = i > 0 ? words[i - 1]! : '';
    if (FLAG.test(prev) && secretValue(prev.replace(/^-+/, ''), w)) {
      if (count) count.n++;
      return MASK;
    }
    const m = ASSIGN.exec(w);
    if (m && secretValue(m[1]!.replace(/^-+/, ''), m[3])) {
      if (count) count.n++;
      return `${m[1]}${m[2]}${MASK}`;
    }
    return w;
  });
}

/** Characters of a word's edge line read to judge a NUL between two words (bounded: linear). */
const EDGE = 256;

/** The masker of free text (secret-text.ts maskSecretText, passed in: that module calls this one). */
export type TextMasker = (text: string, count: { n: number }) => string;

/**
 * A text holding NULs as its NUL-separated words (`/proc/PID/environ`, `/proc/PID/cmdline`,
 * `find -print0`), each made plain text (terminal-text.ts), masked as one argv, and shown one
 * per line (as `tr '\0' '\n'` would): `A=1\0B=2\0` reads `A=1\nB=2\n`. A text without a NUL is
 * returned as it is. Where NULs are padding, not separators, they are dropped as before and
 * the text is read whole: at least two in five characters NUL (UTF-16 text, `D\0B\0_\0...`),
 * or a NUL inside a name or value (`DB_PASS\0WORD=x`: the two edge lines glued mask more than
 * each alone), fail closed. Only a word's first line is an argv word; the text masker reads the
 * rest line by line.
 */
export function maskNulRecords(text: string, maskText: TextMasker, count?: { n: number }): string {
  if (!text.includes('\0')) return text;
  let nuls = 0;
  for (let i = text.indexOf('\0'); i !== -1; i = text.indexOf('\0', i + 1)) nuls++;
  if (nuls * 5 >= text.length * 2) return plainText(text);
  const masked = (t: string): number => {
    const c = { n: 0 };
    maskText(t, c);
    return c.n;
  };
  const words: string[] = [];
  for (const w of text.split('\0').map(plainText)) {
    const prev = words[words.length - 1];
    if (prev) {
      const tail = prev.slice(prev.lastIndexOf('\n') + 1).slice(-EDGE);
      const nl = w.indexOf('\n');
      const head = (nl === -1 ? w : w.slice(0, nl)).slice(0, EDGE);
      if (tail && head && masked(tail + head) > masked(tail) + masked(head)) {
        words[words.length - 1] = prev + w;
        continue;
      }
    }
    words.push(w);
  }
  const split = words.map((w) => {
    const nl = w.indexOf('\n');
    return nl === -1 ? [w, ''] : [w.slice(0, nl), w.slice(nl)];
  });
  const heads = maskSecretArgv(split.map(([h]) => h!), count);
  return split.map(([, rest], i) => heads[i]! + rest!).join('\n');
}
