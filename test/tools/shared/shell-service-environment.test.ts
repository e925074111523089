/**
 * Red team of a read-only service grant (`systemctl: { subcommands: [status, show, cat,
 * list-units] }`, docker and podman to look at containers): `systemctl show -p Environment app`,
 * `systemctl show app` (every property, Environment= among them), `systemctl cat app` (the unit
 * file, `Environment=DATABASE_PASSWORD=...`) and `docker inspect app` (Config.Env) printed a
 * service's secrets. Now these forms, in every option spelling systemctl's getopt or pflag
 * reads, are refused unless the grant says `environment: true`; `systemctl status`, `show -p
 * ActiveState`, `docker ps` and an inspect with a plain field template still pass.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initShellParser, shellCondition } from '../../../tools/shared/shell/index.js';
import { shellVerdicts } from '../../support/shell-verdicts.js';

const BLOCK = {
  pipelines: true,
  programs: {
    systemctl: { subcommands: ['status', 'show', 'cat', 'list-units', 'show-environment', 'is-active'] },
    docker: {}, podman: {}, nerdctl: {}, crictl: {}, pm2: {}, grep: {}, ssh: {},
  },
};
const { refuse, allow } = shellVerdicts(BLOCK);
const NOT_GRANTED = /which may hold secrets; this grant does not say environment: true\.$/;

before(async () => {
  await initShellParser();
});

test('systemctl show with an environment property, in every spelling, is refused', () => {
  refuse(['systemctl show -p Environment app', 'systemctl show --property=Environment app', 'systemctl show -pEnvironment app',
    'systemctl show --property Environment,ExecStart app', 'systemctl show app -p Environment', 'systemctl show -p Id -p Environment app',
    'systemctl -p Environment show app', 'systemctl show --prop=Environment app', 'systemctl show --proper Environment app',
    'systemctl show -ap Environment app', 'systemctl show -P Environment app', 'systemctl show -PEnvironment app', 'systemctl show -p environment app',
    'systemctl show -p PassEnvironment app', 'systemctl show -p EnvironmentFiles app', "systemctl show -p 'Env*' app", 'systemctl show -p Id,\\ Environment app',
    'systemctl --user show -p Environment app', 'ssh h systemctl show -p Environment app', 'systemctl status app | systemctl show -p Environment app'],
  /systemctl show property '.*' prints the unit's environment, which may hold secrets; this grant does not say environment: true/);
});

test('systemctl show without a property, cat and show-environment are refused', () => {
  refuse(['systemctl show app', 'systemctl show', 'systemctl show --all app', 'systemctl --no-pager show app', 'systemctl show -p "" app', 'systemctl show -p , app'],
    /systemctl show without -p\/--property prints every property, Environment= among them/);
  refuse(['systemctl cat app', 'systemctl cat app.service', 'systemctl --no-pager cat app', 'systemctl cat -- app'], /systemctl cat prints the unit's file/);
  refuse(['systemctl show-environment', 'systemctl --user show-environment'], /systemctl show-environment prints the service manager's environment/);
  // An option Warden cannot read may hide which word is the verb: refused when a reading verb is on the line.
  refuse(['systemctl show --bogus x app', 'systemctl show --p Id app'], /cannot be told/);
  for (const line of ['systemctl show app', 'systemctl cat app', 'systemctl show -p Environment app']) refuse([line], NOT_GRANTED);
});

test('systemctl status, list-units and show of other properties still pass', () => {
  allow(['systemctl status app', 'systemctl status -n 50 app', 'systemctl status --lines=5 --no-pager app', 'systemctl list-units --type=service',
    'systemctl show -p ActiveState app', 'systemctl show --property=ActiveState,SubState,MainPID app', 'systemctl show -pActiveState app',
    'systemctl show -P ActiveState app', 'systemctl show --value -p ExecMainStartTimestamp app', 'systemctl is-active app',
    'systemctl status app | grep Active']);
});

test('docker, podman and nerdctl inspect print Config.Env unless the format names plain fields outside it', () => {
  refuse(['docker inspect app', 'docker container inspect app', 'docker image inspect nginx', 'docker inspect --type container app',
    "docker inspect -f '{{.Config.Env}}' app", "docker inspect --format='{{json .Config}}' app", "docker inspect --format '{{.}}' app",
    "docker inspect -f '{{.State.Status}}' -f '{{.Config.Env}}' app", "docker inspect -sf '{{.State.Status}}' app", "docker inspect -f '{{ .Config }}' app",
    "docker inspect -f '{{range .Config.Env}}{{.}}{{end}}' app", "docker service inspect -f '{{.Spec}}' web", 'docker --context prod inspect app',
    'podman inspect app', 'podman inspect --format json app', 'podman pod inspect p', 'nerdctl inspect app'], /inspect prints the object's configuration, its environment \(Config\.Env\)/);
  refuse(['docker compose config', 'docker compose -f x.yml config'], /compose config prints the project with its environment interpolated/);
  refuse(['podman kube generate app', 'podman generate kube app'], /prints the pod's YAML/);
  refuse(['docker --bogus inspect app'], /cannot tell the subcommand of docker/);
  allow(['docker ps', 'docker ps -a', 'docker logs app', 'docker stats --no-stream', 'docker images', "docker inspect -f '{{.State.Status}}' app",
    "docker inspect --format='{{.Name}} {{.State.Health.Status}}' app", "docker container inspect --format '{{.NetworkSettings.IPAddress}}' app",
    "podman inspect -f '{{.State.Running}}' app", 'podman ps', 'docker compose ps']);
});

test('crictl inspect and pm2 env/show/jlist are refused; crictl ps and pm2 ls pass', () => {
  refuse(['crictl inspect abc', 'crictl inspecti nginx', 'crictl inspectp abc', 'crictl -r unix:///run/x.sock inspect abc'], /crictl inspect.? prints the container's configuration/);
  refuse(['pm2 env 0', 'pm2 show app', 'pm2 describe app', 'pm2 info app', 'pm2 jlist', 'pm2 prettylist'], /pm2 \w+ prints the process's environment/);
  allow(['crictl ps', 'crictl logs abc', 'pm2 ls', 'pm2 status', 'pm2 logs app --nostream']);
});

test('a grant saying environment: true allows them; a deny may not say it', () => {
  const granted = { programs: { systemctl: { subcommands: ['show', 'cat', 'show-environment'], environment: true }, docker: { environment: true }, pm2: { environment: true } } };
  allow(['systemctl show -p Environment app', 'systemctl show app', 'systemctl cat app', 'systemctl show-environment', 'docker inspect app', 'pm2 env 0'], granted);
  assert.throws(() => shellCondition.compile({ programs: { systemctl: { environment: true } } }, { id: 'x', effect: 'deny' }), /not a deny/);
  assert.throws(() => shellCondition.compile({ programs: { journalctl: { environment: true } } }, { id: 'x', effect: 'allow' }), /systemctl, docker, podman, nerdctl, crictl, pm2 grant .*not journalctl/);
});
