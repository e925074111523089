/**
 * Red-team findings against the hops (exec-hops.ts): environment a hop gives its command,
 * `--` taken as an option's value, JSON entrypoints, and podman subcommands that run a command
 * on the host or in its machine.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const allows = (block: unknown, cmd: string): boolean => shellCondition.compile(block, { id: 'a', effect: 'allow' })(parseShell(cmd), CALL).matched;
const denies = (block: unknown, cmd: string): boolean => shellCondition.compile(block, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL).matched;
const RM = { programs: { rm: {} } };
const HOPS = { kubectl: {}, docker: {}, podman: {}, nerdctl: {}, ctr: {}, lxc: {}, incus: {}, machinectl: {} };

before(async () => {
  await initShellParser();
});

describe('hop bypasses', () => {
  it('environment a hop sets for its command is an assignment: never allowed, and seen by a deny rule', () => {
    const block = { programs: { ...HOPS, git: {}, uptime: {} } };
    for (const cmd of [
      "docker exec -e GIT_SSH_COMMAND='rm -rf /' web git fetch", 'docker exec --env=LD_PRELOAD=/tmp/x.so web uptime', 'docker exec -eLD_PRELOAD=/x web uptime',
      'docker run --env-file /tmp/e alpine uptime', 'podman run --env-merge PATH=/tmp alpine uptime', 'docker exec -e PATH=/tmp web uptime',
      'kubectl run t --image=busybox --env=LD_PRELOAD=/x -- uptime', 'kubectl debug web --image=busybox --env GIT_PAGER=x -- git log',
      'lxc exec c1 --env LD_PRELOAD=/x -- uptime', 'machinectl -E LD_PRELOAD=/x shell c1 uptime', 'ctr run --env LD_PRELOAD=/x alpine t1 uptime',
      'docker exec -e A=1 web uptime',
    ]) {
      assert.equal(allows(block, cmd), false, cmd);
    }
    for (const cmd of ['docker exec -w /tmp web uptime', 'docker exec -e HOME web uptime']) assert.equal(allows(block, cmd), true, cmd);
    for (const cmd of [
      "docker exec -e GIT_SSH_COMMAND='rm -rf /' web git fetch", "kubectl run t --image=busybox --env='GIT_SSH_COMMAND=rm /x' -- git fetch",
      'docker exec -e LD_PRELOAD=/tmp/x.so web uptime', 'docker run --env-file /tmp/e alpine uptime', "machinectl --setenv='PAGER=rm /x' shell c1 git log",
    ]) {
      assert.equal(denies(RM, cmd), true, cmd);
    }
    assert.equal(denies(RM, 'docker exec -e A=1 web uptime'), false);
  });

  it('kubectl create ... -- CMD: a -- that an option takes as its value is not where the command starts', () => {
    const block = { programs: { kubectl: {}, uptime: {} } };
    for (const cmd of ['kubectl create job j --image=busybox --cache-dir -- -- rm -rf /data', 'kubectl create job j --image=busybox --field-manager -- -- rm /x']) {
      assert.equal(denies(RM, cmd), true, cmd);
      assert.equal(allows(block, cmd), false, cmd);
    }
    for (const cmd of ['kubectl create job j --image=busybox -- uptime', 'kubectl create job j --image=busybox --save-config -- uptime', 'kubectl create job j --image busybox -- uptime']) {
      assert.equal(allows(block, cmd), true, cmd);
    }
  });

  it("podman --entrypoint as a JSON array names the program and its first arguments", () => {
    const block = { programs: { podman: {}, ls: { paths: ['/var/log'] } } };
    for (const cmd of [`podman run --entrypoint '["rm","-rf","/x"]' alpine`, `podman run --entrypoint=' ["rm"]' alpine /x`, `podman run --entrypoint '[rm' alpine`]) {
      assert.equal(denies(RM, cmd), true, cmd);
    }
    assert.equal(allows(block, `podman run --entrypoint '["ls","/var/log"]' alpine`), true);
    assert.equal(allows(block, `podman run --entrypoint '["ls","/etc"]' alpine`), false);
    assert.equal(allows(block, `podman run --entrypoint '["ls",1]' alpine`), false);
  });

  it('podman unshare runs its command on the host; podman machine ssh in the machine', () => {
    const block = { programs: { podman: {}, uptime: {} } };
    for (const cmd of ['podman unshare rm -rf /x', 'podman unshare --rootless-netns rm /x', 'podman --remote unshare rm', 'podman unshare', 'podman machine ssh rm -rf /x', 'podman machine ssh']) {
      assert.equal(allows(block, cmd), false, cmd);
      if (cmd !== 'podman unshare' && cmd !== 'podman machine ssh') assert.equal(denies(RM, cmd), true, cmd);
    }
    for (const cmd of ['podman unshare uptime', 'podman machine list', 'podman ps']) assert.equal(allows(block, cmd), true, cmd);
  });
  it('a kubectl plugin (kubectl-NAME on PATH) runs anything: refused unless named in subcommands:, any program to a deny rule', () => {
    const block = { programs: { kubectl: {}, uptime: {} } };
    const plugins = ['kubectl node-shell n1 -- rm -rf /x', 'kubectl node-shell n1', 'kubectl foo', 'kubectl ctx prod', 'kubectl create foo bar', 'kubectl exec p -- kubectl node-shell n1'];
    for (const cmd of plugins) assert.equal(allows(block, cmd), false, cmd);
    for (const cmd of ['kubectl node-shell n1 -- rm -rf /x', 'kubectl foo', 'kubectl create foo bar']) assert.equal(denies(RM, cmd), true, cmd);
    assert.equal(denies({ programs: { kubectl: { subcommands: ['delete'] } } }, 'kubectl node-shell n1'), true);
    for (const cmd of ['kubectl get pods', 'kubectl plugin list', 'kubectl -n x get pods', 'kubectl api-resources', 'kubectl create deployment d --image=x', 'kubectl create -f /x.yaml']) {
      assert.equal(allows(block, cmd), true, cmd);
    }
    for (const cmd of ['kubectl get pods', 'kubectl plugin list', 'kubectl create -f /x.yaml']) assert.equal(denies(RM, cmd), false, cmd);
    assert.equal(allows({ programs: { kubectl: { subcommands: ['get', 'node-shell'] } } }, 'kubectl node-shell n1'), true);
    assert.equal(allows({ programs: { kubectl: { subcommands: ['get'] } } }, 'kubectl node-shell n1'), false);
  });

  it('podman container runlabel and podman pod create|clone --infra-command run a command Warden cannot read', () => {
    const block = { programs: { podman: {}, uptime: {} } };
    for (const cmd of [
      'podman container runlabel install alpine', 'podman --remote container runlabel run alpine', 'podman runlabel install alpine',
      'podman pod create --infra-command /bin/evil', "podman pod create --infra-command='[\"rm\",\"-rf\",\"/x\"]'", 'podman pod clone --infra-command=/x p1',
    ]) {
      assert.equal(allows(block, cmd), false, cmd);
      assert.equal(denies(RM, cmd), true, cmd);
    }
    for (const cmd of ['podman pod create --name p1', 'podman pod ps', 'podman container ls', 'podman run alpine uptime']) {
      assert.equal(allows(block, cmd), true, cmd);
      assert.equal(denies(RM, cmd), false, cmd);
    }
  });
});
