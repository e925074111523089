/**
 * End to end, red team: more programs that rewrite what they read so that masking no longer
 * finds a secret by its name (or a card number by its digits), granted like any reading
 * program: `unexpand -t 4` (a block value's lines indented less than its name, so the block
 * seems to end), `colrm 1 12` (the columns of the name removed), `tac -s =` (the value printed
 * before its name, on its own line) and `numfmt --from-unit=10` (a card number with a digit added;
 * xargs, which would print every word on its own line, is always refused: it runs other programs). Through a real sshd:
 * each is refused unless the grant says `rewrites: true` (rewriters.ts, output-shape.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAppFixture, type AppFixture } from '../support/ssh-warden.js';

const LEAK = 'hunter2';
let fx: AppFixture;
let APP = '';

const FIXTURES: Record<string, string> = {
  '.env': 'DB_PASSWORD=hunter2-RESHAPE-env\nLOG_LEVEL=debug\n',
  'app.yaml': 'db:\n  password: |\n    hunter2-RESHAPE-block\n  port: 5432\n',
  'app.log': 'order 4111111111111111 paid\n',
};

const call = (command: string) => fx.call(command);

before(async () => {
  fx = await startAppFixture('wsshreshape-', FIXTURES, ['cat', 'unexpand', 'colrm', 'tac', 'numfmt']);
  APP = fx.app;
});

after(async () => {
  await fx?.close();
});

describe('ssh_run: programs that reshape lines so masking loses the name', () => {
  test('unexpand, colrm, tac -s and numfmt are refused without rewrites: true', async () => {
    const shown: string[] = [];
    for (const cmd of [
      `cat ${APP}/app.yaml | unexpand -a -t 4`,
      `cat ${APP}/.env | colrm 1 12`,
      `tac -s = ${APP}/.env`,
      `cat ${APP}/app.log | numfmt --field=2 --from-unit=10 -d ' '`,
    ]) {
      const r = await call(cmd);
      if (!r.isError || r.text.includes(LEAK) || r.text.includes('41111111')) shown.push(`${cmd} => ${r.text}`);
      else assert.match(r.text, /rewrites: true|allow_flags/, cmd);
    }
    assert.deepEqual(shown, []);
  });

  test('plain tac still runs', async () => {
    const r = await call(`tac ${APP}/.env`);
    assert.equal(r.isError, false, r.text);
    assert.match(r.text, /LOG_LEVEL=debug\\nDB_PASSWORD=\*\*\*/);
  });
});
