/**
 * Device files that hold other files' or memory's content: a disk, partition or volume holds
 * every file on its filesystem (`/dev/sda1` holds `/etc/shadow`), and `/dev/mem`, `/dev/kmem`,
 * `/dev/port`, `/dev/snapshot`, `/proc/vmcore` the machine's memory. Reading one prints any file
 * (a secret too) with no name beside it, which output masking cannot see, and which a deny rule's
 * path would not name. So (proc-places.ts, secret-files.ts, deny-paths.ts) such a place is read
 * only under a grant whose `paths:` name it, a deny rule's paths count as held by it, and a grant
 * without `paths:` never reads it. A folder under /dev Warden does not know (`/dev/VG/LV`, LVM's
 * volume group) counts as one, as does a pattern that may expand to one (`/dev/sd*`). A write to
 * one (`dd of=`, `tee`, `shred`, `mkfs`) is judged as a read is: it changes any file on it. Programs
 * that show a device's name or metadata, not its content (`ls`, `stat`, `df`, `lsblk`, `blkid`,
 * and the read-only forms of fdisk, parted, blockdev, ...: device-metadata.ts), are not judged
 * here. Not seen: a symlink elsewhere that leads to a device (symlinks are not
 * resolved anywhere, paths.ts).
 */
import { lexicalPath, normalisePath } from './paths.js';
import { FORMED, readOnlyForm } from './device-metadata.js';
import { globMatches } from './glob-match.js';

