/**
 * Red team of WRITES to storage and memory devices (device-places.ts, device-metadata.ts) and of
 * short options' attached values (flags.ts). These got through:
 * - a deny rule's paths: never saw a redirection's file: `cat /srv/x > /dev/sda1` (a raw disk
 *   write changes any file), `cat < /etc/shadow` and `cat /srv/x > /etc/shadow` all missed a deny
 *   of cat on /etc/shadow;
 * - the "metadata readers" fdisk, sfdisk, parted, tune2fs, blockdev, partx, smartctl, udevadm ran
 *   in any form on a device under a grant of /dev, / or without paths: (`fdisk /dev/sda` reads
 *   its commands from standard input, `parted /dev/sda rm 1`, `blockdev --setro`); only their
 *   read-only forms count as metadata now;
 * - findFlag read every letter of a short cluster as an option, also a value's: `grep -Dread`
 *   spelt `-e` (so its pattern was taken for a file), and `ln -sSxt /srv/x` spelt `-t`, so the
 *   link `ln` makes in the login folder (`-S xt` is a suffix) went unjudged.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { findFlag } from '../../../tools/shared/shell/flags.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const denyVerdict = (block: unknown, cmd: string) => shellCondition.compile(block, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL);

const PROGRAMS = ['cat', 'dd', 'tee', 'shred', 'wipefs', 'mkfs.ext4', 'blkdiscard', 'cp', 'fdisk', 'sfdisk', 'parted', 'tune2fs', 'blockdev', 'partx',
  'smartctl', 'mount', 'umount', 'udevadm', 'pvs', 'lsblk', 'blkid', 'printf', 'echo', 'sudo'];
const GRANT = (paths?: string[]) => ({ pipelines: true, programs: Object.fromEntries(PROGRAMS.map((p) => [p, paths === undefined ? {} : { paths }])) });
const { refuse, allow } = shellVerdicts(GRANT(['/dev', '/srv']));
const DENY = { programs: Object.fromEntries(PROGRAMS.map((p) => [p, { paths: ['/etc/shadow'] }])) };

before(async () => {
  await initShellParser();
});

const WRITES = ['dd if=/srv/x of=/dev/sda', 'dd if=/dev/zero of=/dev/nvme0n1p1 bs=1M', 'cat /srv/x | tee /dev/sda', 'shred /dev/sda', 'wipefs -a /dev/sda',
  'mkfs.ext4 /dev/sda1', 'blkdiscard /dev/nvme0n1', 'cp /srv/x /dev/mapper/root', 'tee /dev/mem', 'dd if=/srv/x of=/dev/vg0/data'];
/** The writing forms of programs that also have read-only ones. */
const WRITING_FORMS = ['fdisk /dev/sda', 'printf "d\\nw\\n" | fdisk /dev/sda', 'fdisk -b 4096 /dev/sda', 'sfdisk /dev/sda', 'sfdisk --delete /dev/sda 1',
  'sfdisk -d /dev/sda -N 1', 'sfdisk --part-type /dev/sda 1 83', 'parted /dev/sda rm 1', 'parted -s /dev/sda mklabel gpt', 'parted /dev/sda',
  'parted /dev/sda print rm 1', 'parted -f /dev/sda print', 'tune2fs -O ^has_journal /dev/sda1', 'tune2fs -l -U random /dev/sda1', 'tune2fs -lc 5 /dev/sda1',
  'blockdev --setro /dev/sda', 'blockdev --getsz --flushbufs /dev/sda', 'blockdev --rereadpt /dev/sda', 'partx -d /dev/sda', 'partx -a /dev/sda',
  'partx -u /dev/sda', 'smartctl -s off /dev/sda', 'smartctl -t long /dev/sda', 'smartctl --set=standby,now /dev/sda', 'smartctl -a -X /dev/sda',
  'udevadm trigger /dev/sda', 'udevadm info --cleanup-db /dev/sda', 'fdisk --l /dev/sda', 'blkid -c /dev/sda /dev/sdb1', 'blkid -w /dev/sda',
  'blkid --cache-file=/dev/sda', 'blkid -pw/dev/sda /dev/sdb1'];
