/**
 * Red team of the device metadata readers' read-only forms (device-metadata.ts) and of archive
 * extraction into a folder holding devices (device-landings.ts). These got through:
 * - a read-only form fed standard input: `echo Fix | parted /dev/sda print` answers parted's
 *   question whether to fix what it finds (a GPT's backup header), a write of the disk;
 * - an extraction into a folder that holds devices under a grant without paths: (`tar -xf A -C
 *   /dev`, `unzip A -d /dev`, `7z x A -o/dev`, `cpio -i`, which keeps a member's absolute name):
 *   a member named `dev/sda` (or `/dev/sda`) is written into the disk, as a whole copy into
 *   /dev is (device-landings.ts); a deny rule's paths: did not see it either;
 * - LVM's listings (pvs, vgs, lvs, *display, lvmdiskscan) ran with any option: `pvs --config
 *   'log/file="/home/app/.bashrc" log/overwrite=1'` truncates and writes a file anywhere, `--yes`
 *   answers their questions; only their read-only form is granted now.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const denyVerdict = (block: unknown, cmd: string) => shellCondition.compile(block, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL);

const PROGRAMS = ['parted', 'fdisk', 'sfdisk', 'tune2fs', 'blkid', 'echo', 'printf', 'cat', 'yes'];
const GRANT = (paths?: string[]) => ({ pipelines: true, programs: Object.fromEntries(PROGRAMS.map((p) => [p, paths === undefined ? {} : { paths }])) });
const { refuse, allow } = shellVerdicts(GRANT(['/dev', '/srv']));
const DENY = { programs: Object.fromEntries(PROGRAMS.map((p) => [p, { paths: ['/etc/shadow'] }])) };

before(async () => {
  await initShellParser();
});

describe('a read-only form fed standard input is a writing form', () => {
  const FED = ['echo Fix | parted /dev/sda print', 'printf "Fix\\nFix\\n" | parted /dev/sda print', 'yes | parted -s /dev/sda print',
    'cat /srv/answers | parted /dev/sda unit s print', 'echo | fdisk -l /dev/sda', 'echo Fix | sfdisk -d /dev/sda', 'echo y | tune2fs -l /dev/sda1'];

  test('under /dev, / or no paths: it is refused as a device write', () => {
    for (const grant of [GRANT(['/dev', '/srv']), GRANT(['/']), GRANT()]) refuse(FED, /storage device/, grant);
    // A grant naming the device gives it.
    allow(['echo Fix | parted /dev/sdb print'], GRANT(['/dev/sdb']));
  });

  test('a deny rule on any path matches it, fed by a pipe, a here-string, a here-document or a redirection', () => {
    const deny = [...FED, 'parted /dev/sda print <<< Fix', 'parted /dev/sda print < /srv/answers', 'parted /dev/sda print <<EOF\nFix\nEOF'];
    for (const cmd of deny) assert.equal(denyVerdict(DENY, cmd).matched, true, cmd);
  });

  test('its neighbours: the same forms unfed, and their output piped on, stay read-only', () => {
    const unfed = ['parted /dev/sda print', 'parted -s /dev/sda unit s print', 'fdisk -l /dev/sda', 'sfdisk -d /dev/sda', 'tune2fs -l /dev/sda1',
      'parted /dev/sda print | cat', 'fdisk -l /dev/sda | cat'];
    for (const grant of [GRANT(['/dev', '/srv']), GRANT(['/']), GRANT()]) allow(unfed, grant);
    for (const cmd of unfed) assert.equal(denyVerdict(DENY, cmd).matched, false, cmd);
  });
});

describe('an extraction into a folder that holds devices is a device write', () => {
  const ARCHIVERS = ['tar', 'unzip', 'cpio', '7z'];
  const grant = (paths?: string[]) => ({ programs: Object.fromEntries(ARCHIVERS.map((p) => [p, paths === undefined ? {} : { paths }])) });
  const deny = { programs: Object.fromEntries(ARCHIVERS.map((p) => [p, { paths: ['/etc/shadow'] }])) };
  const INTO = ['tar -xf /srv/x.tar -C /', 'tar -x -f /srv/x.tar -C /dev', 'tar -xf /srv/x.tar --directory=/dev/vg0', 'tar -x --file /srv/x.tar --dir /',
    'tar -xPf /srv/x.tar', 'tar -xf /srv/x.tar -C /srv/app -C /dev', 'unzip /srv/x.zip -d /dev', 'unzip -o /srv/x.zip -d /', 'unzip -: /srv/x.zip -d /srv/app',
    '7z x /srv/x.7z -o/dev', '7z x -spf /srv/x.7z -o/srv/app', 'cpio -i -D / -F /srv/x.cpio', 'cpio -idu -F /srv/x.cpio', 'cpio -i --no-absolute-filenames -D /dev -F /srv/x.cpio',
    'cpio -p /dev'];

  test('under a grant without paths: it is refused; a deny rule on any path matches it', () => {
    refuse(INTO, /^(tar|unzip|7z|cpio) writes into '\/[^']*' names its line does not give.*holds disks, partitions or memory.*no grant can name the devices it may write/, grant());
    for (const cmd of INTO) {
      const r = denyVerdict(deny, cmd);
      assert.equal(r.matched, true, cmd);
      assert.match(r.why, /so (it holds|they may lie under) \/etc\/shadow/, cmd);
    }
  });

  test('its neighbours: extraction elsewhere, to standard output, listing, or a device-free folder under /dev', () => {
    const fine = ['tar -xf /srv/x.tar -C /srv/app', 'tar -xf /srv/x.tar -C /dev/shm', 'tar -xOf /srv/x.tar -C /srv/app', 'tar -tf /srv/x.tar',
      'unzip /srv/x.zip -d /srv/app', 'unzip -l /srv/x.zip', 'unzip -p /srv/x.zip a -d /dev', '7z x /srv/x.7z -o/srv/app', '7z l /srv/x.7z',
      'cpio -i --no-absolute-filenames -D /srv/app -F /srv/x.cpio', 'cpio -it -F /srv/x.cpio'];
    allow(fine, grant());
    for (const cmd of fine) assert.equal(denyVerdict(deny, cmd).matched, false, cmd);
  });
});

describe("LVM's listings: only their read-only form", () => {
  const LVM = ['pvs', 'vgs', 'lvs', 'pvdisplay', 'vgdisplay', 'lvdisplay', 'lvmdiskscan'];
  const grant = (paths?: string[]) => ({ programs: Object.fromEntries(LVM.map((p) => [p, paths === undefined ? {} : { paths }])) });
  const CHANGING = ["pvs --config 'log/file=\"/home/app/.bashrc\" log/overwrite=1'", 'vgs --config=log/file=/home/app/.bashrc', 'lvs --profile thin-perf',
    'pvs --commandprofile x', 'vgs -y', 'lvs --yes', 'lvs --journal output', 'pvs --conf x', 'vgdisplay --devicesfile x', 'lvdisplay --lockopt x',
    'pvdisplay --driverloaded n', 'lvmdiskscan --config x', 'pvs -o pv_name --config x /dev/sda2'];

  test('an option outside it is refused by any grant, with or without paths:', () => {
    for (const g of [grant(), grant(['/dev', '/srv'])]) refuse(CHANGING, /is outside its read-only listing form/, g);
  });

  test('with a device, a deny rule on any path matches a form outside it', () => {
    const deny = { programs: { pvs: { paths: ['/etc/shadow'] } } };
    assert.equal(denyVerdict(deny, 'pvs --config x /dev/sda2').matched, true);
    assert.equal(denyVerdict(deny, 'pvs -o pv_name /dev/sda2').matched, false);
  });

  test('its neighbours: report options, selections, units, formats and devices stay granted', () => {
    const fine = ['pvs', 'pvs -o +pv_used --reportformat json', 'vgs -S vg_name=vg0 --units g', 'lvs -a -o lv_name,devices vg0', 'pvdisplay -m /dev/sda2',
      'vgdisplay -v vg0', 'lvdisplay -c', 'lvmdiskscan -l', 'pvs --noheadings --separator , -O pv_name', 'pvs /dev/sda2', "lvs --select 'lv_size>1g'",
      'vgs --reportformat=json_std --nosuffix --units=b', 'pvdisplay -C -o pv_name', 'lvs --readonly --nolocking'];
    allow(fine, grant());
    allow(fine, grant(['/dev', '/srv']));
  });
});
