/**
 * Passwords given to a program by a flag or a position whose name says nothing (`mysql
 * -phunter2`, `curl -u alice:hunter2`, `sshpass -p`, `htpasswd -b FILE USER PASS`), as a `ps`
 * listing, a shell history, a cron table or a script printed over ssh_run/kubectl_exec shows
 * them. The named-secret masker (secret-text.ts) sees only secret-looking names; these forms
 * are masked through it, so every tool that masks named secrets masks these too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecretText, maskSecretStreams } from '../../../tools/shared/secret-text.js';
import { maskCredentialFlags } from '../../../tools/shared/credential-flags.js';
import { assertLinear } from '../../support/best-of.js';

/** Each line and what it must become: the secret is always Q...; nothing else holds a Q. */
const MASKED: [string, string][] = [
  ['root 123 0.0 mysql -uroot -pQQQQ shop', 'root 123 0.0 mysql -uroot -p*** shop'],
  ["mysqldump -u app -p'QQ QQ' db", 'mysqldump -u app -p*** db'],
  ['/usr/bin/mysql -h db -P 3306 -pQQQQ', '/usr/bin/mysql -h db -P 3306 -p***'],
  ['mariadb-dump --single-transaction -pQQQQ x', 'mariadb-dump --single-transaction -p*** x'],
  ['sshpass -p QQQQ ssh host uptime', 'sshpass -p *** ssh host uptime'],
  ['sshpass -pQQQQ rsync -a a b', 'sshpass -p*** rsync -a a b'],
  ['sshpass -p QQQQ ssh -p 2222 host', 'sshpass -p *** ssh -p 2222 host'], // ssh's own -p is a port
  ['curl -u alice:QQQQ https://x', 'curl -u alice:*** https://x'],
  ['curl -sSu alice:QQQQ https://x', 'curl -sSu alice:*** https://x'],
  ['curl -ualice:QQQQ https://x', 'curl -ualice:*** https://x'],
  ['curl --user alice:QQQQ https://x', 'curl --user alice:*** https://x'],
  ['curl --user=alice:QQQQ https://x', 'curl --user=alice:*** https://x'],
  ['curl --proxy-user p:QQQQ -x proxy https://x', 'curl --proxy-user p:*** -x proxy https://x'],
  ['redis-cli -h r -a QQQQ ping', 'redis-cli -h r -a *** ping'],
  ['ldapsearch -x -D cn=admin -w QQQQ -b dc=x', 'ldapsearch -x -D cn=admin -w *** -b dc=x'],
  ['smbclient //srv/share -U alice%QQQQ', 'smbclient //srv/share -U alice%***'],
  ['htpasswd -bc /etc/htpasswd alice QQQQ', 'htpasswd -bc /etc/htpasswd alice ***'],
  ['htpasswd -nb alice QQQQ', 'htpasswd -nb alice ***'],
  ['docker login -u bob -p QQQQ registry.example', 'docker login -u bob -p *** registry.example'],
  ['helm registry login r.example -u bob -p QQQQ', 'helm registry login r.example -u bob -p ***'],
  ["useradd -m -p 'QQ$6$QQ' bob", 'useradd -m -p *** bob'],
  ['sqlcmd -S srv -U sa -P QQQQ -d master', 'sqlcmd -S srv -U sa -P *** -d master'],
  ['lftp -u alice,QQQQ ftp.example', 'lftp -u alice,*** ftp.example'],
  ['rabbitmqctl add_user bob QQQQ', 'rabbitmqctl add_user bob ***'],
  ['rabbitmqctl change_password bob QQQQ', 'rabbitmqctl change_password bob ***'],
  ['mongosh -u admin -p QQQQ --host db', 'mongosh -u admin -p *** --host db'],
  ['  501  2024-05-01 10:00 sshpass -p "QQ QQ" scp f h:', '  501  2024-05-01 10:00 sshpass -p *** scp f h:'],
  ['cd /srv && mysql -pQQQQ -e "show tables"', 'cd /srv && mysql -p*** -e "show tables"'],
  ['openssl rsa -in k.pem -passin pass:QQQQ -out k2.pem', 'openssl rsa -in k.pem -passin pass:*** -out k2.pem'],
  ["openssl pkcs12 -export -passout 'pass:QQ QQ' -in c.pem", 'openssl pkcs12 -export -passout pass:*** -in c.pem'],
  ['vault login QQQQ', 'vault login ***'],
  ['az login --service-principal -u app -p QQQQ --tenant t', 'az login --service-principal -u app -p *** --tenant t'],
];

