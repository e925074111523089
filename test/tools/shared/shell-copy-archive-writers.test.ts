/**
 * rsync, scp, zip, 7z, patch, cpio and csplit under a `paths:` grant. They were unmodelled, so
 * only their path-like words were judged: `rsync -a /srv/app/x authorized_keys`, `zip out.zip
 * /srv/app/f`, `patch -o authorized_keys /srv/app/f`, `csplit /srv/app/f 1` (xx00 in the login
 * folder) wrote a bare relative name in the remote user's home. Now their operands and file
 * options are files (absolute, under a prefix), names only an archive, a patch or standard input
 * knows are refused, and an option the model does not know is refused (fail closed).
 */
import { before, test } from 'node:test';
import { initShellParser } from '../../../tools/shared/shell/index.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const P = { paths: ['/var/log', '/srv/app'] };
const PROGRAMS = ['rsync', 'scp', 'zip', '7z', 'patch', 'cpio', 'csplit'];
const { refuse, allow } = shellVerdicts({ pipelines: true, programs: { ...Object.fromEntries(PROGRAMS.map((p) => [p, P])), cat: P, echo: {} } });

before(async () => {
  await initShellParser();
});

/** The wording session 14's writers use for a relative operand, naming it. */
const relative = (word: string): RegExp =>
  new RegExp(`'${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' is not an absolute path: it would resolve in the login folder \\(the remote user's home\\), outside /var/log, /srv/app; write an absolute path under them`);

/** Each [command, relative word] is refused naming that word. */
function refusedRelative(cases: [string, string][]): void {
  for (const [cmd, word] of cases) refuse([cmd], relative(word));
}

test('rsync: relative operands and file options are refused; absolute ones under the prefixes run', () => {
  refusedRelative([
    ['rsync -a /srv/app/x authorized_keys', 'authorized_keys'], ['rsync /srv/app/x .bashrc', '.bashrc'], ['rsync -av foo /srv/app/', 'foo'],
    ['rsync --files-from=list /srv/app/ /srv/app/out/', 'list'], ['rsync --exclude-from ex /srv/app/a /srv/app/b', 'ex'],
    ['rsync --include-from=inc /srv/app/a /srv/app/b', 'inc'], ['rsync --log-file=.profile /srv/app/a /srv/app/b', '.profile'],
    ['rsync -b --backup-dir=bak /srv/app/a /srv/app/b', 'bak'], ['rsync -T tmp /srv/app/a /srv/app/b', 'tmp'],
    ['rsync --temp-dir=tmp /srv/app/a /srv/app/b', 'tmp'], ['rsync --partial-dir=.p /srv/app/a /srv/app/b', '.p'],
    ['rsync --link-dest=old /srv/app/a /srv/app/b', 'old'], ['rsync --compare-dest=c /srv/app/a /srv/app/b', 'c'],
    ['rsync --copy-dest=c /srv/app/a /srv/app/b', 'c'], ['rsync --write-batch=batch /srv/app/a /srv/app/b', 'batch'],
    ['rsync --read-batch=batch /srv/app/b', 'batch'], ['rsync --password-file=pw /srv/app/a /srv/app/b', 'pw'],
    ["rsync -f 'merge rules' /srv/app/a /srv/app/b", 'rules'], ["rsync --filter='. rules' /srv/app/a /srv/app/b", 'rules'],
  ]);
  refuse(['rsync -a /srv/app/x /home/app/.ssh/authorized_keys', 'rsync --log-file=/tmp/log /srv/app/a /srv/app/b'], /is outside \/var\/log, \/srv\/app/);
  refuse(['rsync -a /srv/app/x backup:/srv/app/', 'rsync -a host::mod/x /srv/app/y', 'rsync rsync://h/m/x /srv/app/y'], /on another host/);
  refuse(['rsync --remote-option=--log-file=x /srv/app/a /srv/app/b', 'rsync --dry /srv/app/a /srv/app/b', 'rsync -aZ /srv/app/a /srv/app/b'],
    /rsync option .* is not one Warden models, so what it reads or writes cannot be judged under paths:/);
  refuse(['rsync -a /srv/app/x /srv/app/.git/config', 'rsync --remove-source-files /srv/app/.git/config /srv/app/y'], /a file git obeys/);
  // The names it copies are the list's (`.git/config` among them): refused as tar -c -T is (git-carry.ts).
  refuse(['rsync --files-from=/srv/app/list -a /srv/app/ /var/log/out/'], /rsync --files-from copies names only its list gives/);
  allow([
    'rsync -a /srv/app/x /srv/app/y', 'rsync -avz --delete --exclude "*.tmp" /srv/app/src/ /var/log/dst/', 'rsync --no-perms -rt /srv/app/a /srv/app/b',
    'rsync --backup-dir=/srv/app/bak -b /srv/app/a /srv/app/b',
    'rsync -T /srv/app/tmp --partial-dir=/srv/app/p /srv/app/a /srv/app/b', "rsync -f '- *.o' /srv/app/a /srv/app/b", 'rsync --list-only /srv/app/',
    'rsync --bwlimit 100 --chmod=D755,F644 /srv/app/a /srv/app/b',
  ]);
});

