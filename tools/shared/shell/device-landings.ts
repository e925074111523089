/**
 * Copies that write a storage or memory device (device-places.ts) no word of theirs names. Into a
 * folder, a copy lands under its source's own name: `cp /srv/sda /dev` writes the disk /dev/sda
 * (cp opens an existing file and writes into it, a device too), `install /srv/mem /dev` the
 * machine's memory; likewise mv, ln, rsync and scp replace or write the device's node. A copy that
 * carries a folder whole (`cp -r /srv/p/dev /`, `rsync -a /srv/p/ /`) into one that holds devices
 * (`/`, `/dev`, a folder under /dev Warden does not know) writes any device a file in it is named
 * as, which no grant can name. So such a copy is refused as a write of the device: under `paths:`
 * unless an entry at or below the device names it, without `paths:` always; for a deny rule's
 * `paths:` it holds every denied path. An extraction (`tar -x -C /`, `unzip -d /dev`, `cpio -i`,
 * which keeps absolute names, `7z x -o/dev`) writes names only the archive knows into its folder,
 * so into one that holds devices it is such a whole copy.
 */
import { copyPlan, lastName } from './git-carry.js';
import { devicePlace, holdsDevices } from './device-places.js';
import { unnamedPlace } from './proc-places.js';
import { lexicalPath, normalisePath } from './paths.js';
import { fileWords } from './operands.js';

/** Programs that extract an archive's members into a folder (operands.ts FileWords.extractsInto). */
const EXTRACTORS: ReadonlySet<string> = new Set(['tar', 'unzip', 'cpio', '7z', '7za', '7zr', '7zz']);

/** The folder holding devices an extraction by `program args` writes into, or null. */
function extractionLanding(program: string, args: string[]): DeviceLanding | null {
  if (!EXTRACTORS.has(program)) return null;
  for (const folder of fileWords(program, args).extractsInto ?? []) {
    const p = normalisePath(folder);
    if (p === null || !holdsDevices(p, lexicalPath(folder) ?? p)) continue;
    return { path: p, place: null, what: `into '${p}' names its line does not give (the members it extracts), and '${p}' holds disks, partitions or memory: a member named as one (dev/sda) is written into that device` };
  }
  return null;
}

/** Where a copy lands on a device: the path (the folder, for a whole copy), the device's place (null: any) and what it is. */
export interface DeviceLanding {
  path: string;
  place: string | null;
  what: string;
}

/** The device a copy by `program args` lands on without naming it, or null. */
export function deviceLanding(program: string, args: string[]): DeviceLanding | null {
  const extraction = extractionLanding(program, args);
  if (extraction !== null) return extraction;
  const plan = copyPlan(program, args);
  const dest = plan === null ? null : normalisePath(plan.dest);
  // A destination that is a device itself is judged as the word it is.
  if (plan === null || dest === null || devicePlace(dest) !== null) return null;
  if (!plan.named) {
    for (const src of plan.sources) {
      const name = lastName(src);
      const landed = `${dest === '/' ? '' : dest}/${name ?? ''}`;
      const device = name === null ? null : devicePlace(landed);
      if (device !== null) return { path: landed, place: device.place, what: `'${landed}' (it copies '${src}' into '${dest}' under its own name), ${device.what}` };
    }
  }
  if (plan.whole !== null && holdsDevices(dest, lexicalPath(plan.dest) ?? dest)) {
    return { path: dest, place: null, what: `'${dest}' whole (${plan.whole}), which holds disks, partitions or memory: a file it carries named as one (dev/sda) is written into that device` };
  }
  return null;
}

/** Why `program args` writes a device it does not name that the grant's `paths` (undefined: none) do not name, or null. */
export function deviceLandingRefusal(program: string, args: string[], paths: readonly string[] | undefined): string | null {
  const landing = deviceLanding(program, args);
  if (landing === null) return null;
  if (landing.place !== null && paths !== undefined && unnamedPlace(program, landing.path, paths, false, args) === null) return null;
  const how = landing.place === null ? 'no grant can name the devices it may write; copy or extract into a folder that holds none' : `a grant writes it only when its paths: name ${landing.place}`;
  return `${program} writes ${landing.what}; ${how}.`;
}
