/**
 * Hops into a container, a pod, a machine or a new container (`kubectl exec POD -- CMD`,
 * `docker run IMAGE CMD`, `machinectl shell NAME CMD`, ...): the command they run is judged as a
 * command of its own under the same rule, as ssh's remote command is.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initShellParser, parseShell, shellCondition } from '../../../tools/shared/shell/index.js';

const CALL = { tool: 'ssh_run', connection: 'web-1', args: {} };
const allows = (block: unknown, cmd: string): boolean => shellCondition.compile(block, { id: 'a', effect: 'allow' })(parseShell(cmd), CALL).matched;
const why = (block: unknown, cmd: string): string => shellCondition.compile(block, { id: 'a', effect: 'allow' })(parseShell(cmd), CALL).why;
const denies = (block: unknown, cmd: string): boolean => shellCondition.compile(block, { id: 'd', effect: 'deny' })(parseShell(cmd), CALL).matched;
const RM = { programs: { rm: {} } };
const LOG = ['/var/log'];
const HOPS = {
  kubectl: {}, oc: {}, docker: {}, podman: {}, nerdctl: {}, crictl: {}, ctr: {}, lxc: {}, incus: {}, machinectl: {},
};

before(async () => {
  await initShellParser();
});

describe('the command a hop runs', () => {
  it('kubectl exec: the command in the pod must be granted too, within its paths and flags', () => {
    const block = { programs: { kubectl: {}, ls: { paths: LOG }, uptime: {}, tail: { paths: LOG, deny_flags: ['-f'] } } };
    for (const cmd of [
      'kubectl exec web -- ls /var/log', 'kubectl -n shop exec -it web -c app -- ls -la /var/log', 'kubectl exec web --container=app -- uptime',
      'kubectl exec -n shop deploy/web -- tail -n 5 /var/log/x', 'kubectl --context prod exec web -- uptime', 'kubectl exec web -- kubectl exec db -- uptime',
      // other subcommands of a bare kubectl grant are unaffected
      'kubectl get pods', 'kubectl -n shop get pods -o wide', 'kubectl logs web -c app', 'kubectl describe pod web', 'kubectl get pods -- x',
    ]) {
      assert.equal(allows(block, cmd), true, cmd);
    }
    for (const cmd of [
      'kubectl exec web -- rm -rf /', 'kubectl exec web -- ls /etc', 'kubectl exec web -- tail -f /var/log/x', "kubectl exec web -- sh -c 'ls /var/log'",
      'kubectl exec web -- /bin/ls /var/log', 'kubectl exec web -- env rm /x', 'kubectl exec web -- kubectl exec db -- rm /x', "kubectl exec web -- 'A=1' uptime",
      'kubectl exec -it web -- bash',
    ]) {
      assert.equal(allows(block, cmd), false, cmd);
    }
    assert.match(why(block, 'kubectl exec web -- rm /x'), /kubectl exec.*'rm' is not allowed/);
  });

  it('the other hops into pods, containers and machines are judged the same way', () => {
    const block = { programs: { ...HOPS, ls: { paths: LOG }, uptime: {} } };
    const pairs: [string, string][] = [
      ['oc exec web -- ls /var/log', 'oc exec web -- rm /x'],
      ['oc rsh web ls /var/log', 'oc rsh -c app web rm /x'],
      ['kubectl debug -it web --image=busybox --target=app -- ls /var/log', 'kubectl debug web --image=busybox -- rm /x'],
      ['kubectl debug node/n1 -it --image=busybox -- uptime', 'kubectl debug node/n1 -it --image=busybox -- rm /x'],
      ['kubectl run t --image=busybox --restart=Never --command -- uptime', 'kubectl run t --image=busybox --rm -it --command -- rm /x'],
      ['kubectl run t --image=busybox -- ls /var/log', 'kubectl run t --image=busybox -- rm /x'],
      ['kubectl create job j --image=busybox -- uptime', 'kubectl create job j --image=busybox -- rm /x'],
      ['docker exec web ls /var/log', 'docker exec -it -u root web rm /x'],
      ['docker exec -e HOME -w /tmp web uptime', 'docker container exec web rm /x'],
      ['docker run --rm -v /a:/b alpine ls /var/log', 'docker run --rm --name x -p 80:80 alpine rm /x'],
      ['docker run --rm -it alpine uptime', 'docker run --rm --entrypoint rm alpine /x'],
      ['docker create alpine uptime', 'docker create alpine rm /x'],
      ['docker run --rm --entrypoint ls alpine /var/log', 'docker run --rm --entrypoint=ls alpine /etc'],
      ['podman exec web uptime', 'podman run --rm alpine rm /x'],
      ['nerdctl exec web uptime', 'nerdctl run --rm alpine rm /x'],
      ['crictl exec -it 1a2b ls /var/log', 'crictl exec 1a2b rm /x'],
      ['ctr task exec --exec-id e1 web uptime', 'ctr -n k8s.io t exec --exec-id e1 web rm /x'],
      ['ctr run --rm docker.io/library/alpine:3 t1 uptime', 'ctr run --rm docker.io/library/alpine:3 t1 rm /x'],
      ['lxc exec c1 -- ls /var/log', 'lxc exec c1 -- rm /x'],
      ['incus exec c1 --user 1000 -- uptime', 'incus exec c1 -- rm /x'],
      ['machinectl shell root@c1 uptime', 'machinectl shell root@c1 rm /x'],
    ];
    for (const [good, bad] of pairs) {
      assert.equal(allows(block, bad), false, bad);
      assert.equal(allows(block, good), true, good);
    }
    assert.equal(allows(block, 'machinectl shell root@c1 /usr/bin/uptime'), false, 'a program given as a path, as anywhere else');
    // other subcommands of a bare grant are unaffected
    for (const cmd of ['docker ps', 'docker logs -f web', 'docker images', 'podman ps -a', 'crictl ps', 'ctr images ls', 'lxc list', 'machinectl list', 'oc get pods']) {
      assert.equal(allows(block, cmd), true, cmd);
    }
  });

  it('a command that cannot be located is refused', () => {
    const block = { programs: { ...HOPS, uptime: {} } };
    for (const cmd of [
      'kubectl exec --bogus x web -- uptime', 'kubectl exec web uptime', 'kubectl exec web extra -- uptime', 'kubectl -A exec web -- uptime',
      'kubectl run t --image=busybox --overrides={} -- uptime', 'kubectl debug web --custom=/tmp/p.json --image=busybox -- uptime',
      'docker exec --bogus web uptime', "docker run --health-cmd 'rm /x' alpine uptime", 'docker compose exec web uptime', 'docker -Z run alpine uptime',
      'podman exec -l uptime', 'lxc exec c1 uptime', 'oc --bogus exec web -- uptime',
    ]) {
      assert.equal(allows(block, cmd), false, cmd);
    }
  });

  it('an interactive form with no command runs a shell: refused unless a shell is granted, and never when the line feeds it', () => {
    const noShell = { pipelines: true, programs: { ...HOPS, echo: {} } };
    const withShell = { pipelines: true, programs: { ...HOPS, echo: {}, sh: {} } };
    for (const cmd of [
      'kubectl exec -it web', 'kubectl exec -it web --', 'kubectl exec -i web -c app', 'oc rsh web', 'kubectl run t -it --image=busybox',
      'kubectl debug -it web --image=busybox', 'kubectl attach -i web', 'docker run -it alpine', 'docker exec -it web', 'podman run -i alpine',
      'machinectl shell', 'machinectl shell root@c1', 'machinectl login c1', 'lxc shell c1', 'lxc exec c1', 'crictl exec -it 1a2b',
    ]) {
      assert.equal(allows(noShell, cmd), false, cmd);
      assert.equal(allows(withShell, cmd), true, cmd);
      assert.equal(allows(withShell, `echo id | ${cmd}`), false, `echo id | ${cmd}`);
    }
    // no command and no terminal: the image's own program, which needs only the runtime's grant
    for (const cmd of ['docker run --rm alpine', 'kubectl run t --image=nginx', 'kubectl attach web', 'docker run -d nginx']) {
      assert.equal(allows(noShell, cmd), true, cmd);
    }
  });

  it('a deny rule sees the program a hop runs', () => {
    for (const cmd of [
      'kubectl exec web -- rm /x', 'kubectl -n shop exec -it web -c app -- rm -rf /', 'kubectl exec web -- nice rm /x', 'ssh h kubectl exec web -- rm /x',
      'docker exec web rm /x', 'docker run --rm --entrypoint rm alpine /x', 'docker run --rm alpine rm /x', 'oc rsh web rm /x',
      'kubectl run t --image=busybox --command -- rm /x', 'lxc exec c1 -- rm /x', 'machinectl shell c1 rm /x', 'ctr t exec --exec-id e web rm /x',
      'crictl exec 1a2b rm /x', 'kubectl exec web -- $X /x', 'kubectl exec --bogus x web -- ls', 'echo rm /x | kubectl exec -i web',
      'kubectl exec web -- sh -c "rm /x"',
    ]) {
      assert.equal(denies(RM, cmd), true, cmd);
    }
    for (const cmd of ['kubectl exec web -- ls /rm', 'kubectl get pods rm', 'docker run --name rm alpine ls', 'kubectl exec -it web', 'docker ps', 'kubectl exec rm -- ls']) {
      assert.equal(denies(RM, cmd), false, cmd);
    }
  });
});
