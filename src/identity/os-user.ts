/**
 * The OS user on the other side of a stdio connection. Over stdio the agent's MCP client starts
 * `warden serve` itself, so the parent process is the agent (or `sudo`, a shell or `npx` it
 * started): its user is the one Warden's files must be kept from. Linux only (/proc); stat and
 * mode bits only, nothing is read but /proc/PID/status. ACLs and capabilities other than root's
 * are not looked at: an ACL may grant more than the mode bits say.
 */
import { statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Who a process runs as: its real uid and every group it holds (for the mode-bit classes). */
export interface OsUser {
  uid: number;
  gids: number[];
}

/**
 * The user of process `pid` from /proc/PID/status, or null where it cannot be seen (not Linux,
 * pid 0: Warden is the first process of its PID namespace, e.g. a container; /proc hidden).
 * The real uid, not the effective one: `sudo -u warden warden serve` runs Warden under a sudo
 * whose effective uid is root but whose real uid is the user who ran it, the agent's.
 */
export function processUser(pid: number, read: (path: string) => string): OsUser | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  let text: string;
  try {
    text = read(`/proc/${pid}/status`);
  } catch {
    return null;
  }
  const field = (name: string): number[] | null => {
    const m = new RegExp(`^${name}:[ \\t]*([0-9 \\t]*)$`, 'm').exec(text);
    return m ? m[1]!.trim().split(/\s+/).filter(Boolean).map(Number) : null;
  };
  const uid = field('Uid')?.[0];
  const gid = field('Gid')?.[0];
  if (uid === undefined || gid === undefined) return null;
  return { uid, gids: [...new Set([gid, ...(field('Groups') ?? [])])] };
}

/** What an access needs of the path's own mode bits (read a file, or add/replace entries in a folder). */
/** Read a file; write a file in place (`write`); write and search a folder (`write-folder`: replace what is in it). */
export type Access = 'read' | 'write' | 'write-folder';

/**
 * Whether `user` may reach `path` for `access`, by mode bits and ownership: search (x) on every
 * folder from `/` down, then read on the file, or write and search on the folder. The owner's
 * bits apply to the owner, the group's to a member, the others' to everyone else (as the kernel
 * does: an owner denied what others are granted is denied). Root reaches everything that exists.
 * An absent path is reached by nobody.
 */
export function canReach(user: OsUser, path: string, access: Access, stat: (p: string) => Stats = statSync): boolean {
  const full = resolve(path);
  let st: Stats;
  try {
    st = stat(full);
  } catch {
    return false;
  }
  if (user.uid === 0) return true;
  const need = access === 'read' ? 0o4 : access === 'write' ? 0o2 : 0o3;
  if (!allows(user, st, need)) return false;
  for (let dir = dirname(full); ; dir = dirname(dir)) {
    let d: Stats;
    try {
      d = stat(dir);
    } catch {
      return false;
    }
    if (!allows(user, d, 0o1)) return false;
    if (dir === dirname(dir)) return true;
  }
}

/** Whether the mode bits of `st` grant `user` every bit of `need` (rwx as 4/2/1). */
function allows(user: OsUser, st: Pick<Stats, 'mode' | 'uid' | 'gid'>, need: number): boolean {
  const shift = st.uid === user.uid ? 6 : user.gids.includes(st.gid) ? 3 : 0;
  return ((st.mode >> shift) & need) === need;
}