/**
 * A password echoed into `--password-stdin`: known by what follows it, so a cut before
 * `--password-stdin` (the output cap) shows the echoed word (not in the cut test below).
 */
const STDIN_MASKED: [string, string][] = [
  ['echo QQQQ | docker login r.example -u bob --password-stdin', 'echo *** | docker login r.example -u bob --password-stdin'],
  ["printf '%s' 'QQ QQ' | helm registry login r.example -u bob --password-stdin", "printf '%s' *** | helm registry login r.example -u bob --password-stdin"],
];

/** Lines that hold no password in these forms and must come back unchanged. */
const KEPT = [
  'mysql -p shop', // -p alone: mysql prompts; "shop" is the database
  'mysql -P 3306 -h db shop',
  'docker run -p 8080:80 nginx', // -p publishes a port outside `login`
  'curl -u alice https://x', // no colon: curl prompts
  'redis-cli -h r ping',
  'ssh -p 2222 host', // -p is a port for ssh
  'mysql -pQQ; echo -p kept', // the first is masked (checked below); the echo is another command
  'grep -p mysql file',
  'ps -p 1234',
  'htpasswd -c /etc/htpasswd alice', // no -b: prompts
  'openssl rsa -in k.pem -passin env:KEY_PASS', // env:, file:, fd: name where the password is
  'openssl enc -pass file:/run/secrets/k -in f',
  'vault login -method=oidc', // prompts in a browser
  'vault kv get secret/app',
  'az group list -p x', // -p outside `login`
  'echo "$REGISTRY_TOKEN" | docker login -u bob --password-stdin', // a variable names where it is
  'echo done | tee log', // no --password-stdin
];

test('passwords given by program-specific flags and positions are masked', () => {
  for (const [line, want] of [...MASKED, ...STDIN_MASKED]) {
    assert.equal(maskCredentialFlags(line), want, line);
    assert.equal(maskSecretText(line), want, `through maskSecretText: ${line}`);
  }
});

test('the same flags of other programs, and prompting forms, are kept', () => {
  for (const line of KEPT.filter((l) => !l.includes('QQ'))) assert.equal(maskCredentialFlags(line), line, line);
  assert.equal(maskCredentialFlags('mysql -pQQ; echo -p kept'), 'mysql -p***; echo -p kept');
});

test('a value cut at any byte (the output cap) is still masked', () => {
  for (const [line] of MASKED) {
    const text = `before\n${line}\nafter\n`;
    for (let cut = 0; cut <= text.length; cut++) {
      const out = maskCredentialFlags(text.slice(0, cut));
      assert.ok(!out.includes('Q'), `cut at ${cut}: ${JSON.stringify(text.slice(0, cut))} -> ${JSON.stringify(out)}`);
    }
  }
});

test('the masked values are counted with the named ones', () => {
  const r = maskSecretStreams({ stdout: 'DB_PASSWORD=QQ\n', stderr: 'mysql -uroot -pQQ x\ncurl -u a:QQ h\n' });
  assert.equal(r.masked, 3);
  assert.ok(!JSON.stringify(r.streams).includes('QQ'));
});

test('many program names on one long line cost linear time', () => {
  for (const unit of ['mysql ', 'curl -u ', 'htpasswd -b ', 'sshpass -p ', 'docker login ', 'mysql -p"', 'echo x | ', 'echo echo echo ', "printf '%s' "]) {
    assertLinear(unit, (n) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n), maskCredentialFlags, { small: 20_000, maxMs: 5000 });
    // With a --password-stdin at the end, so the echo form is read at all.
    assertLinear(`${unit}+stdin`, (n) => `${unit.repeat(Math.ceil(n / unit.length)).slice(0, n)} --password-stdin`, maskCredentialFlags, { small: 20_000, maxMs: 5000 });
  }
});