/** Single device files under /dev that hold storage or memory (disks, partitions, volumes, memory, raw SCSI). */
const DEVICE_FILE = new RegExp(`^/dev/(?:${[
  'sd[a-z]+\\d*', 'hd[a-z]+\\d*', 'vd[a-z]+\\d*', 'xvd[a-z]+\\d*', 'nvme\\d+(?:n\\d+(?:p\\d+)?)?', 'ng\\d+n\\d+', 'mmcblk\\d+(?:p\\d+|boot\\d+|rpmb)?',
  'dm-\\d+', 'loop\\d+', 'md\\d+(?:p\\d+)?', 'md_d?\\d+', 'sg\\d+', 'sr\\d+', 'scd\\d+', 'n?st\\d+[a-z]*', 'root', 'zram\\d+', 'nbd\\d+(?:p\\d+)?',
  'rbd\\d+(?:p\\d+)?', 'ram\\d+', 'pmem\\d+(?:s|p\\d+)?', 'dax\\d+\\.\\d+', 'zd\\d+', 'mtd\\d+(?:ro)?', 'mtdblock\\d+', 'ubi\\d+(?:_\\d+)?',
  'ubiblock\\d+_\\d+', 'fd\\d+', 'cdrom', 'cdrw', 'dvd', 'dvdrw', 'drbd\\d+', 'bcache\\d+', 'rsxx\\d+', 'ublk[bc]\\d+', 'rssd[a-z]+\\d*', 'skd\\d+',
  'mem', 'kmem', 'port', 'core', 'snapshot', 'crash',
].join('|')})(?=/|$)`);
/** Folders under /dev that hold only device nodes or links to them (by-uuid, mapper, md, block, char, ...). */
const DEVICE_FOLDER = /^\/dev\/(?:disk|mapper|md|block|char|bsg|zvol|cciss|ida|rd|ataraid|mmc|lightnvm|nvme-subsys|vx|xen)(?=\/|$)/;
/** Folders under /dev known to hold no storage or memory device: terminals, shared memory, queues, input, sound, ... */
const HARMLESS_FOLDER = /^\/dev\/(?:pts|shm|mqueue|hugepages|net|input|snd|dri|bus|usb|serial|v4l|cpu|vfio|dma_heap|infiniband|iommu|fd|hidraw|gpiochip|tpmrm?|watchdog|log|hwrng|rtc|ptp|uinput|vhost-net|vhost-vsock|fuse|kvm|tty[^/]*)(?=\/|$)/;
/** Memory outside /dev: the kernel's crash dump (kcore is proc-places.ts's). */
const PROC_MEMORY = /^\/proc\/vmcore(?=\/|$)/;
const GLOB = /[*?[{]|[@!+]\(/;

/** A device place a grant must name, and what it holds. place is null when a pattern hides which device (never granted). */
export interface DevicePlace {
  place: string | null;
  what: string;
}

const MEMORY = /^\/(?:dev\/(?:mem|kmem|port|core|snapshot|crash)|proc\/vmcore)(?=\/|$)/;
const what = (p: string): string => MEMORY.test(p)
  ? "the machine's memory, which holds every file's and process's content (its secrets too)"
  : 'a storage device, which holds every file on its filesystem (its secrets too)';


/** The storage or memory device `path` (absolute; also through a process's root) reaches, or null. */
export function devicePlace(path: string): DevicePlace | null {
  const p = normalisePath(path);
  if (p === null) return null;
  const at = p.search(GLOB);
  if (at >= 0) {
    // A pattern: may it expand to a device? Its folder before the first pattern character is /dev, or under it, or `/` with a segment that may be `dev`.
    const folder = p.slice(0, p.lastIndexOf('/', at)) || '/';
    const first = p.slice(1).split('/', 1)[0] as string;
    const maybe = folder === '/dev' ? !HARMLESS_FOLDER.test(p) : folder.startsWith('/dev/') ? !HARMLESS_FOLDER.test(folder) : folder === '/' && globMatches(first, 'dev', 'loose');
    return maybe ? { place: null, what: `a pattern bash may expand to ${what('/dev/sda')}` } : null;
  }
  const m = DEVICE_FILE.exec(p) ?? DEVICE_FOLDER.exec(p) ?? PROC_MEMORY.exec(p);
  if (m !== null) return { place: m[0], what: what(p) };
  // /dev/NAME/...: a folder Warden does not know may be an LVM volume group (/dev/VG/LV).
  const folder = /^\/dev\/[^/]+(?=\/[^/])/.exec(p);
  if (folder !== null && !HARMLESS_FOLDER.test(p)) return { place: folder[0], what: `${what(p)}: a folder under /dev Warden does not know, such as an LVM volume group's (/dev/VG/LV)` };
  return null;
}

/** Programs that show a file's name, type or metadata, never its content (find without an action that runs a command): secret-files.ts too. */
export const NAMES_ONLY: ReadonlySet<string> = new Set(['ls', 'stat', 'du', 'realpath', 'readlink', 'basename', 'dirname', 'namei', 'test', '[']);
export const FIND_RUNS = /^-(?:exec|execdir|ok|okdir)$/;

/** Programs that show a device's name, type or metadata, never its files' content, and never change it. */
const METADATA: ReadonlySet<string> = new Set([
  ...NAMES_ONLY, 'file', 'df', 'lsblk', 'findmnt', 'dumpe2fs', 'xfs_info',
]);

/**
 * Does `program args` read or write a device's content (not only show its name or metadata)? find
 * only with an action that runs a command; fdisk, parted, blockdev, ... unless in a read-only form
 * (device-metadata.ts: `fdisk -l`, `parted DEV print`, not `fed` standard input; `fdisk DEV` writes what it says).
 */
export function readsDeviceContent(program: string, args: readonly string[], fed = false): boolean {
  if (program === 'find') return args.some((a) => FIND_RUNS.test(a));
  if (FORMED.has(program)) return !readOnlyForm(program, args, fed);
  return !METADATA.has(program);
}

const GREPS = /^(?:[ezf]?grep|ugrep|ug)$/;
const RECURSIVE = /^(?:--recursive|--dereference-recursive|--dir[a-z]*=recurse|-[A-Za-z]*d=?recurse)$/;
/** A short-option cluster's flags before the first that takes a value (grep's -e -f -m -A -B -C -D -d). */
const recursiveCluster = (a: string): boolean => /^-[^-]/.test(a) && /[rR]/.test(a.slice(1).split(/[efmABCDd]/, 1)[0] as string);

/**
 * Why `program` reads the devices inside the folders it reads whole (`grep -r -D read`, `rsync
 * --copy-devices`), or null. grep skips devices it meets while recursing unless told to read them.
 */
export function devicesReadWhole(program: string, args: readonly string[]): string | null {
  if (program === 'rsync') {
    const hit = args.find((a) => /^--(?:copy|write)-dev/.test(a));
    return hit === undefined ? null : `rsync ${hit} copies the devices in the folders it reads`;
  }
  if (!GREPS.test(program)) return null;
  let read: string | undefined;
  args.forEach((a, i) => {
    const value = /^-[A-Za-z]*D$/.test(a) || /^--dev[a-z]*$/.test(a) ? args[i + 1] : /^(?:-[A-Za-z]*D|--dev[a-z]*=)(.+)$/.exec(a)?.[1];
    if (value !== undefined && /^r/.test(value)) read = a;
  });
  if (read === undefined || !(program.startsWith('ug') || args.some((a, i) => RECURSIVE.test(a) || recursiveCluster(a) || (a === 'recurse' && /^(?:-[A-Za-z]*d|--dir[a-z]*)$/.test(args[i - 1] ?? ''))))) return null;
  return `${program} ${read} reads the devices in the folders it reads whole`;
}

/** Does the folder `p` (normalised) hold storage or memory devices: `/`, `/dev`, a device folder, a process's root folder above? */
export function holdsDevices(p: string, lex: string): boolean {
  if (p === '/' || p === '/dev' || /^\/proc(?:\/[^/]+(?:\/task(?:\/[^/]+)?)?)?$/.test(lex)) return true;
  return /^\/dev\/[^/]+$/.test(p) && !HARMLESS_FOLDER.test(p);
}

/** Why `program args` reads `word` (absolute) whole with the devices in it, or null. */
export function wholeDeviceRead(program: string, args: readonly string[], word: string): string | null {
  const p = normalisePath(word);
  if (p === null) return null;
  const how = devicesReadWhole(program, args);
  if (how === null || !holdsDevices(p, lexicalPath(word) ?? p)) return null;
  return `${program} reads '${p}' whole with its devices (${how}), and it holds disks, partitions or memory, which hold every file's content (secrets too)`;
}
