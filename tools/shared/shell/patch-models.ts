/**
 * The files patch and csplit touch, for a grant's `paths:`. Unmodelled, only their path-like
 * words were judged, so `patch -o authorized_keys /srv/app/f` or `csplit /srv/app/f 1` (which
 * writes xx00, xx01, ... in the current folder) wrote bare relative names in the login folder.
 * Any option the lists do not hold is refused (option-spec.ts). Lists: GNU patch 2.7 and GNU
 * coreutils 9 csplit `--help`.
 */
import type { FileWords } from './operands.js';
import { scanSpec, specFileWords, uses, valuesOf, type OptionSpec } from './option-spec.js';

const PATCH: OptionSpec = {
  name: 'patch',
  flags: 'bceEflnNRstTuvZ',
  values: 'BdDFgioprVxYz',
  longFlags: [
    '--backup', '--binary', '--context', '--ed', '--remove-empty-files', '--force', '--ignore-whitespace', '--normal', '--forward',
    '--reverse', '--quiet', '--silent', '--set-time', '--set-utc', '--unified', '--verbose', '--dry-run', '--posix', '--batch',
    '--backup-if-mismatch', '--no-backup-if-mismatch', '--follow-symlinks', '--merge', '--version', '--help',
  ],
  longValues: [
    '--strip', '--fuzz', '--ifdef', '--input', '--output', '--reject-file', '--prefix', '--basename-prefix', '--suffix',
    '--version-control', '--directory', '--get', '--reject-format', '--quoting-style', '--read-only', '--debug',
  ],
  abbreviations: true,
};

/**
 * patch [OPTION...] [ORIGFILE [PATCHFILE]]: ORIGFILE is written (also with -o: a git-style
 * rename removes it), PATCHFILE and -i are read, -o, -r and the backup prefixes -B/-Y are written
 * (`-` is standard output, or no reject file), -d is the folder it works in. Without -o (and
 * not --dry-run) patch also writes the names the patch text gives, in the current folder or -d's:
 * with no ORIGFILE every file it patches, and even with one a git-style diff's `rename to` or
 * `copy to` (`patch /srv/app/f < d` moved f to .bashrc in the login folder). Those names are
 * refused under paths: (as `tar -x` extracting names only the archive knows) and, like a list's,
 * match every deny with paths: (`listed`).
 */
export function patchWords(args: string[]): FileWords {
  const s = scanSpec(PATCH, args);
  const [orig, patchFile] = s.operands;
  const output = valuesOf(s, '-o', '--output');
  const reads = [...valuesOf(s, '-i', '--input', '-d', '--directory'), ...(patchFile === undefined ? [] : [patchFile])];
  const writes = [...output, ...valuesOf(s, '-r', '--reject-file', '-B', '--prefix', '-Y', '--basename-prefix')];
  if (orig !== undefined) writes.push(orig);
  const inPlace = output.length === 0 && !uses(s, '--dry-run', '--help', '--version');
  const text = patchFile ?? valuesOf(s, '-i', '--input').pop() ?? '-';
  const from = text === '-' ? 'standard input' : `'${text}'`;
  const listed = orig === undefined
    ? { list: text, why: `patch with no file to patch patches the names only the patch text knows (${from}), which the line does not name` }
    : inPlace ? { list: text, why: `patch writes the names a git-style patch (${from}) gives in rename to and copy to lines, even with a file to patch named` } : undefined;
  const why = listed === undefined ? undefined
    : orig === undefined ? `${listed.why} (one may be a file git obeys, or outside the prefixes): name the file to patch and its output (-o)`
      : `${listed.why} (one may be a file git obeys, or outside the prefixes): name the output with -o`;
  const out = specFileWords(PATCH.name, s.unknown, reads, writes, why, [...s.operands.slice(2), ...s.strays]);
  if (listed !== undefined) out.listed = listed;
  return out;
}

const CSPLIT: OptionSpec = {
  name: 'csplit',
  flags: 'kqsz',
  values: 'bfn',
  longFlags: ['--keep-files', '--suppress-matched', '--quiet', '--silent', '--elide-empty-files', '--version', '--help'],
  longValues: ['--suffix-format', '--prefix', '--digits'],
  abbreviations: true,
};

/**
 * csplit [OPTION...] FILE PATTERN...: FILE is read; the pieces are PREFIX followed by the suffix
 * format's number (prefix `xx` in the current folder unless -f gives one, suffix `%02d` unless -b
 * does). The first piece's name is what is judged, so `-f /srv/app` (pieces `/srv/app00`, ...)
 * and a suffix with `/../` are outside the prefix; patterns (`/regex/`, `{*}`) are text.
 */
export function csplitWords(args: string[]): FileWords {
  const s = scanSpec(CSPLIT, args);
  const prefix = valuesOf(s, '-f', '--prefix').pop() ?? 'xx';
  const suffix = valuesOf(s, '-b', '--suffix-format').pop() ?? '%02d';
  const piece = `${prefix}${suffix.replace(/%[-+ #0-9.']*[diouxX]/, '00')}`;
  const reads = s.operands.slice(0, 1);
  const writes = uses(s, '--help', '--version') ? [] : [piece];
  return specFileWords(CSPLIT.name, s.unknown, reads, writes, undefined, s.strays);
}
