/**
 * Command output whose every line carries a decoration the file's text does not hold: a line
 * number (`cat -n`, `nl`, `grep -n ''`: `     2<TAB>`, `2:`, a context line's `2-`), grep's
 * `FILE:2:` / `FILE-2-` prefixes, or cat -E's `$` at each line's end. Masking reads values that run
 * over lines by the lines after their name (a `password: |` block scalar, a quoted .env value
 * holding a PEM), and behind a decoration on every line those lines were no continuation:
 * `cat -n app.yaml` showed the block's lines. So the text is masked twice, as shown and with the
 * decorations taken off; when the bare text masks more values, the bare text is returned, masked
 * (the decorations are lost, the values are not shown). Why twice and not always bare: a
 * decoration is guessed from the text (a log line may start with `2024-`), so the shown text
 * stays unless the guess hides a value. A text may read as more than one decoration (a pgpass
 * line's `:5432:` as grep's `FILE:12:`): each reading is masked, and the one hiding most is used.
 * One decorated line counts (a `.netrc` line behind `grep -n`'s `12:`), and so do `uniq -c`
 * counts and diff markers, for masking only (BARE_ONLY).
 */
import { maskSecretStreams, SECRET_MASK } from './secret-text.js';
import { plainText } from './terminal-text.js';

/** Decorations before each line, by how programs write them; a line of blanks may go unnumbered (cat -b, nl). */
export const PREFIXES: readonly RegExp[] = [
  /^ *\d+\t/, // cat -n, cat -b, nl
  /^\d+[:-]/, // grep -n of one file
  /^[^\n]*?(?::\d+:|-\d+-)/, // grep -n of several files: FILE:2: and a context line's FILE-2-
];

/**
 * Decorations read only here, to mask the text bare (line-windows.ts reads PREFIXES alone: an
 * indented line is a continuation there): `uniq -c`'s count, and diff's markers, normal (`< `,
 * `> `, its `1c1` and `---` lines) or unified (` `, `+`, `-`, its `@@` hunk and file lines).
 * Behind them a line-anchored format (`+requirepass PW`, `      2 machine h password PW`) was
 * not read.
 */
const BARE_ONLY: readonly { every: RegExp; strip: RegExp }[] = [
  { every: /^ *\d+ /, strip: /^ *\d+ / },
  { every: /^(?:[<>] |---$|\d+(?:,\d+)?[acd]\d+(?:,\d+)?$)/, strip: /^[<>] / },
  { every: /^(?:[ +-]|@@ |\\ |diff |index )/, strip: /^[ +-]/ },
];

/** Is this line one a decorating program leaves bare: blank, or grep's `--` between context groups. */
const bare = (line: string): boolean => /^[ \t]*$/.test(line) || line === '--';

/** The file name grep puts before a match line (`/app/a.yaml:`): the text before the first `:`, with no blank and a `/` in it (a YAML key is none), or null. */
function matchName(line: string): string | null {
  const end = line.search(/[\s:]/);
  if (end <= 0 || line[end] !== ':') return null;
  const name = line.slice(0, end);
  return name.includes('/') ? name : null;
}

/**
 * grep's `FILE:` (a match) and `FILE-` (a context line) over several files without -n
 * (`grep -r -A1 password: /app`, a grant's absolute paths): the prefix of each line, the name of
 * its own match or of the nearest match line above or below it (grep prints a file's lines
 * together) with the `:` or `-` after it, '' for a bare line; null when a line starts with none.
 * Linear in the text.
 */
export function fileNameLeads(body: readonly string[]): string[] | null {
  const own = body.map((l) => (bare(l) ? null : matchName(l)));
  if (own.every((n) => n === null)) return null;
  const above: (string | null)[] = [];
  const below: (string | null)[] = new Array<string | null>(body.length).fill(null);
  for (let i = 0, last: string | null = null; i < body.length; i++) above.push((last = own[i] ?? last));
  for (let i = body.length - 1, next: string | null = null; i >= 0; i--) below[i] = next = own[i] ?? next;
  const out: string[] = [];
  for (let i = 0; i < body.length; i++) {
    const l = body[i] as string;
    if (bare(l)) {
      out.push('');
      continue;
    }
    const fits = (n: string | null | undefined): n is string => typeof n === 'string' && l.startsWith(n) && (l[n.length] === ':' || l[n.length] === '-');
    const names = [own[i], above[i], below[i]].filter(fits).sort((a, b) => b.length - a.length);
    if (names[0] === undefined) return null;
    out.push(l.slice(0, names[0].length + 1));
  }
  return out;
}

