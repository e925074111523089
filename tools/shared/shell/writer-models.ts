/**
 * Option models (option-models.ts) of the programs that write files by nature (touch, chmod,
 * rm, cp, tee, gzip, ...) and of the plain readers a grant lists beside them (jq, base64, od,
 * ...). Why they are modelled: an unmodelled program's words are judged under `paths:` only when
 * they look like paths, so `touch authorized_keys` or `chmod 600 .bashrc`'s bare relative names
 * went unchecked and landed in the login folder (the remote user's home, where `.bashrc` and
 * `.ssh/authorized_keys` are relative names). Modelled, every operand and file option is a file:
 * under `paths:` it must be absolute and under a prefix, so a relative one is refused. Lists are
 * GNU coreutils 9.1, gzip 1.12, xz 5.4, zstd 1.5, util-linux 2.38 logger and jq 1.6/1.7
 * `--help` on this machine; an option left out only over-refuses (its value counts as a file).
 * Optional values (`--backup[=X]`, `--context[=X]`) are not listed: only `--x=v` gives them one.
 */
import type { Model } from './option-models.js';

/** A copy's target folder (`-t DIR`) is written; -S sets the backup suffix. */
const TARGET = { value: ['-S', '-t', '--suffix', '--target-directory'], file: ['-t', '--target-directory'], writes: ['-t', '--target-directory'] };
/** GNU chmod reads `-w`, `-x`, `-rwx`, `-g`, ... as the mode (its letters other than -c, -f, -v, -R). */
const CHMOD_MODE = /^-[cfvR]*[^cfvR-]/;
const OWNER: Model = { value: ['--from', '--reference'], file: ['--reference'], leadingText: ['--reference'], writeOperands: 'all' };
const GZIP: Model = {
  value: ['-S', '--suffix'],
  writeOperands: 'all',
  // -N restores the name the archive holds (beside it: may be `.gitattributes`), a name the line does not give.
  writesWith: [{ flags: ['-N', '--name'], writes: 'a name the archive holds (-N)' }],
};
const BZIP2: Model = { value: [], writeOperands: 'all' };
const XZ: Model = {
  value: ['-S', '-F', '-C', '-T', '-M', '--suffix', '--format', '--check', '--threads', '--memlimit', '--memory', '--memlimit-compress',
    '--memlimit-decompress', '--memlimit-mt-decompress', '--block-size', '--block-list', '--filters'],
  file: ['--files', '--files0'],
  writeOperands: 'all',
  writesWith: [{ flags: ['--files', '--files0'], writes: 'the files a --files list names' }],
};
const ZSTD: Model = {
  value: ['-o', '-D', '--trace', '--filelist', '--output-dir-flat', '--output-dir-mirror'],
  file: ['-o', '-D', '--trace', '--filelist', '--output-dir-flat', '--output-dir-mirror', '--patch-from'],
  writes: ['-o', '--trace', '--output-dir-flat', '--output-dir-mirror'],
  writeOperands: 'all',
  writesWith: [{ flags: ['--filelist'], writes: 'the files a --filelist names' }],
};
const SUMS: Model = { value: ['-a', '-l', '--algorithm', '--length'], lists: ['-c', '--check'] };

