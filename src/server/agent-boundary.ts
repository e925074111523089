/**
 * The OS-user boundary between an agent and Warden, checked when `serve` starts over stdio.
 * Warden's promise (agents reach production without holding the keys) holds only if the agent
 * cannot read what Warden reads. Over stdio the agent's MCP client usually starts Warden itself,
 * as the agent's own user: that user can then read warden.yaml, every `file:` secret, Warden's
 * environment (/proc/PID/environ: the `env:` secrets) and memory, edit the policies, and write
 * the store (approving its own calls with `warden approvals approve --as someone-else`); one who
 * can write Warden's own code runs its code as Warden (codePaths). Nothing
 * in-process can stop that; it is a deployment fact, so it is said at start (one coded warning,
 * paths only) or, with `identity.stdio.agent_user: refuse`, Warden does not start. Stat only: no
 * file is opened, no secret resolved (a Postgres store's URL held in a file is never read here).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerConfig } from '../config/server-config.js';
import { fileSecretRefs, secretFilePath } from '../config/secret-files.js';
import { ErrorCode, WardenError } from '../errors.js';
import { canReach, processUser, type Access, type OsUser } from '../identity/os-user.js';
import { storePath } from './store-open.js';

/** A path the agent's user must not reach, and what it is (for the warning). */
export interface GuardedPath {
  what: string;
  path: string;
  access: Access;
}

/** What the agent's user can reach of Warden's: empty `reachable` and `sameUser` false is the boundary holding. */
export interface AgentReach {
  agentUid: number;
  wardenUid: number;
  sameUser: boolean;
  reachable: GuardedPath[];
}

/**
 * The paths of a config that the agent's user must not reach: the config file, each `file:`
 * secret (connections, masking.hash_key, transcripts.signing_key and .store, dpop.nonce_key), a SQLite store
 * (read: every call's arguments; its folder, write: replace the store or the masking key, or
 * approve through it) and the masking key kept beside it when masking.hash_key is not set.
 */
export function guardedPaths(config: ServerConfig): GuardedPath[] {
  const out: GuardedPath[] = [{ what: 'the config file', path: config.file, access: 'read' }];
  for (const { path, ref } of fileSecretRefs(config)) out.push({ what: `the secret ${path.join('.')}`, path: secretFilePath(config, ref), access: 'read' });
  if (config.transcripts.store.startsWith('sqlite:')) {
    const db = storePath(config);
    out.push({ what: 'the transcript store', path: db, access: 'read' }, { what: 'the transcript store folder', path: dirname(db), access: 'write-folder' });
    if (!config.masking.hash_key) out.push({ what: 'the masking key', path: resolve(dirname(db), 'masking.key'), access: 'read' });
  }
  return out;
}

/**
 * Warden's own code, whose writer runs code as Warden (and so reads what it reads): the install
 * folder, the folders holding what `warden` runs (bin/, dist/ and the bundle's folder, dist/src/,
 * node_modules/) and the files it runs or loads compiled code from (bin/*.js, the bundle
 * main.cjs and its code cache main.cjs.v8cache, which bin/code-cache.js writes where it can).
 * `root` is the install folder (three folders above this module, bundled or not). A writable
 * folder deeper inside dist/src or node_modules is not looked for (a stat per folder, thousands).
 */
export function codePaths(root: string = fileURLToPath(new URL('../../../', import.meta.url))): GuardedPath[] {
  const folders = ['.', 'bin', 'dist', 'dist/bundle', 'dist/bundle/cli', 'dist/src', 'node_modules'];
  const files = ['package.json', 'bin/warden.js', 'bin/code-cache.js', 'dist/bundle/cli/main.cjs', 'dist/bundle/cli/main.cjs.v8cache'];
  return [
    ...folders.map((f) => ({ what: "Warden's code folder", path: resolve(root, f), access: 'write-folder' as const })),
    ...files.map((f) => ({ what: "Warden's code", path: resolve(root, f), access: 'write' as const })),
  ];
}

/**
 * The decision, for any two users (tests give both uids): the same user reaches everything
 * (it owns the files, and may chmod them), another user what the mode bits grant it.
 */
export function agentReach(agent: OsUser, wardenUid: number, paths: GuardedPath[], reach: typeof canReach = canReach): AgentReach {
  const sameUser = agent.uid === wardenUid;
  const reachable = paths.filter((p) => (sameUser ? reach({ uid: 0, gids: [] }, p.path, p.access) : reach(agent, p.path, p.access)));
  return { agentUid: agent.uid, wardenUid, sameUser, reachable };
}

/** The one warning's text, without its code (paths only: never a file's contents, never a secret's value). */
export function reachMessage(r: AgentReach): string {
  const who = r.sameUser
    ? `the agent's OS user (uid ${r.agentUid}, the user of the process that started Warden) is the user Warden runs as: it can read Warden's environment (the env: secrets) and memory, change its config and policies, and write its store (approve its own calls)`
    : r.agentUid === 0
      ? `the agent's OS user is root (uid 0, the user of the process that started Warden): it can read everything Warden keeps`
      : `the agent's OS user (uid ${r.agentUid}, the user of the process that started Warden) is not Warden's (uid ${r.wardenUid}) but the mode bits let it reach Warden's files`;
  const items = r.reachable.map((p) => `${p.what} ${p.path}${p.access !== 'read' ? ' (writable)' : ''}`);
  return `${who}${items.length ? `; it can reach ${items.join(', ')}` : ''}. Run Warden as its own user (README: "Deploying so the agent does not hold the keys")`;
}

/** Where the check looks (tests substitute the platform or the parent). */
export interface BoundaryHost {
  platform: NodeJS.Platform;
  ppid: number;
  wardenUid: number;
  read(path: string): string;
}

const HOST: BoundaryHost = { platform: process.platform, ppid: process.ppid, wardenUid: process.geteuid?.() ?? 0, read: (p) => readFileSync(p, 'utf8') };

/**
 * Check at `serve` start over stdio: warn (one coded line) or, with agent_user: refuse, throw
 * WARDEN_AGENT_HOLDS_KEYS. Where the parent cannot be seen (not Linux, pid 0 in a container,
 * /proc hidden) it says at debug level that the check did not run, and never fails.
 */
export function checkAgentBoundary(config: ServerConfig, log: (level: 'debug' | 'warn', msg: string, data?: Record<string, unknown>) => void, host: BoundaryHost = HOST): void {
  const mode = config.identity.stdio?.agent_user ?? 'warn';
  const agent = host.platform === 'linux' ? processUser(host.ppid, host.read) : null;
  if (!agent) {
    log('debug', "agent OS-user check did not run: the parent process's user cannot be read here (it needs Linux /proc and a visible parent)", { platform: host.platform, ppid: host.ppid });
    return;
  }
  const r = agentReach(agent, host.wardenUid, [...guardedPaths(config), ...codePaths()]);
  if (!r.sameUser && r.agentUid !== 0 && !r.reachable.length) return;
  const message = reachMessage(r);
  if (mode === 'refuse') throw new WardenError(ErrorCode.AGENT_HOLDS_KEYS, `${message}. Refusing to start (identity.stdio.agent_user: refuse)`);
  log('warn', `${ErrorCode.AGENT_HOLDS_KEYS}: ${message}`, { code: ErrorCode.AGENT_HOLDS_KEYS, agent_uid: r.agentUid, warden_uid: r.wardenUid, same_user: r.sameUser, paths: r.reachable.map((p) => p.path) });
}