/** The lines without grep's file names (fileNameLeads) and its `--` lines, or null. */
function withoutFileNames(body: readonly string[]): string[] | null {
  const leads = fileNameLeads(body);
  if (leads === null) return null;
  return body.flatMap((l, i) => (l === '--' ? [] : [l.slice((leads[i] as string).length)]));
}

/**
 * The text with one decoration taken off every line, for each decoration on every line (a line's
 * `:5432:` reads as grep's `FILE:12:` as well as the pgpass line it is: each reading is masked,
 * and the one that hides most is used); none when no decoration is on every line.
 */
export function undecoratedViews(text: string): string[] {
  const lines = text.split('\n');
  const end = lines.length > 1 && lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
  const body = lines.slice(0, end);
  // One line too: a format read from a line's start (a `.netrc` `machine` entry, an htpasswd hash,
  // a `sasl_passwd` relay) is not read behind `12:` (`grep -n machine ~/.netrc` showed it).
  if (!body.some((l) => !bare(l))) return [];
  const strips = [...PREFIXES.filter((re) => body.every((l) => bare(l) || re.test(l))), ...BARE_ONLY.filter((d) => body.every((l) => bare(l) || d.every.test(l))).map((d) => d.strip)];
  const views = strips.map((re) => body.filter((l) => l !== '--').map((l) => l.replace(re, '')));
  const named = withoutFileNames(body);
  if (named !== null) views.push(named);
  // cat -E's `$` at each line's end, behind a decoration or alone.
  const out = (views.length ? views : [body]).map((v) => (v.every((l) => l === '' || l.endsWith('$')) ? v.map((l) => (l.endsWith('$') ? l.slice(0, -1) : l)) : v));
  // cat -A's and cat -T's `^I` for a tab (`^M` a carriage return), sed's `l` command's `\t`: a
  // `Password<TAB>PW` line was one word behind them.
  for (const v of [...out]) if (v.some((l) => l.includes('^I') || l.includes('\\t'))) out.push(v.map((l) => l.replace(/\^I|\\t/g, '\t').replace(/\^M$/, '')));
  return out.filter((v) => v !== body).map((v) => [...v, ...lines.slice(end)].join('\n'));
}

/** The first of undecoratedViews, or null. */
export function undecorated(text: string): string | null {
  return undecoratedViews(text)[0] ?? null;
}

/** How many characters of `input` masking hid in `out` (each mask stands for what it replaced). */
const hidden = (input: string, r: { streams: { s: string }; masked: number }): number => input.length - r.streams.s.length + r.masked * SECRET_MASK.length;

/**
 * maskSecretStreams, and for each stream whose lines are all decorated, the bare text masked too:
 * used when masking hides more of it (a block's lines, not only its first). For command output
 * (ssh_run, kubectl_exec).
 */
export function maskDecoratedStreams<S extends Record<string, string>>(streams: S): { streams: S; masked: number } {
  const out: Record<string, string> = {};
  let masked = 0;
  for (const [k, v] of Object.entries(streams)) {
    if (v.includes('\0')) {
      const r = maskSecretStreams({ s: v }); // NUL-separated words are read one by one there
      out[k] = r.streams.s;
      masked += r.masked;
      continue;
    }
    // Read as shown: escape sequences (grep --color=always around the numbers) removed first.
    const shownText = plainText(v);
    let use = maskSecretStreams({ s: shownText });
    let most = hidden(shownText, use);
    for (const text of undecoratedViews(shownText)) {
      const bare = maskSecretStreams({ s: text });
      if (hidden(text, bare) > most) [use, most] = [bare, hidden(text, bare)];
    }
    out[k] = use.streams.s;
    masked += use.masked;
  }
  return { streams: out as S, masked };
}