/** Writers by nature: their operands are the files they create, change or remove. */
export const WRITER_MODELS: Record<string, Model> = {
  touch: { value: ['-d', '-r', '-t', '--date', '--reference', '--time'], file: ['-r', '--reference'], writeOperands: 'all' },
  chmod: { value: ['--reference'], file: ['--reference'], leadingText: ['--reference'], textOption: CHMOD_MODE, writeOperands: 'all' },
  chown: OWNER,
  chgrp: OWNER,
  // ln TARGET with no LINK_NAME links into the current folder.
  // Read as getopt does (operands.ts scanWords), not generously: `ln --suf -t X` (`--suffix=-t`) has no target folder.
  ln: { ...TARGET, writeOperands: 'last', cwdWithOne: (_args, options) => !options.some((o) => o.flag === '-t' || o.flag === '--target-directory') },
  cp: { ...TARGET, value: [...TARGET.value, '--sparse', '--no-preserve'], writeOperands: 'last' },
  mv: { ...TARGET, writeOperands: 'all' },
  install: {
    exactFlags: ['--strip'],
    value: [...TARGET.value, '-m', '-o', '-g', '--mode', '--owner', '--group', '--strip-program'],
    file: TARGET.file,
    writes: TARGET.writes,
    writeOperands: 'all',
  },
  mkdir: { value: ['-m', '--mode'], writeOperands: 'all' },
  mkfifo: { value: ['-m', '--mode'], writeOperands: 'all' },
  rmdir: { value: [], writeOperands: 'all' },
  rm: { value: [], writeOperands: 'all' },
  unlink: { value: [], writeOperands: 'all' },
  truncate: { value: ['-s', '-r', '--size', '--reference'], file: ['-r', '--reference'], writeOperands: 'all' },
  shred: { value: ['-n', '-s', '--iterations', '--size', '--random-source'], file: ['--random-source'], writeOperands: 'all' },
  tee: { value: [], writeOperands: 'all' },
  sponge: { value: [], writeOperands: 'all' },
  // split [FILE [PREFIX]] writes PREFIXaa, ...; with no PREFIX, xaa in the current folder (--filter is the catalogue's).
  split: {
    value: ['-a', '-b', '-C', '-l', '-n', '-t', '--suffix-length', '--additional-suffix', '--bytes', '--line-bytes', '--lines', '--number',
      '--separator', '--filter'],
    writeOperands: [1],
    cwd: () => true,
    cwdWithOne: () => true,
  },
  gzip: GZIP, gunzip: GZIP, bzip2: BZIP2, bunzip2: BZIP2, xz: XZ, unxz: XZ, zstd: ZSTD, unzstd: ZSTD,
  // logger writes lines into syslog, which is its purpose (a writer by nature, README): paths: bounds the files it reads
  // (-f, --journald=FILE) and the socket it writes to (-u); its operands are the message.
  logger: {
    value: ['-f', '-p', '-S', '-t', '-n', '-P', '-u', '--file', '--priority', '--size', '--tag', '--server', '--port', '--socket', '--sd-id',
      '--sd-param', '--msgid'],
    file: ['-f', '--file', '-u', '--socket', '--journald'],
    writes: ['-u', '--socket'],
    operands: 'none',
  },
};

/** Readers that name files with bare operands, which were unjudged when relative. */
export const READER_MODELS: Record<string, Model> = {
  // jq: --arg/--argjson/--slurpfile/--rawfile take NAME and a value (a file for the last two); after --args/--jsonargs the
  // operands are strings, not files; -L adds a module folder.
  jq: {
    exactFlags: ['--slurp'],
    // --argfile (jq 1.6/1.7, deprecated) too: unlisted, its NAME was read as the filter and the real filter as a file.
    value: ['-f', '-L', '--from-file', '--library-path', '--indent', '--arg', '--argjson', '--slurpfile', '--rawfile', '--argfile'],
    file: ['-f', '-L', '--from-file', '--library-path', '--slurpfile', '--rawfile', '--argfile'],
    pairs: ['--arg', '--argjson', '--slurpfile', '--rawfile', '--argfile'],
    textAfter: ['--args', '--jsonargs'],
    leadingText: ['-f', '--from-file'],
  },
  base64: { value: ['-w', '--wrap'] }, base32: { value: ['-w', '--wrap'] }, basenc: { value: ['-w', '--wrap'] },
  nl: {
    value: ['-b', '-d', '-f', '-h', '-i', '-l', '-n', '-s', '-v', '-w', '--body-numbering', '--section-delimiter', '--footer-numbering',
      '--header-numbering', '--line-increment', '--join-blank-lines', '--number-format', '--number-separator', '--starting-line-number',
      '--number-width'],
  },
  od: { value: ['-A', '-j', '-N', '-S', '-t', '--address-radix', '--skip-bytes', '--read-bytes', '--format', '--endian'] },
  hexdump: { value: ['-e', '-f', '-n', '-s', '--format', '--format-file', '--length', '--skip'], file: ['-f', '--format-file'] },
  paste: { value: ['-d', '--delimiters'] },
  join: { value: ['-a', '-e', '-j', '-o', '-t', '-v', '-1', '-2'] },
  comm: { value: ['--output-delimiter'] },
  fold: { value: ['-w', '--width'] },
  fmt: { value: ['-w', '-p', '-g', '--width', '--prefix', '--goal'] },
  expand: { value: ['-t', '--tabs'] }, unexpand: { value: ['-t', '--tabs'] },
  rev: { value: [] }, bzcat: { value: [] }, xzcat: { value: [] }, zstdcat: { value: [] },
  cksum: SUMS, b2sum: SUMS, sum: { value: [] }, sha224sum: { value: [], lists: ['-c', '--check'] }, sha384sum: { value: [], lists: ['-c', '--check'] },
};