test('scp: relative operands and -i are refused, another host is refused; local absolute copies run', () => {
  refusedRelative([['scp /srv/app/x .ssh_x', '.ssh_x'], ['scp /srv/app/x authorized_keys', 'authorized_keys'], ['scp -i key /srv/app/a /srv/app/b', 'key']]);
  refuse(['scp /srv/app/x backup:/tmp/', 'scp user@h:/etc/passwd /srv/app/p', 'scp scp://h/x /srv/app/y'], /on another host/);
  refuse(['scp -Q /srv/app/a /srv/app/b'], /scp option .* is not one Warden models/);
  refuse(['scp -S evil /srv/app/a /srv/app/b'], /scp -S .*can run programs/);
  allow(['scp /srv/app/a /srv/app/b', 'scp -pr /srv/app/d /var/log/d']);
});

test('zip: the archive and its files, -O, -b, -x@ lists; -@ names files standard input knows', () => {
  refusedRelative([['zip out.zip /srv/app/f', 'out.zip'], ['zip /srv/app/o.zip .bashrc', '.bashrc'], ['zip -O new.zip /srv/app/o.zip /srv/app/f', 'new.zip'],
    ['zip --output-file=new.zip /srv/app/o.zip /srv/app/f', 'new.zip'], ['zip -b tmp /srv/app/o.zip /srv/app/f', 'tmp'],
    ['zip -r /srv/app/o.zip /srv/app/d -x@ex.lst', 'ex.lst'], ["zip -r /srv/app/o.zip /srv/app/d -x'*.o' secret", 'secret'],
    ["zip -r /srv/app/o.zip /srv/app/d '--exclude=*.o' secret", 'secret']]);
  refuse(['ls /srv/app | zip -@ /srv/app/o.zip'], /zip -@ reads the names of the files to add from standard input/, { pipelines: true, programs: { zip: P, ls: {} } });
  refuse(['zip -R /srv/app/o.zip /srv/app/d', 'zip -rlf /srv/app/o.zip /srv/app/d'], /zip option .* is not one Warden models/);
  refuse(['zip /srv/app/.git/config /srv/app/f'], /a file git obeys/);
  // zip -r packs a folder's whole tree, where a bare secret (config/master.key) may lie: refused (shell/secret-files.ts).
  refuse(['zip -r9 /srv/app/o.zip /srv/app/d', 'zip -r /srv/app/o.zip /srv/app/d -x "*.o" "*.tmp"'], /whole/);
  allow(['zip -9 /srv/app/o.zip /srv/app/f', 'zip -d /srv/app/o.zip old.txt', 'zip -q -O /srv/app/n.zip /srv/app/o.zip /srv/app/f']);
});

test('7z: the verb, archive, files and -o; extraction writes names only the archive knows', () => {
  refusedRelative([['7z a out.7z /srv/app/f', 'out.7z'], ['7z a /srv/app/o.7z creds', 'creds'], ['7z l a.7z', 'a.7z'], ['7z a -w tmp /srv/app/o.7z /srv/app/f', 'tmp']]);
  refuse(['7z x /srv/app/a.7z -o/srv/app/out', '7z e /srv/app/a.7z'], /7z extracts names only the archive knows/);
  refuse(['7z a /srv/app/o.7z @list'], /7z reads the names of the files to add from the list 'list'/);
  refuse(['7z a -sfx /srv/app/o.7z /srv/app/f', '7z z /srv/app/a.7z'], /7z (option|command) .* is not one Warden models/);
  // Packing a word that may be a folder packs its whole tree, where a bare secret (config/master.key) may lie: refused (shell/secret-files.ts).
  refuse(['7z a /srv/app/o.7z /srv/app/f /srv/app/d', '7z a -mx=9 -tzip /srv/app/o.zip /srv/app/d'], /whole/);
  allow(['7z l /srv/app/a.7z', '7z t /srv/app/a.7z', '7z x -so /srv/app/a.7z data.json']);
});

