/**
 * Red team of device files that hold other files' or memory's content (device-places.ts). A raw
 * disk, partition or volume holds every file on its filesystem, /dev/mem the machine's memory.
 * These got through: under a grant of `/dev` or `/`, `cat /dev/sda1`, `dd if=/dev/nvme0n1p1`,
 * `strings /dev/mem`; under a grant without paths:, any of them; and a deny of `/etc/shadow`
 * missed `cat /dev/sda1`, which holds it. Now a grant reads one only when its paths: name it,
 * a grant without paths: never does, and a deny's paths count as held by it. Metadata readers
 * (`ls -l`, `df`, `lsblk`, `blkid`) and /dev/null, /dev/zero, /dev/urandom, /dev/tty stay granted.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { devicePlace } from '../../../tools/shared/shell/device-places.js';
import { secretMountsOf } from '../../../tools/kubernetes/secret-mounts.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const denyVerdict = (block: unknown, cmd: string) => shellCondition.compile(block, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL);

const PROGRAMS = ['cat', 'head', 'tail', 'grep', 'strings', 'xxd', 'od', 'hexdump', 'dd', 'ls', 'stat', 'df', 'lsblk', 'blkid', 'wc', 'tr', 'sort'];
const REWRITERS = new Set(['xxd', 'od', 'hexdump', 'tr', 'dd']);
const READERS = (paths?: string[]) => ({ pipelines: true, programs: Object.fromEntries(PROGRAMS.map((p) => [p, { ...(paths === undefined ? {} : { paths }), ...(REWRITERS.has(p) ? { rewrites: true } : {}) }])) });
const { refuse, allow } = shellVerdicts(READERS(['/dev']));

before(async () => {
  await initShellParser();
});

/** Device reads spelt every way the brief names. */
const READS = [
  'cat /dev/sda1', 'cat /dev/sda1 | strings', 'dd if=/dev/nvme0n1p1', 'head -c 1G /dev/vda', 'grep -a PASSWORD /dev/mapper/root', 'strings /dev/mem',
  'xxd /dev/kmem', 'od /dev/port', 'cat /dev/disk/by-uuid/0b1c-77aa', 'cat /dev/dm-0', 'cat /dev/loop0', 'cat /dev/md0', 'cat /dev/sg0', 'cat /dev/root',
  'cat /dev/xvda', 'cat /dev/mmcblk0', 'cat /dev/mmcblk0p2', 'cat /dev/zram0', 'cat /dev/nbd0', 'cat /dev/nvme0n1', 'cat /dev/hda', 'cat /dev/sr0',
  'cat /dev/vg0/data', 'cat /dev/md/root', 'cat /dev/block/8:1', 'cat /dev/char/1:1', 'cat /dev//sda', 'cat /dev/./sda1', 'cat /srv/../dev/sda',
  'cat /proc/1/root/dev/sda1', 'cat /proc/self/root/dev/mem', 'hexdump /dev/snapshot', 'dd if=/dev/sda of=/dev/stdout', 'tail -n 5 /dev/sdb',
];
const DEVICE = /a storage device, which holds every file on its filesystem|the machine's memory/;

describe('under a grant with paths: above the device', () => {
  test('/dev and / do not reach a disk, partition, volume or memory', () => {
    refuse(READS, DEVICE);
    refuse(READS, DEVICE, READERS(['/']));
    refuse(['cat /dev/sda1'], /a grant reaches it only when its paths: name \/dev\/sda1/);
    refuse(['cat /dev/disk/by-uuid/x'], /name \/dev\/disk\b/);
  });

  test('a pattern that may expand to a device is refused', () => {
    // Globs need constructs an allow rule must permit; the word itself is judged (the deny test below judges a line).
    assert.equal(devicePlace('/dev/sd*')?.place, null);
    assert.equal(devicePlace('/dev/s?a1')?.place, null);
    assert.equal(devicePlace('/d*/sda')?.place, null);
    assert.equal(devicePlace('/dev/pts/*'), null);
    assert.equal(devicePlace('/dev/tty*'), null);
    assert.equal(devicePlace('/s*/x'), null);
  });

  test('a grant naming the device reads it, and only it', () => {
    const b = READERS(['/dev/sdb1', '/dev/disk/by-label', '/srv']);
    allow(['cat /dev/sdb1', 'dd if=/dev/sdb1 bs=512 count=1', 'head -c 512 /dev/disk/by-label/data'], b);
    refuse(['cat /dev/sdb', 'cat /dev/sda1', 'cat /dev/disk/by-uuid/x', 'cat /dev/mem'], /do not name|is outside/, b);
  });

  test('metadata readers and harmless devices stay granted', () => {
    allow(['ls -l /dev/sda1', 'stat /dev/nvme0n1', 'df -h /dev/sda1', 'lsblk /dev/sda', 'blkid /dev/sda1', 'ls -l /dev/disk/by-uuid', 'ls /dev/mapper']);
    allow(['cat /dev/null', 'head -c 16 /dev/urandom', 'head -c 16 /dev/random', 'head -c 8 /dev/zero', 'cat /dev/tty', 'ls /dev/pts', 'cat /dev/shm/report',
      'wc -c /dev/full', 'cat /dev/kmsg', 'dd if=/dev/zero of=/dev/null count=1']);
    allow(['cat /dev/null'], READERS(['/']));
  });
});