/** Their read-only forms, and metadata readers that have no other. */
const READ_ONLY = ['fdisk -l', 'fdisk -l /dev/sda', 'fdisk --list /dev/sda', 'fdisk -lu /dev/sda', 'fdisk -x /dev/nvme0n1', 'fdisk -l -o Device,Size /dev/sda',
  'sfdisk -l /dev/sda', 'sfdisk -d /dev/sda', 'sfdisk --dump /dev/sda', 'sfdisk --list', 'sfdisk -J /dev/sda', 'sfdisk -s /dev/sda1', 'parted -l',
  'parted /dev/sda print', 'parted -s /dev/sda unit s print', 'parted -m /dev/sda print free', 'parted --list', 'tune2fs -l /dev/sda1',
  'blockdev --getsize64 /dev/sda', 'blockdev --getro --getss /dev/sda', 'blockdev --report', 'blockdev --report /dev/sda', 'partx --show /dev/sda',
  'partx -s -o NR,START /dev/sda', 'smartctl -a /dev/sda', 'smartctl -i -d sat /dev/sda', 'smartctl -H /dev/nvme0', 'smartctl --scan', 'smartctl -l error /dev/sda',
  'udevadm info /dev/sda', 'udevadm info -q property -n /dev/sda1', 'mount', 'mount -l', 'mount -t ext4', 'pvs /dev/sda2', 'lsblk /dev/sda',
  'blkid /dev/sda1', 'blkid -c /dev/null /dev/sda1', 'blkid -p -o value -s UUID /dev/sda1', 'blkid -w /dev/null -c /dev/null'];

describe('writes to storage and memory devices', () => {
  test('under a grant of /dev or /, a write needs a paths: entry naming the device', () => {
    refuse(WRITES, /reaches '\/dev\/[^']+', (a storage device|the machine's memory).* a grant reaches it only when its paths: name \/dev\//);
    refuse(WRITES, /storage device|machine's memory/, GRANT(['/']));
    const named = GRANT(['/dev/sdb', '/dev/mapper/scratch', '/srv']);
    allow(['dd if=/srv/x of=/dev/sdb bs=1M', 'wipefs -a /dev/sdb', 'cat /srv/x | tee /dev/mapper/scratch', 'mkfs.ext4 /dev/sdb'], named);
    refuse(['dd if=/srv/x of=/dev/sda', 'wipefs -a /dev/sdb1x', 'tee /dev/mapper/root'], /do not name|outside|not under/, named);
  });

  test('under a grant without paths:, a write is refused, saying it writes', () => {
    refuse(['dd if=/srv/x of=/dev/sda', 'cat /srv/x | tee /dev/sda', 'cp /srv/x /dev/sda1', 'shred /dev/sda'], /^(dd|tee|cp|shred) writes '\/dev\/sda1?', a storage device/, GRANT());
    // Warden does not model wipefs: its words may be read or written.
    refuse(['wipefs -a /dev/sda', 'blkdiscard /dev/sda'], /reads or writes '\/dev\/sda', a storage device/, GRANT());
    refuse(['cat /dev/sda'], /^cat reads '\/dev\/sda'/, GRANT());
  });

  test('a deny rule on any path matches a write to a device', () => {
    for (const cmd of [...WRITES, ...WRITING_FORMS]) {
      const r = denyVerdict(DENY, cmd);
      assert.equal(r.matched, true, cmd);
    }
  });

  test('ordinary /dev writes stay as they were', () => {
    allow(['dd if=/dev/zero of=/dev/null count=1', 'cat /srv/x | tee /dev/null', 'echo hi | tee /dev/tty', 'dd if=/srv/x of=/dev/null']);
    allow(['dd if=/dev/zero of=/dev/null count=1', 'echo hi | tee /dev/null'], GRANT());
    for (const cmd of ['cat /srv/x > /dev/null', 'cat /srv/x 2>&1', 'cat /srv/x > /dev/stdout', 'cat /srv/x 2> /dev/stderr', 'cat /srv/x > /dev/tty',
      'cat /srv/x >&2', 'cat /srv/x > /tmp/out', 'dd if=/srv/x of=/dev/null', 'cat /srv/x | tee /dev/null']) {
      assert.equal(denyVerdict(DENY, cmd).matched, false, cmd);
    }
  });
});