test('patch: -o, -i, -r, -B and the operands; no file operand patches names only the patch text knows', () => {
  refusedRelative([['patch -o authorized_keys /srv/app/f', 'authorized_keys'], ['patch .bashrc /srv/app/p.diff', '.bashrc'],
    ['patch -i p.diff /srv/app/f', 'p.diff'], ['patch -r rej /srv/app/f /srv/app/p.diff', 'rej'], ['patch -B bak/ /srv/app/f /srv/app/p.diff', 'bak/'],
    ['patch --output=out /srv/app/f /srv/app/p.diff', 'out']]);
  refuse(['cat /srv/app/p.diff | patch -p1', 'patch -p1 -i /srv/app/p.diff', 'patch -o /srv/app/out -i /srv/app/p.diff'],
    /patch with no file to patch patches the names only the patch text knows/);
  refuse(['patch --frobnicate /srv/app/f /srv/app/p.diff'], /patch option .* is not one Warden models/);
  // In place, a git-style patch also writes the names its text gives (shell-model-disagreements.test.ts): -o names the output.
  allow(['patch -o /srv/app/f.new /srv/app/f /srv/app/p.diff', 'cat /srv/app/p.diff | patch -p1 -b -o /srv/app/new /srv/app/f', 'patch -R --dry-run -i /srv/app/p.diff /srv/app/f',
    'patch -r - -o /srv/app/f.new /srv/app/f /srv/app/p.diff']);
});

test('cpio: -i extracts and -o/-p read names only standard input or the archive knows; -F/-O/-I/-E are files', () => {
  refusedRelative([['cpio -it -F a.cpio', 'a.cpio'], ['cpio -it -I a.cpio', 'a.cpio'], ['cpio -i --to-stdout -E pats -F /srv/app/a.cpio', 'pats'],
    ['cpio -o -O out.cpio', 'out.cpio'], ['cpio -p dest', 'dest']]);
  refuse(['cpio -id -F /srv/app/a.cpio', 'cat /srv/app/a.cpio | cpio -i'], /cpio -i extracts names only the archive knows/);
  refuse(['echo /srv/app/f | cpio -o -O /srv/app/a.cpio', 'echo /srv/app/f | cpio -pd /srv/app/d'], /cpio -[op] reads the files whose names standard input gives/);
  refuse(['cpio -ir -F /srv/app/a.cpio'], /cpio option .* is not one Warden models/);
  // --rsh-command runs the program it names (shell-network-runners.test.ts): the injection catalogue refuses it first.
  refuse(['cpio -it --rsh-command=x -F /srv/app/a.cpio'], /Always denied: cpio --rsh-command/);
  refuse(['cpio -v -F /srv/app/a.cpio'], /cpio needs a mode/);
  allow(['cpio -it -F /srv/app/a.cpio', 'cat /srv/app/a.cpio | cpio -itv', 'cpio -t -F /srv/app/a.cpio', 'cpio -i --to-stdout -F /srv/app/a.cpio "*.json"', 'cpio -it -I /var/log/a.cpio']);
});

test('csplit: the input, and the pieces PREFIXnn (xx00 in the current folder by default)', () => {
  refusedRelative([['csplit /srv/app/f 1', 'xx00'], ['csplit -f part /srv/app/f 10', 'part00'], ['csplit --prefix=p /srv/app/f /x/', 'p00'],
    ['csplit -f /srv/app/p in 1', 'in']]);
  refuse(['csplit -f /srv/app /srv/app/f 1', 'csplit -f /srv/app/p -b "/../../../root/x%d" /srv/app/f 1'], /is outside \/var\/log, \/srv\/app/);
  refuse(['csplit --frob -f /srv/app/p /srv/app/f 1'], /csplit option .* is not one Warden models/);
  allow(['csplit -f /srv/app/part- /srv/app/f 10 "/^x/" "{*}"', 'csplit -s -z -n 3 --prefix=/var/log/p /var/log/f 1', 'csplit -f /srv/app/p -b %03d.txt /srv/app/f 1',
    'echo x | csplit -f /srv/app/p - 1']);
});