describe('under a grant without paths:', () => {
  const b = READERS();
  test('a device read is refused as a read of a secret place', () => {
    refuse(READS, /reads '.*', (a storage device|the machine's memory).*output masking cannot see a secret with no name beside it; a grant reads it only when its paths: name it/, b);
    // A relative word is judged as if the working folder were /.
    refuse(['cat dev/sda1'], DEVICE, b);
  });

  test('its neighbours stay granted', () => {
    allow(['cat /dev/null', 'head -c 16 /dev/urandom', 'cat /dev/stdin', 'cat /dev/tty', 'ls -l /dev/sda1', 'df /dev/sda1', 'lsblk', 'blkid /dev/sda1',
      'cat /etc/hostname', 'dd if=/dev/zero of=/dev/null count=1', 'cat /dev/shm/x', 'cat /proc/meminfo'], b);
  });
});

describe('deny rules with paths:', () => {
  test('a device holds every denied path', () => {
    const block = { programs: Object.fromEntries(['cat', 'dd', 'strings', 'grep', 'xxd', 'head'].map((p) => [p, { paths: ['/etc/shadow'] }])) };
    for (const cmd of ['cat /dev/sda1', 'dd if=/dev/nvme0n1p1', 'strings /dev/mem', 'grep -a root: /dev/mapper/root', 'xxd /dev/kmem', 'cat /dev/vg0/root',
      'cat /proc/1/root/dev/sda1', 'head /dev/disk/by-uuid/x', 'cat /dev/sd?1']) {
      const r = denyVerdict(block, cmd);
      assert.equal(r.matched, true, cmd);
      assert.match(r.why, /(storage device|machine's memory).*holds \/etc\/shadow|pattern bash may expand/, cmd);
    }
    for (const cmd of ['cat /dev/null', 'head -c 4 /dev/urandom', 'cat /etc/hostname', 'cat /dev/tty']) assert.equal(denyVerdict(block, cmd).matched, false, cmd);
    // A metadata reader under a deny is judged by the words it names.
    assert.equal(denyVerdict({ programs: { ls: { paths: ['/etc/shadow'] } } }, 'ls -l /dev/sda1').matched, false);
  });
});

test('devicePlace names the place a grant must name', () => {
  assert.equal(devicePlace('/dev/sda1')?.place, '/dev/sda1');
  assert.equal(devicePlace('/proc/9/root/dev/nvme0n1p1')?.place, '/dev/nvme0n1p1');
  assert.equal(devicePlace('/dev/mapper/vg-root')?.place, '/dev/mapper');
  assert.equal(devicePlace('/dev/vg0/root')?.place, '/dev/vg0');
  assert.equal(devicePlace('/proc/vmcore')?.place, '/proc/vmcore');
  for (const p of ['/dev/null', '/dev/zero', '/dev/urandom', '/dev/random', '/dev/tty', '/dev/tty1', '/dev/pts/0', '/dev/shm/x', '/dev/stdin', '/dev/fd/3',
    '/dev/full', '/dev/sdX', '/srv/dev/sda', '/dev', '/dev/disks']) assert.equal(devicePlace(p), null, p);
});

test("a pod's raw block volume (volumeDevices) is a place kubectl_exec reads only where paths: name it, wherever its devicePath", () => {
  const spec = {
    volumes: [{ name: 'raw', persistentVolumeClaim: { claimName: 'raw' } }, { name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
    containers: [{ name: 'app', volumeDevices: [{ name: 'raw', devicePath: '/data//raw-block' }], volumeMounts: [{ name: 'data', mountPath: '/srv' }] }, { name: 'side' }],
  };
  assert.deepEqual(secretMountsOf(spec), { app: ['/data/raw-block'] });
  const judge = (cmd: string, block: unknown) => shellCondition.compile(block, { id: 'a', effect: 'allow' })({ ...parseShell(cmd), secretMounts: ['/data/raw-block'] } as ReturnType<typeof parseShell>, { tool: 'kubectl_exec', connection: 'k', args: {} });
  for (const block of [READERS(), READERS(['/'])]) {
    const r = judge('cat /data/raw-block', block);
    assert.equal(r.matched, false);
    assert.match(r.why, /a grant reads it only when its paths: name it \(\/data\/raw-block\)/);
    assert.equal(judge('cat /srv/x', block).matched, true);
  }
  assert.equal(judge('cat /data/raw-block', READERS(['/data/raw-block'])).matched, true);
});

test('a whole-tree read told to read the devices in it (grep -r -D read, rsync --copy-devices) reaches every device', () => {
  const programs = (paths?: string[]) => ({ programs: { grep: paths ? { paths } : {}, rsync: paths ? { paths } : {} } });
  const cmds = ['grep -r -D read root: /dev', 'grep -R --devices=read root: /dev/disk', 'grep -r -Dread root: /dev/mapper', 'grep -r -D read x /proc/1/root',
    'rsync -a --copy-devices /dev/ /srv/x', 'grep -rD read x /dev/vg0'];
  const WHOLE = /reads '.*' whole with its devices \(.*\), and it holds disks, partitions or memory/;
  // -Dread is -D read (flags.ts reads a short option's attached value as getopt does), so the reason is the devices.
  for (const b of [programs(), programs(['/']), programs(['/dev', '/srv'])]) refuse(cmds, WHOLE, b);
  for (const cmd of cmds) {
    const r = denyVerdict({ programs: { grep: { paths: ['/etc/shadow'] }, rsync: { paths: ['/etc/shadow'] } } }, cmd);
    assert.equal(r.matched, true, cmd);
    assert.match(r.why, /whole with its devices .*so \/etc\/shadow too|device, which holds every file on its filesystem.*holds \/etc\/shadow/, cmd);
  }
  // grep skips the devices it meets while recursing unless told to read them; -D skip skips them.
  allow(['grep -r x /dev', 'grep -r -D skip x /dev', 'grep -D read x /srv/log'], programs(['/dev', '/srv']));
  allow(['rsync -a /srv/a/ /srv/b'], programs(['/srv']));
});
