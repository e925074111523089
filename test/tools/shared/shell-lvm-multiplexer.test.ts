/**
 * Red team of `lvm`, LVM's multiplexer (state-options.ts, device-metadata.ts). A grant of `lvm`
 * ran every LVM command: `lvm lvremove -y vg0/data`, `lvm vgchange -an`, the listings outside
 * their read-only form (`lvm pvs --config 'log/file=...'` writes any file), `lvmconfig --file X`
 * (writes X), and `lvm` with no command, `-` or a script file operand, which reads commands
 * Warden never sees (`echo lvremove -y vg0/data | lvm`). Now `lvm` is a verb tool: it runs its
 * reading commands in their read-only form, others only when the grant's `subcommands:` names them.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const GRANT = { pipelines: true, programs: { lvm: {}, pvs: {}, echo: {}, lvmconfig: {} } };
const { refuse, allow } = shellVerdicts(GRANT);

before(async () => {
  await initShellParser();
});

describe('lvm runs only its reading commands, in their read-only form', () => {
  test('a changing command is refused unless subcommands: names it', () => {
    refuse(['lvm lvremove -y vg0/data', 'lvm vgchange -an', 'lvm lvchange -an vg0/data', 'lvm pvcreate /dev/sdb', 'lvm vgcfgrestore vg0', 'lvm lvcreate -L1G vg0'],
      /lvm '(lvremove|vgchange|lvchange|pvcreate|vgcfgrestore|lvcreate)' is not one of its reading commands/);
  });

  test('no command, `-`, a file operand or a leading option is refused: lvm reads commands Warden cannot see', () => {
    refuse(['lvm', 'echo lvremove -y vg0/data | lvm', 'lvm -', 'lvm /srv/script.lvm', 'lvm ./x', 'lvm --config x pvs'],
      /lvm .*(reads its commands from standard input or a script file|is not one of its reading commands)/);
  });

  test('a reading command is judged by the same allow-list as the standalone program', () => {
    refuse(["lvm pvs --config 'log/file=\"/home/app/.bashrc\" log/overwrite=1'", 'lvm vgs --profile x', 'lvm lvs --yes', 'lvm fullreport --config x',
      'lvm lvmconfig --file /home/app/.bashrc', 'lvm dumpconfig -f /tmp/x', 'lvm config --config x', 'lvm version --config x', 'lvmconfig --file /home/app/.bashrc',
      'lvmconfig -f/tmp/x'], /is outside its read-only (listing )?form/);
  });

  test('its neighbours: reading commands, the standalone listings, and a command the grant names', () => {
    allow(['lvm pvs', 'lvm pvs -o +pv_uuid', 'lvm vgs -S vg_name=vg0 --units g', 'lvm lvs -a -o lv_name,devices vg0', 'lvm pvdisplay -m /dev/sda2',
      'lvm lvmdiskscan -l', 'lvm fullreport --reportformat json', 'lvm version', 'lvm help', 'lvm help lvremove', 'lvm formats', 'lvm segtypes', 'lvm types',
      'lvm tags', 'lvm lvmconfig', 'lvm lvmconfig global/umask', 'lvm dumpconfig --type default --withcomments', 'lvm config -l', 'pvs', 'pvs -o +pv_uuid',
      'lvmconfig --typeconfig full devices', 'lvm pvs | echo']);
    refuse(['pvs --config x'], /is outside its read-only listing form/);
    const named = { pipelines: true, programs: { echo: {}, lvm: { subcommands: ['lvchange', 'pvs'] } } };
    allow(['lvm lvchange -an vg0/data', 'lvm pvs -o +pv_uuid'], named);
    refuse(['lvm pvs --config x'], /is outside its read-only listing form/, named);
    refuse(['lvm lvremove -y vg0/data', 'lvm /srv/script.lvm'], /is not an allowed subcommand/, named);
    refuse(['lvm', 'echo lvremove | lvm'], /reads its commands from standard input/, named);
  });

  test('a deny rule of lvm is not widened by these', () => {
    const deny = shellCondition.compile({ programs: { lvm: { paths: ['/etc/shadow'] } } }, { id: 'd', effect: 'deny' });
    assert.equal(deny(parseShell('lvm pvs'), CALL).matched, false);
  });
});
