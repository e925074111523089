/**
 * How the subcommands that run a command in a pod, a container or a machine read their options
 * (exec-hops.ts): which take a value, so that the pod, the image and the command can be told
 * apart from an option's value. An option not listed here makes the command unknown (refused):
 * some set the command themselves (`kubectl run --overrides`, `kubectl debug --custom`,
 * `docker run --health-cmd`, `ctr run --config`, `podman exec --latest` drops the container word).
 */
import { rootOptions } from './subcommand-options.js';

/** How one hop subcommand reads its options. */
export interface HopOptions {
  /** Options that never take the next word (a value only as `--opt=value`). */
  booleans: readonly string[];
  /** Options whose value is attached (`-uX`, `--user=X`) or the next word. */
  values: readonly string[];
  /** cobra/pflag read options anywhere and end them at `--`; docker, urfave/cli and getopt with `+` stop at the first operand. */
  interspersed: boolean;
  /** Options that give the command standard input or a terminal. */
  interactive: readonly string[];
  /** Options that set the command's environment: `NAME=value` (or NAME, passed on), or a file of them (`files`). */
  env?: { values: readonly string[]; files?: readonly string[] };
}

const KUBE_ROOT = rootOptions('kubectl') ?? { boolean: [], value: [] };
const kube = (booleans: string[], values: string[], interactive: string[]): HopOptions => ({
  booleans: [...booleans, '-i', '--stdin', '-t', '--tty', '-q', '--quiet', ...KUBE_ROOT.boolean],
  values: [...values, '-c', '--container', '-f', '--filename', ...KUBE_ROOT.value],
  interspersed: true,
  interactive,
  env: { values: ['--env'] },
});
const STDIN_TTY = ['-i', '--stdin', '-t', '--tty'];

// kubectl v1.32 `kubectl exec|attach|run|debug --help`; flags with a default for a bare `--flag` (--dry-run, --cascade) never take the next word.
export const KUBE_EXEC = kube([], ['--pod-running-timeout'], STDIN_TTY);
export const KUBE_ATTACH = kube([], ['--pod-running-timeout'], ['-i', '--stdin']);
export const KUBE_RUN = kube(
  ['--attach', '--command', '--expose', '--force', '--leave-stdin-open', '--privileged', '-R', '--recursive', '--rm', '--save-config',
    '--show-managed-fields', '--wait', '--allow-missing-template-keys', '--dry-run', '--cascade'],
  ['--annotations', '--env', '--field-manager', '--grace-period', '--image', '--image-pull-policy', '-k', '--kustomize', '--labels',
    '--override-type', '--pod-running-timeout', '--port', '--restart', '--template', '--timeout'],
  [...STDIN_TTY, '--attach'],
);
export const KUBE_DEBUG = kube(
  ['--arguments-only', '--attach', '--keep-annotations', '--keep-init-containers', '--keep-labels', '--keep-liveness', '--keep-readiness',
    '--keep-startup', '--replace', '--same-node', '--share-processes'],
  ['--copy-to', '--env', '--image', '--image-pull-policy', '--profile', '--set-image', '--target'],
  [...STDIN_TTY, '--attach'],
);
// oc rsh (OpenShift 4): stops at the pod; no command runs --shell (/bin/sh).
export const OC_RSH: HopOptions = {
  booleans: ['-t', '--tty', '-T', '--no-tty', '-q', '--quiet'], values: ['-c', '--container', '-f', '--filename', '--shell', '--timeout'],
  interspersed: false, interactive: [],
};