describe('a copy into a folder that lands on a device (device-landings.ts)', () => {
  const COPIES = ['cp /srv/sda /dev', 'cp /srv/sda /dev/', 'cp -t /dev /srv/sda', 'cp /srv/x/notes /srv/y/mem /dev', 'install /srv/sda /dev', 'mv /srv/sda /dev',
    'cp /srv/data /dev/vg0', 'cp -r /srv/p /dev/vg0'];
  const WHOLE = ['cp -r /srv/p /dev', 'cp -a /srv/p/dev /'];
  const b = (paths?: string[]) => ({ programs: Object.fromEntries(['cp', 'install', 'mv'].map((p) => [p, paths === undefined ? {} : { paths }])) });

  test('under /dev, / or no paths: it is refused as a write of the device', () => {
    const first = b(['/dev', '/srv']);
    for (const grant of [first, b(['/']), b()]) {
      refuse(COPIES, /writes '\/dev\/[^']+' \(it copies '[^']+' into '\/dev[^']*' under its own name\), (a storage device|the machine's memory).*a grant writes it only when its paths: name \/dev\//, grant);
      const whole = grant === first ? WHOLE.filter((c) => !c.endsWith(' /')) : WHOLE; // `/` is outside /dev, /srv
      refuse(whole, /whole \((cp -r|cp -a)\), which holds disks, partitions or memory.*no grant can name the devices it may write/, grant);
      // A copy into a device folder names it: judged as its word.
      refuse(['cp /srv/root /dev/mapper'], /'\/dev\/mapper', a storage device/, grant);
    }
  });

  test('its neighbours: a grant naming the device, a copy to a plain name, a folder without devices', () => {
    allow(['cp /srv/sdb /dev', 'cp -T /srv/sda /dev/sdb'], b(['/dev', '/dev/sdb', '/srv']));
    allow(['cp /srv/a /srv/b', 'cp -r /srv/a /srv/b', 'cp /srv/report /dev/shm', 'cp -T /srv/sda /srv/b', 'cp /srv/null /dev/shm/'], b(['/dev/shm', '/srv']));
  });

  test('a deny rule on any path matches it', () => {
    const deny = { programs: { cp: { paths: ['/etc/shadow'] }, mv: { paths: ['/etc/shadow'] } } };
    for (const cmd of [...COPIES.filter((c) => !c.startsWith('install')), ...WHOLE]) {
      const r = denyVerdict(deny, cmd);
      assert.equal(r.matched, true, cmd);
      assert.match(r.why, /so it holds \/etc\/shadow/, cmd);
    }
    assert.equal(denyVerdict(deny, 'cp /srv/a /srv/b').matched, false);
  });
});

