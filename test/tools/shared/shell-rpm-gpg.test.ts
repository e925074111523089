/**
 * Red-team finding: rpm and GnuPG run programs their options name. A grant of `rpm` for queries
 * (`rpm -qa`) allowed `rpm --eval '%(cmd)'`, `rpm -E '%{lua:os.execute(..)}'`, `rpm -D 'X %(cmd)'`,
 * `rpm --macros FILE`/`--load FILE`, `rpm -q --specfile x.spec` (a spec's `%(cmd)`) and
 * `rpm -qa --pipe CMD`: each ran the command (checked against rpm 4.18). A grant of `gpg` allowed
 * `gpg --photo-viewer CMD --list-options show-photos -k` (and `--photo-v CMD ... show-ph`), which
 * ran CMD (GnuPG 2.2.40), and `gpg-connect-agent -E /bin/sh -c CMD` ran CMD. `gpg --homedir DIR -k` and
 * `GNUPGHOME=DIR gpg -k` ran the photo viewer a DIR/gpg.conf sets. A deny rule naming a program
 * did not see the program behind them.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { injectionReason } from '../../../tools/shared/shell/injection-catalogue.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const denies = (block: unknown, cmd: string): boolean => shellCondition.compile(block, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL).matched;

const RPM = [
  "rpm --eval '%(id)'", "rpm -E '%{lua: os.execute(\"id\")}'", "rpm --eval='%(id)'", "rpm -qa -D '_dbpath %(id)'", "rpm --define='_dbpath %(id)' -qa",
  "rpm --predefine '_dbpath %(id)' -qa", 'rpm --macros /tmp/m -qa', 'rpm --load /tmp/m -qa', 'rpm --rcfile /tmp/rc -qa', "rpm -qa --pipe 'sh -c id'",
  'rpm -q --specfile /tmp/x.spec', "rpmquery --eval '%(id)'", "rpmkeys -D 'x %(id)' --checksig x.rpm", "rpmsign -D '__gpg /tmp/x' --addsign x.rpm",
  "rpmverify --pipe id -a", "rpmdb --eval '%(id)'",
];
const RPM_PROGRAMS = ['rpmbuild -ba /tmp/x.spec', 'rpmspec -P /tmp/x.spec', 'rpmspec -q /tmp/x.spec', "rpmlua -e 'os.execute(\"id\")'", 'rpmlua /tmp/x.lua'];
const GPG = [
  "gpg --photo-viewer 'sh -c id' --list-options show-photos -k", "gpg --photo-v 'id' --list-options show-ph -k", "gpg --photo-viewer='id' -k",
  'gpg --list-options=show-photos -k', 'gpg --list-options show-uid-validity,SHOW-PHOTOS -k', 'gpg --verify-options show-photos --verify x.sig',
  'gpg --edit-key KEY showphoto quit', 'gpg --exec-path /tmp --recv-keys ABC', 'gpg --agent-program /tmp/x -k', 'gpg --dirmngr-program=/tmp/x --recv-keys ABC',
  'gpg --options /tmp/gpg.conf -k', 'gpg --homedir /tmp/evil -k', 'gpg --command-file /tmp/cmds --edit-key KEY', 'gpg2 --photo-viewer id -k', 'gpg --load-extension /tmp/x.so -k',
];
const GPG_KIN = [
  "gpg-connect-agent -E /bin/sh -c 'id'", 'gpg-connect-agent --exec /tmp/x', 'gpg-connect-agent --agent-program /tmp/x /bye', 'gpgsm --agent-program /tmp/x -k',
  'dirmngr --ldap-wrapper-program /tmp/x --server', 'gpgtar --gpg /tmp/x -d x.tar', "gpgtar --gpg-args '--agent-program=/tmp/x' -d x.tar",
  'gpg-zip --tar /tmp/x -d x.gpg', 'gpg-connect-agent --homedir /tmp/evil /bye',
];
/** A home whose gpg.conf sets `photo-viewer` and `list-options show-photos` ran the viewer for `gpg -k` (GnuPG 2.2.40). */
const HOMES = ['GNUPGHOME=/tmp/evil gpg -k', 'RPM_CONFIGDIR=/tmp/evil rpm -qa'];
const HARMLESS = [
  'rpm -qa', 'rpm -q openssl', 'rpm -qi openssl', 'rpm -qf /etc/passwd', 'rpm -ql openssl', 'rpm -V openssl', 'rpm -qa --last',
  'gpg --list-keys', 'gpg -k --with-colons', 'gpg --verify x.sig x', 'gpg --list-options no-show-photos -k', 'gpg --keyserver hkps://keys.openpgp.org --recv-keys ABC',
  "gpg-connect-agent 'GETINFO version' /bye", 'gpgconf --list-dirs', 'gpgsm --list-keys',
];

before(async () => {
  await initShellParser();
});

describe('rpm and GnuPG', () => {
  it('an allow never grants the program they run', () => {
    const block = { programs: Object.fromEntries(['rpm', 'rpmquery', 'rpmkeys', 'rpmsign', 'rpmverify', 'rpmdb', 'rpmbuild', 'rpmspec', 'rpmlua', 'gpg', 'gpg2', 'gpg-connect-agent', 'gpgsm', 'dirmngr', 'gpgtar', 'gpg-zip', 'gpgconf'].map((p) => [p, {}])) };
    const { refuse, allow } = shellVerdicts(block);
    refuse(RPM, /Always denied: rpm\w* (-E|--eval|-D|--define|--predefine|--macros|--load|--rcfile|--pipe|--specfile) /);
    refuse(RPM_PROGRAMS, /Always denied: rpm(build|spec|lua) (runs a spec file|is an interpreter)/);
    refuse(GPG, /Always denied: gpg2? ('.*' runs the photo viewer|--\S+ \(spelled)/);
    refuse(GPG_KIN, /Always denied: (gpg-connect-agent|gpgsm|dirmngr|gpgtar|gpg-zip) (-E|--)/);
    allow(HARMLESS);
    for (const cmd of HOMES) assert.match(injectionReason(parseShell(cmd).commands[0] ?? { program: '', args: [], assignments: [] }) ?? '', /(GNUPGHOME|RPM_CONFIGDIR) makes programs load code/);
  });

  it('to a deny rule they run any program', () => {
    for (const cmd of [...RPM, ...RPM_PROGRAMS, ...GPG, ...GPG_KIN, ...HOMES]) assert.equal(denies({ programs: { rm: {} } }, cmd), true, cmd);
    for (const cmd of HARMLESS) assert.equal(denies({ programs: { rm: {} } }, cmd), false, cmd);
  });
});
