/**
 * User private groups: Debian, Ubuntu and Fedora give each user a group of the same name that
 * holds only that user, with umask 002, so a user's files and folders are group-writable to a
 * group nobody else is in. Group write to such a group lets no one else write, so StrictModes
 * (shared-write.ts) accepts it. Read from /etc/passwd and /etc/group only, once per process: a
 * group known only elsewhere (NSS: LDAP, sssd) is not recognised as private, and group write to
 * it is refused (fail closed).
 */
import { readFileSync } from 'node:fs';

/** Where users and groups are read (tests pass their own). */
export interface AccountFiles {
  passwd: string;
  group: string;
}

export const SYSTEM_ACCOUNTS: AccountFiles = { passwd: '/etc/passwd', group: '/etc/group' };

interface Accounts {
  users: { name: string; uid: number; gid: number }[];
  groups: Map<number, { name: string; members: string[] }>;
}

const cache = new Map<string, Accounts>();

function fields(path: string): string[][] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
  } catch {
    return [];
  }
}

function accounts(files: AccountFiles): Accounts {
  const key = `${files.passwd}\0${files.group}`;
  let a = cache.get(key);
  if (!a) {
    const users = fields(files.passwd).filter((f) => f.length >= 4).map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]) }));
    const groups = new Map(fields(files.group).filter((f) => f.length >= 3).map((f) => [Number(f[2]), { name: f[0]!, members: (f[3] ?? '').split(',').filter(Boolean) }] as const));
    cache.set(key, (a = { users, groups }));
  }
  return a;
}

/**
 * Whether `gid` is the private group of the user `uid`: the group has the user's name, it is the
 * user's primary group, no other user has it as primary group, and it lists no other member.
 */
export function isPrivateGroup(gid: number, uid: number, files: AccountFiles = SYSTEM_ACCOUNTS): boolean {
  const { users, groups } = accounts(files);
  const owner = users.find((u) => u.uid === uid);
  const group = groups.get(gid);
  if (!owner || !group || group.name !== owner.name || owner.gid !== gid) return false;
  return group.members.every((m) => m === owner.name) && users.every((u) => u.gid !== gid || u.uid === uid);
}
