/**
 * Red team of a "read-only inspection" grant with no `paths:` (cat, ls, grep, find, awk, sed -n,
 * sort, uniq, journalctl, echo, ...): what it still let through that writes or reaches another host.
 * - gawk opens a TCP/UDP connection for a data-file operand named `/inet/tcp/0/HOST/PORT` (also
 *   `/inet4/`, `/inet6/`, `/inet/udp/`): a grant of awk read from any host the target reaches.
 * - `sort -o FILE`, `uniq IN OUT` and `journalctl --cursor-file=FILE` write FILE; with no `paths:`
 *   to bound them they wrote anywhere, such as `echo CMD | sort -o /home/app/.bashrc`, which the
 *   login shell runs on the next call (a deny rule never sees that command).
 * Each is now refused by the allow rule; the legitimate reads still pass.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initShellParser } from '../../../tools/shared/shell/index.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const BLOCK = {
  pipelines: true,
  programs: {
    cat: {}, ls: {}, grep: {}, find: {}, head: {}, tail: {}, awk: { rewrites: true }, gawk: { rewrites: true }, sed: { allow_flags: ['-n'], rewrites: true }, sort: {}, uniq: {}, echo: {},
    journalctl: {}, ps: {}, df: {}, systemctl: { subcommands: ['status'] }, git: { subcommands: ['log'] },
  },
};
const { verdict, refuse, allow } = shellVerdicts(BLOCK);

before(async () => {
  await initShellParser();
});


test('gawk network special files as data operands reach another host: refused', () => {
  refuse([
    "awk '{print}' /inet/tcp/0/10.0.0.5/6379", "awk 1 /inet4/tcp/0/db/5432", "gawk 1 /inet6/udp/0/::1/53", "awk -F: 1 -- /inet/tcp/0/h/80",
    "awk -e 'BEGIN{}' /inet/tcp/0/h/80", "awk --source='{print}' /var/log/x /inet/tcp/0/h/80", "awk 1 //inet/tcp/0/h/80",
  ], /awk '.*' opens a network connection/);
});

test('awk programs and files that only look alike still pass', () => {
  allow(["awk '/inet/ {print $2}' /var/log/x", "awk '/inet/'", "awk -F/ '{print $2}' /var/log/inet/x", "awk '{print}' /srv/inet/tcp"]);
});

test('a reading grant without paths: does not write through sort -o, uniq OUT or journalctl --cursor-file', () => {
  refuse([
    'echo id | sort -o /home/app/.bashrc', 'sort -o/etc/cron.d/x /var/log/a', 'sort --output=/root/.profile /var/log/a', 'sort --out /tmp/x /var/log/a',
    'sort -ro /tmp/x /var/log/a', 'echo x | uniq - /home/app/.bashrc', 'uniq -c /var/log/a /tmp/out', 'uniq -- /var/log/a /tmp/out',
    'journalctl --cursor-file=/home/app/.bashrc', 'journalctl --cursor-f /tmp/c',
  ], /writes '.*', and this grant has no paths: to bound where/);
});

test('reads stay allowed; with paths: the writes are judged under the prefixes as before', () => {
  allow(['sort /var/log/a', 'sort -rn /var/log/a', 'uniq -c /var/log/a', 'echo x | uniq', 'uniq /var/log/a -', 'journalctl -u nginx -n 5',
    'sort -k2 -t: /etc/passwd', 'echo x | sort']);
  const P = { paths: ['/srv/app'] };
  const bounded = { pipelines: true, programs: { sort: P, uniq: P, echo: {} } };
  allow(['sort -o /srv/app/out /srv/app/in', 'uniq /srv/app/a /srv/app/b'], bounded);
  refuse(['sort -o /tmp/x /srv/app/in'], /outside/, bounded);
});

test('inspection tools whose option or operand changes the host are never granted by an allow', () => {
  const block = { pipelines: true, programs: { dmesg: {}, sysctl: {}, hostname: {}, domainname: {}, ss: {} } };
  refuse(['dmesg -c', 'dmesg --read-clear', 'dmesg -C', 'dmesg --clear', 'dmesg --cle', 'dmesg -Tc', 'dmesg -n 1', 'dmesg --console-level=1',
    'dmesg -D', 'dmesg --console-off', 'dmesg -E', 'dmesg --console-on'], /dmesg .* clears the kernel log or changes console logging/, block);
  refuse(['sysctl -w net.ipv4.ip_forward=1', 'sysctl net.ipv4.ip_forward=1', 'sysctl -p', 'sysctl -p /tmp/x', 'sysctl -f /tmp/x',
    'sysctl --load=/tmp/x', 'sysctl --system', 'sysctl --wr kernel.x=1', 'sysctl -- kernel.x=1'], /sysctl .* sets kernel parameters/, block);
  refuse(['hostname evil', 'hostname -F /tmp/x', 'hostname --file /tmp/x', 'hostname -b x', 'hostname -- evil', 'domainname evil'],
    /sets the host or domain name/, block);
  refuse(['ss -K dst 10.0.0.1', 'ss -tK', 'ss --kill', 'ss --ki'], /ss .* closes other processes' sockets/, block);
  allow(['dmesg', 'dmesg -T', 'dmesg --level=err,warn', 'dmesg -H -P', 'sysctl -a', 'sysctl net.ipv4.ip_forward', 'sysctl -n kernel.hostname',
    'hostname', 'hostname -f', 'hostname -I', 'domainname', 'ss -tlnp', 'ss -s'], block);
});