describe("a redirection's file is the command's for a deny rule's paths:", () => {
  test('a redirection to or from a denied path or a device matches', () => {
    const cases: [string, RegExp][] = [
      ['cat /srv/x > /dev/sda1', /redirect.*'\/dev\/sda1' is a storage device.*holds \/etc\/shadow/],
      ['cat /srv/x >> /dev/nvme0n1p1', /storage device/],
      ['cat /srv/x 2> /dev/mapper/root', /storage device/],
      ['cat /srv/x &> /dev/mem', /machine's memory/],
      ['cat /srv/x >| /dev/vg0/data', /storage device/],
      ['> /dev/sda cat /srv/x', /storage device/],
      ['{ cat /srv/x; } > /dev/sda', /storage device/],
      ['cat /srv/x | tee /srv/y > /dev/sda', /storage device/],
      ['sudo cat /srv/x > /dev/sda', /storage device/],
      ['echo x > /dev/sda', /storage device/],
      ['cat /srv/x > /dev/sd?', /pattern bash may expand/],
      ['cat < /etc/shadow', /path '\/etc\/shadow'/],
      ['cat /srv/x > /etc/shadow', /path '\/etc\/shadow'/],
      ['cat /srv/x > shadow', /relative/],
      ['cat /srv/x > /dev/fd/5', /open file/],
      ['exec 3> /dev/sda; cat /srv/x >&3', /redirection opens '\/dev\/fd\/3'.*open file/],
    ];
    for (const [cmd, why] of cases) {
      const r = denyVerdict(DENY, cmd);
      assert.equal(r.matched, true, cmd);
      assert.match(r.why, why, cmd);
    }
  });

  test('allow rules still refuse redirections outright', () => {
    refuse(['cat /srv/x > /dev/sda1', 'cat /srv/x > /dev/null', 'cat < /srv/x'], /uses redirection/);
  });
});

describe('metadata readers: only their read-only forms', () => {
  test('a writing form on a device under /dev, / or no paths: is refused', () => {
    refuse(WRITING_FORMS, /storage device/);
    refuse(WRITING_FORMS, /storage device/, GRANT(['/']));
    refuse(WRITING_FORMS, /storage device/, GRANT());
    // Under a grant naming the device, it is the grant's to give.
    allow(['fdisk /dev/sdb', 'parted -s /dev/sdb mklabel gpt', 'blockdev --setro /dev/sdb'], GRANT(['/dev/sdb']));
  });

  test('the read-only forms stay granted, and a deny on a path does not match them', () => {
    allow(READ_ONLY);
    allow(READ_ONLY, GRANT(['/']));
    allow(READ_ONLY, GRANT());
    for (const cmd of READ_ONLY) assert.equal(denyVerdict(DENY, cmd).matched, false, cmd);
  });
});

describe("short options' attached values (findFlag reads a cluster as getopt does)", () => {
  test('a value attached to a short option is no option', () => {
    assert.equal(findFlag('grep', ['-Dread', 'x', '/srv'], ['-e']), null);
    assert.equal(findFlag('grep', ['-dread', 'x', '/srv'], ['-r']), null);
    assert.equal(findFlag('grep', ['-e', '-r', '/srv'], ['-r']), null);
    assert.equal(findFlag('ln', ['-sSxt', '/srv/x'], ['-t']), null);
    assert.equal(findFlag('ln', ['-s', '--suffix', '-t', '/srv/x'], ['-t']), null);
    // Where the model cannot tell, generously: an abbreviation may be an option taking no value (du --time, not --time-style).
    assert.deepEqual(findFlag('du', ['--time', '--files0-from=/x'], ['--files0-from']), { flag: '--files0-from', word: '--files0-from=/x' });
    assert.deepEqual(findFlag('ln', ['-s', '--suf', '-t', '/srv/x'], ['-t']), { flag: '-t', word: '-t' });
    // An optional value is only attached: journalctl -b -u is two options.
    assert.deepEqual(findFlag('journalctl', ['-b', '-u', 'x'], ['-u']), { flag: '-u', word: '-u' });
    assert.deepEqual(findFlag('grep', ['-rDread', 'x', '/srv'], ['-r']), { flag: '-r', word: '-rDread' });
    assert.deepEqual(findFlag('grep', ['-Dread', '-e', 'x', '/srv'], ['-e']), { flag: '-e', word: '-e' });
    assert.deepEqual(findFlag('ln', ['-st', '/srv/d', '/srv/x'], ['-t']), { flag: '-t', word: '-st' });
    // A program Warden does not model is read generously still.
    assert.deepEqual(findFlag('frob', ['-Dread'], ['-e']), { flag: '-e', word: '-Dread' });
  });

  test('injections behind an option Warden cannot tell takes a value stay refused', () => {
    const b = { programs: { du: { paths: ['/srv'] }, grep: { paths: ['/srv'] } } };
    refuse(['du --time --files0-from=/srv/list'], /files0-from/, b);
    refuse(['grep --binary root /etc/shadow'], /outside \/srv/, b);
  });

  test('grep -Dread and -dread: a legal neighbour is allowed, the device read refused for the devices', () => {
    const b = { programs: { grep: { paths: ['/srv', '/dev'] } } };
    allow(['grep -Dread root: /srv/log', 'grep -dread root: /srv/log', 'grep -Dskip -e root: /srv/log', 'grep -dskip root: /srv/log'], b);
    refuse(['grep -r -Dread root: /dev/mapper', 'grep -rDread root: /dev'], /whole with its devices/, b);
    const deny = { programs: { grep: { deny_flags: ['-r'] } } };
    assert.equal(denyVerdict(deny, 'grep -dread x /srv/log').matched, false);
    assert.equal(denyVerdict(deny, 'grep -e -r /srv/log').matched, false);
    assert.equal(denyVerdict(deny, 'grep -rDread x /srv').matched, true);
  });

  test('ln -sSxt TARGET links into the login folder: refused under paths:', () => {
    const b = { programs: { ln: { paths: ['/srv'] } } };
    refuse(['ln -sSxt /srv/.bashrc', 'ln -s -S -t /srv/.bashrc', 'ln -s --suffix -t /srv/.bashrc'], /'\.' is not an absolute path/, b);
    allow(['ln -s -t /srv/d /srv/.bashrc', 'ln -st /srv/d /srv/x', 'ln -s -S .bak /srv/x /srv/y', 'ln -sS.bak -t /srv/d /srv/x'], b);
  });
});
