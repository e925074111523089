/**
 * Red team of an inspection grant with no restrictions, second pass: programs people list to look
 * at the host that still wrote a file or changed the host. `xxd IN OUT` (also `-r`) writes OUT,
 * `file -C` writes NAME.mgc in the current folder, `yq -i` rewrites its files and `sort -T DIR`
 * writes temporary files in DIR: each now needs `paths:` (operands.ts READERS_THAT_WRITE).
 * `hwclock --set/-s/-w/-a`, `mount`/`umount` with an operand, `iptables -F/-Z/...`, `crontab -r/-e`
 * and the changing verbs of ip, nmcli, nft, systemctl, timedatectl, hostnamectl, resolvectl and
 * loginctl change the host: never granted by an allow (a verb only when `subcommands:` names it;
 * state-options.ts CHANGES). And two over-refusals are gone: `dmesg -fkern` (-f takes a value,
 * so its `n` is no `-n`) and `sysctl -r PATTERN` with `=` in the pattern.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initShellParser } from '../../../tools/shared/shell/index.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const NAMES = ['xxd', 'file', 'yq', 'sort', 'echo', 'hwclock', 'mount', 'umount', 'iptables', 'crontab', 'ip', 'nmcli', 'nft', 'systemctl',
  'timedatectl', 'hostnamectl', 'resolvectl', 'loginctl', 'dmesg', 'sysctl'];
// xxd and yq rewrite what they read: this grant says so (rewriters.ts), as an inspection grant listing them would.
const BLOCK = { pipelines: true, programs: Object.fromEntries(NAMES.map((n) => [n, n === 'xxd' || n === 'yq' ? { rewrites: true } : {}])) };
const { verdict, refuse, allow } = shellVerdicts(BLOCK);

before(async () => {
  await initShellParser();
});


test('reading programs that write: xxd OUT, file -C, yq -i, sort -T need paths:', () => {
  refuse(['xxd /etc/passwd /home/app/.bashrc', 'xxd -r /tmp/dump /usr/local/bin/x', 'xxd -ps /etc/x /tmp/o', 'xxd -c 8 -- /etc/x /tmp/o',
    'yq -i .a=1 /etc/app.yaml', 'yq --inplace .a=1 /etc/app.yaml', 'yq -y --in-place .a=1 /etc/app.yaml', 'sort -T /etc /var/log/x',
    'sort -T/etc /var/log/x', 'sort --temporary-directory=/root /var/log/x'], /writes '.*', and this grant has no paths: to bound where/);
  refuse(['file -C -m /tmp/x.magic', 'file -C', 'file --compile'], /file writes 'the current folder/);
  allow(['xxd /etc/hostname', 'xxd -r /tmp/dump', 'xxd -ps -c 16 /etc/x', 'xxd -s 10 -l 32 /etc/x', 'file /etc/passwd', 'file -m /tmp/x /etc/passwd',
    'yq -y .a /etc/app.yaml', 'echo a | sort -k2']);
  const P = { paths: ['/srv/app'] };
  const bounded = { programs: { xxd: { ...P, rewrites: true }, file: P, yq: { ...P, rewrites: true }, sort: P } };
  allow(['xxd /srv/app/a /srv/app/b', 'yq -i .a=1 /srv/app/x.yaml', 'sort -T /srv/app/tmp /srv/app/in'], bounded);
  refuse(['xxd /srv/app/a /tmp/b', 'sort -T /tmp /srv/app/in', 'file -C -m /srv/app/x'], /outside|not an absolute path/, bounded);
});

test('inspection tools whose options or operands change the host are never granted', () => {
  refuse(['hwclock --set --date 2020-01-01', 'hwclock --systohc', 'hwclock -w', 'hwclock -s', 'hwclock --adjust', 'hwclock --sys', 'hwclock -uw'],
    /hwclock .* sets the hardware or system clock/);
  refuse(['mount /dev/sda1 /mnt', 'mount -o remount,rw /', 'mount -a', 'mount --bind /a /b', 'mount --make-private /'], /mount .* mounts/);
  refuse(['umount /mnt', 'umount -a', 'umount -l -- /x'], /umount .* unmounts/);
  refuse(['iptables -F', 'iptables -t nat -L -Z', 'iptables -A INPUT -j ACCEPT', 'iptables --pol INPUT ACCEPT'], /changes the firewall rules/);
  refuse(['crontab -r', 'crontab -e', 'crontab -ir'], /removes or edits the crontab/);
  allow(['hwclock', 'hwclock -r', 'hwclock --show', 'hwclock --get', 'mount', 'mount -l', 'mount -t ext4', 'iptables -nvL', 'iptables -S',
    'iptables -t nat -L -n', 'crontab -l']);
});

test('verb tools read only with their reading verbs, unless subcommands: names the verb', () => {
  refuse(['ip link set eth0 down', 'ip addr add 10.0.0.9/24 dev eth0', 'ip route flush all', 'ip l s eth0 down', 'ip -4 route replace default via 10.0.0.1',
    'ip rule del pref 100', 'ip neigh change 10.0.0.2 dev eth0'], /ip '.*' changes the network configuration/);
  refuse(['nmcli con mod x ipv4.dns 1.1.1.1', 'nmcli dev disconnect eth0'], /nmcli '.*' changes the network configuration/);
  refuse(['nft flush ruleset', "nft 'list ruleset; flush ruleset'", 'nft add rule inet t c drop', 'nft -f /tmp/rules'], /nft .* changes the firewall/);
  refuse(['systemctl stop nginx', 'systemctl -p status stop nginx', 'systemctl daemon-reload', 'systemctl mask sshd'], /systemctl 'stop|daemon-reload|mask'/);
  refuse(['timedatectl set-time 2020-01-01', 'timedatectl set-ntp false', 'hostnamectl set-hostname evil', 'hostnamectl hostname evil',
    'resolvectl dns eth0 10.0.0.66', 'resolvectl flush-caches', 'loginctl terminate-user app', 'loginctl kill-session 3', 'loginctl enable-linger app'],
  /(timedatectl|hostnamectl|resolvectl|loginctl) '.*' (sets|changes|terminates)/);
  allow(['ip addr', 'ip addr show', 'ip -br a', 'ip -s link show dev eth0', 'ip route get 1.1.1.1', 'ip route list table main', 'nmcli', 'nmcli d s',
    'nmcli con show', 'nft list ruleset', 'systemctl', 'systemctl status nginx', 'systemctl list-units --failed', 'systemctl is-active nginx',
    'systemctl show -p ActiveState nginx', 'timedatectl', 'timedatectl status', 'hostnamectl', 'hostnamectl hostname', 'resolvectl status', 'resolvectl dns eth0',
    'loginctl list-sessions', 'loginctl user-status app']);
  // `systemctl cat` reads too, but prints the unit's Environment= lines: environment: true (shell-service-environment.test.ts).
  allow(['systemctl cat nginx'], { programs: { systemctl: { environment: true } } });
  // Naming a changing verb grants it, as an admin's choice.
  allow(['systemctl restart nginx'], { programs: { systemctl: { subcommands: ['restart'] } } });
});

test('option values are not options or operands: dmesg -fkern, sysctl -r with = in the pattern', () => {
  allow(['dmesg -fkern', 'dmesg -f kern', 'dmesg -Tfkern,daemon', 'dmesg --facility=kern', 'dmesg -lerr,warn', 'sysctl -r a=b', "sysctl -r '^net.*=.*'",
    'sysctl -ra=b', 'sysctl --pattern=x=y']);
  refuse(['dmesg -fkern -n1', 'dmesg -Tc', 'dmesg -c -fkern', 'dmesg --console-level 1'], /dmesg .* clears the kernel log or changes console/);
  refuse(['sysctl -r x a=b', 'sysctl -r x -w a=1', 'sysctl -- -r=1'], /sysctl .* sets kernel parameters/);
});

test('with subcommands:, ip verbs still need naming; a named subcommand verb is judged by subcommands: alone', () => {
  refuse(['ip link set eth0 down'], /ip 'set' changes the network configuration/, { programs: { ip: { subcommands: ['link'] } } });
  allow(['ip link show', 'ip link'], { programs: { ip: { subcommands: ['link'] } } });
  allow(['ip link set eth0 up'], { programs: { ip: { subcommands: ['link', 'set'] } } });
  refuse(['systemctl -p status stop nginx'], /systemctl stop is not an allowed subcommand/, { programs: { systemctl: { subcommands: ['status'] } } });
});