const DOCKER_TTY = ['-i', '--interactive', '-t', '--tty'];
// docker exec (Docker 28), also nerdctl and podman (podman's --latest takes the container word away: unknown).
export const DOCKER_EXEC: HopOptions = {
  booleans: ['-d', '--detach', '-i', '--interactive', '--privileged', '-t', '--tty'],
  values: ['--detach-keys', '-e', '--env', '--env-file', '-u', '--user', '-w', '--workdir'],
  interspersed: false, interactive: DOCKER_TTY, env: { values: ['-e', '--env'], files: ['--env-file'] },
};
// docker run/create (Docker 28 `docker run --help`); --entrypoint is read by exec-hops.ts.
export const DOCKER_RUN: HopOptions = {
  booleans: ['-d', '--detach', '-i', '--interactive', '-t', '--tty', '--init', '--no-healthcheck', '--oom-kill-disable', '-P', '--publish-all',
    '--privileged', '-q', '--quiet', '--read-only', '--rm', '--sig-proxy', '--disable-content-trust'],
  values: ['--entrypoint', '--add-host', '--annotation', '-a', '--attach', '--blkio-weight', '--blkio-weight-device', '--cap-add', '--cap-drop',
    '--cgroup-parent', '--cgroupns', '--cidfile', '--cpu-count', '--cpu-percent', '--cpu-period', '--cpu-quota', '--cpu-rt-period',
    '--cpu-rt-runtime', '-c', '--cpu-shares', '--cpus', '--cpuset-cpus', '--cpuset-mems', '--detach-keys', '--device', '--device-cgroup-rule',
    '--device-read-bps', '--device-read-iops', '--device-write-bps', '--device-write-iops', '--dns', '--dns-opt', '--dns-option',
    '--dns-search', '--domainname', '-e', '--env', '--env-file', '--expose', '--gpus', '--group-add', '-h', '--hostname', '--ip', '--ip6',
    '--ipc', '--isolation', '--kernel-memory', '-l', '--label', '--label-file', '--link', '--link-local-ip', '--log-driver', '--log-opt',
    '--mac-address', '-m', '--memory', '--memory-reservation', '--memory-swap', '--memory-swappiness', '--mount', '--name', '--network',
    '--net', '--network-alias', '--net-alias', '--oom-score-adj', '--pid', '--pids-limit', '--platform', '-p', '--publish', '--pull',
    '--restart', '--runtime', '--security-opt', '--shm-size', '--stop-signal', '--stop-timeout', '--storage-opt', '--sysctl', '--tmpfs',
    '--ulimit', '-u', '--user', '--userns', '--uts', '-v', '--volume', '--volume-driver', '--volumes-from', '-w', '--workdir'],
  interspersed: false, interactive: [...DOCKER_TTY, '-a', '--attach'], env: { values: ['-e', '--env'], files: ['--env-file'] },
};
// podman run/create (podman 4/5) adds these to docker's.
export const PODMAN_RUN: HopOptions = {
  ...DOCKER_RUN,
  booleans: [...DOCKER_RUN.booleans, '--replace', '--env-host', '--no-hosts', '--read-only-tmpfs', '--rmi', '--rootfs', '--tls-verify', '--http-proxy',
    '--passwd', '--systemd'],
  values: [...DOCKER_RUN.values, '--pod', '--secret', '--arch', '--os', '--variant', '--authfile', '--creds', '--uidmap', '--gidmap',
    '--subuidname', '--subgidname', '--tz', '--umask', '--unsetenv', '--requires', '--pidfile', '--hostuser', '--image-volume',
    '--passwd-entry', '--group-entry', '--chrootdirs', '--cgroup-conf', '--cgroups', '--env-merge', '--sdnotify', '--seccomp-policy',
    '--personality', '--retry', '--retry-delay', '--decryption-key', '--cert-dir', '--conmon-pidfile', '--health-on-failure', '--init-path'],
  env: { values: ['-e', '--env', '--env-merge'], files: ['--env-file'] },
};
// podman unshare (podman 4/5): runs its command (none: $SHELL) in podman's user namespace, on the host.
export const PODMAN_UNSHARE: HopOptions = { booleans: ['--rootless-netns', '--rootless-cni'], values: [], interspersed: false, interactive: [] };

// crictl exec (cri-tools 1.3x; filters such as --name replace the container word: unknown).
export const CRICTL_EXEC: HopOptions = {
  booleans: ['-i', '--interactive', '-t', '--tty', '-s', '--sync'], values: ['--timeout'], interspersed: false, interactive: ['-i', '--interactive'],
};
// ctr task exec and ctr run / container create (containerd 1.7/2.0); run's --config spec may set the command (unknown).
export const CTR_EXEC: HopOptions = {
  booleans: ['-t', '--tty', '-d', '--detach'], values: ['--exec-id', '--cwd', '--user', '--fifo-dir', '--log-uri'], interspersed: false, interactive: ['-t', '--tty'],
};
export const CTR_RUN: HopOptions = {
  booleans: ['--rm', '-d', '--detach', '-t', '--tty', '--null-io', '--privileged', '--read-only', '--net-host', '--cni', '--allow-new-privs',
    '--seccomp', '--no-pivot', '--rootfs', '--remap-labels', '--privileged-without-host-devices'],
  values: ['--env', '--env-file', '--label', '--mount', '--cwd', '-u', '--user', '--snapshotter', '--runtime', '--fifo-dir', '--log-uri', '--cpus',
    '--cpu-shares', '--memory-limit', '--cap-add', '--cap-drop', '--platform', '--hostname', '--device', '--with-ns', '--pid-file', '--gpus',
    '--annotation', '--uidmap', '--gidmap', '--seccomp-profile', '--apparmor-default-profile', '--apparmor-profile'],
  interspersed: false, interactive: ['-t', '--tty'], env: { values: ['--env'], files: ['--env-file'] },
};
// lxc/incus exec (LXD 5, Incus 6): cobra, the command after `--`.
export const LXC_EXEC: HopOptions = {
  booleans: ['-n', '--disable-stdin', '-t', '--force-interactive', '-T', '--force-noninteractive', '-q', '--quiet', '--debug', '--verbose',
    '--force-local'],
  values: ['--cwd', '--env', '--mode', '--user', '--group', '--project'],
  interspersed: true, interactive: [], env: { values: ['--env'] },
};
// machinectl (systemd v252-v257): for `shell`, options stop at the machine name, and the words after it are the command.
export const MACHINECTL: HopOptions = {
  booleans: ['-h', '--help', '-a', '--all', '-l', '--full', '-q', '--quiet', '--no-pager', '--no-legend', '--no-ask-password', '--value'],
  values: ['-p', '--property', '-s', '--signal', '-H', '--host', '-M', '--machine', '-n', '--lines', '-o', '--output', '-E', '--setenv', '--uid',
    '--kill-whom', '--kill-who', '--format', '--verify', '--max-addresses'],
  interspersed: false, interactive: [], env: { values: ['-E', '--setenv'] },
};
