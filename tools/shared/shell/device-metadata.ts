/**
 * The read-only forms of the programs that show a storage device's metadata (device-places.ts).
 * Several of them also change the device, its partition table, its filesystem's settings or the
 * kernel's view of it: `fdisk /dev/sda` reads its commands from standard input and writes them,
 * `parted /dev/sda rm 1`, `sfdisk`, `tune2fs -O`, `blockdev --setro`, `partx -d`, `smartctl -s
 * off`, `udevadm trigger`, `umount`. So a form counts as metadata only when every option it uses
 * is one of its read-only form's (an allow-list, util-linux 2.38, parted 3.5, e2fsprogs 1.47,
 * smartmontools 7.3, systemd 252 `--help`, lvm2 2.03 man pages), with the option that makes it read-only where one must
 * be given (`fdisk -l`, `tune2fs -l`, `sfdisk -l|-d|-J|...`); anything else (an unknown option,
 * an abbreviation, parted's other commands) is a write of the device, judged as its content is.
 * So is a read-only form fed standard input (a pipe, a here-document or here-string, a `<`
 * redirection): parted asks on it whether to fix what it finds (`echo Fix | parted DEV print`
 * rewrites a GPT's backup header), and what the others read there is not judged.
 */

/** One program's read-only form. */
interface ReadOnlyForm {
  /** Its options (short `-l`, long `--list`); any other makes it a writing form. */
  options: readonly string[];
  /** Of them, the ones that take a value (`-o COLS`, `--output=COLS`). */
  values?: readonly string[];
  /** Of those, the ones read-only only with such a value (blkid's cache files, written back: -c /dev/null). */
  only?: Readonly<Record<string, RegExp>>;
  /** One of these must be given (fdisk without -l reads commands from standard input). */
  needs?: readonly string[];
  /** Its operands (after the options are taken out) in the read-only form: none at all, or a check (with the options used). */
  operands?: 'none' | ((ops: readonly string[], used: readonly string[]) => boolean);
}

/** parted's read-only commands after the device: print [free|all|devices|list], unit UNIT, align-check TYPE N, help. */
function partedReads(ops: readonly string[]): boolean {
  if (ops.length < 2) return false; // no command: parted reads them from standard input
  for (let i = 1; i < ops.length; i++) {
    const w = ops[i] as string;
    if (w === 'print') i += /^(?:free|all|devices|list)$/.test(ops[i + 1] ?? '') ? 1 : 0;
    else if (w === 'unit' && i + 1 < ops.length) i += 1;
    else if (w === 'align-check' && i + 2 < ops.length) i += 2;
    else if (w !== 'help') return false;
  }
  return true;
}

/** The LVM listings' read-only options (lvm2 2.03 pvs(8), vgs(8), lvs(8), *display(8), lvmdiskscan(8)); an option a program lacks is its error. */
const LVM_LISTING: ReadOnlyForm = {
  options: ['-a', '--all', '-A', '--activevolumegroups', '--aligned', '--binary', '-c', '--colon', '-C', '--columns', '--configreport', '-d', '--debug',
    '--devices', '--foreign', '--headings', '-h', '--help', '-H', '--history', '--ignorelockingfailure', '--ignoreskippedcluster', '-l', '--lvmpartition',
    '--logonly', '--longhelp', '-m', '--maps', '--nameprefixes', '--noheadings', '--nohints', '--nolocking', '--nosuffix', '-o', '--options', '-O',
    '--sort', '-P', '--partial', '-q', '--quiet', '--readonly', '--reportformat', '--rows', '-S', '--select', '--segments', '--separator', '--shared',
    '-s', '--short', '-t', '--test', '--unbuffered', '--units', '--unquoted', '-v', '--verbose', '--version'],
  values: ['--configreport', '--devices', '--headings', '-o', '--options', '-O', '--sort', '--reportformat', '-S', '--select', '--separator', '--units'],
};

const FORMS: Readonly<Record<string, ReadOnlyForm>> = {
  fdisk: {
    options: ['-l', '--list', '-x', '--list-details', '-s', '--getsz', '-b', '--sector-size', '-u', '--units', '-o', '--output', '-t', '--type',
      '-L', '--color', '-c', '--compatibility', '-C', '--cylinders', '-H', '--heads', '-S', '--sectors', '--bytes', '-h', '--help', '-V', '--version'],
    values: ['-b', '--sector-size', '-o', '--output', '-t', '--type', '-C', '--cylinders', '-H', '--heads', '-S', '--sectors'],
    needs: ['-l', '--list', '-x', '--list-details', '-s', '--getsz', '-h', '--help', '-V', '--version'],
  },
  sfdisk: {
    options: ['-l', '--list', '-d', '--dump', '-J', '--json', '-s', '--show-size', '-g', '--show-geometry', '-F', '--list-free', '-V', '--verify',
      '-q', '--quiet', '-o', '--output', '--color', '-h', '--help', '-v', '--version'],
    values: ['-o', '--output'],
    needs: ['-l', '--list', '-d', '--dump', '-J', '--json', '-s', '--show-size', '-g', '--show-geometry', '-F', '--list-free', '-V', '--verify',
      '-h', '--help', '-v', '--version'],
  },
  parted: {
    options: ['-l', '--list', '-m', '--machine', '-s', '--script', '-j', '--json', '-a', '--align', '-h', '--help', '-v', '--version'],
    values: ['-a', '--align'],
    // With neither -l nor a command it reads its commands from standard input.
    operands: (ops, used) => (ops.length === 0 ? used.some((u) => /^(?:-l|--list|-h|--help|-v|--version)$/.test(u)) : partedReads(ops)),
  },
  tune2fs: { options: ['-l'], needs: ['-l'] },
  blockdev: {
    options: ['-q', '-v', '--report', '--getsz', '--getro', '--getdiscardzeroes', '--getss', '--getpbsz', '--getiomin', '--getioopt', '--getalignoff',
      '--getmaxsect', '--getbsz', '--getsize', '--getsize64', '--getra', '--getfra', '--getdiskseq', '--getzonesz', '-h', '--help', '-V', '--version'],
  },
  partx: {
    options: ['-s', '--show', '-l', '--list', '-o', '--output', '--output-all', '-g', '--noheadings', '-r', '--raw', '-P', '--pairs', '-b', '--bytes',
      '-n', '--nr', '-t', '--type', '-S', '--sector-size', '-v', '--verbose', '-h', '--help', '-V', '--version'],
    values: ['-o', '--output', '-n', '--nr', '-t', '--type', '-S', '--sector-size'],
    needs: ['-s', '--show', '-l', '--list', '-o', '--output', '--output-all', '-g', '--noheadings', '-r', '--raw', '-P', '--pairs', '-h', '--help', '-V', '--version'],
  },
  smartctl: {
    options: ['-i', '--info', '-a', '--all', '-x', '--xall', '-H', '--health', '-c', '--capabilities', '-A', '--attributes', '-l', '--log', '--scan',
      '--scan-open', '-j', '--json', '-d', '--device', '-T', '--tolerance', '-b', '--badsum', '-n', '--nocheck', '-r', '--report', '-q', '--quietmode',
      '-f', '--format', '-F', '--firmwarebug', '-v', '--vendorattribute', '-g', '--get', '-P', '--presets', '--identify', '-h', '--help', '-V', '--version'],
    values: ['-l', '--log', '-d', '--device', '-T', '--tolerance', '-b', '--badsum', '-n', '--nocheck', '-r', '--report', '-q', '--quietmode', '-f',
      '--format', '-F', '--firmwarebug', '-v', '--vendorattribute', '-g', '--get', '-P', '--presets'],
  },
  // udevadm info only (not --cleanup-db); trigger, settle, control, test, monitor change or run things.
  udevadm: {
    options: ['-q', '--query', '--property', '--value', '-p', '--path', '-n', '--name', '-r', '--root', '-a', '--attribute-walk', '-t', '--tree', '-x',
      '--export', '-P', '--export-prefix', '-d', '--device-id-of-file', '-e', '--export-db', '--json', '--no-pager', '-h', '--help', '-V', '--version'],
    values: ['-q', '--query', '-p', '--path', '-n', '--name', '-P', '--export-prefix', '-d', '--device-id-of-file'],
    operands: (ops) => ops[0] === 'info',
  },
  // blkid -c FILE reads its cache from FILE and writes it back there, -w FILE writes it: straight into a device
  // that is not a regular file (libblkid's blkid_flush_cache); /dev/null (the clean-cache idiom) keeps none.
  blkid: {
    options: ['-c', '--cache-file', '-w', '-d', '--no-encoding', '-D', '--no-part-details', '-g', '--garbage-collect', '-H', '--hint', '-i', '--info',
      '-k', '--list-filesystems', '-l', '--list-one', '-L', '--label', '-n', '--match-types', '-o', '--output', '-O', '--offset', '-p', '--probe',
      '-s', '--match-tag', '-S', '--size', '-t', '--match-token', '-u', '--usages', '-U', '--uuid', '-h', '--help', '-V', '--version'],
    values: ['-c', '--cache-file', '-w', '-H', '--hint', '-L', '--label', '-n', '--match-types', '-o', '--output', '-O', '--offset', '-s', '--match-tag',
      '-S', '--size', '-t', '--match-token', '-u', '--usages', '-U', '--uuid'],
    only: { '-c': /^\/dev\/null$/, '--cache-file': /^\/dev\/null$/, '-w': /^\/dev\/null$/ },
  },
  // mount with no operands lists the mounted filesystems (-t: of a type); umount has no read-only form.
  mount: { options: ['-l', '--show-labels', '-t', '--types', '-v', '--verbose', '-h', '--help', '-V', '--version'], values: ['-t', '--types'], operands: 'none' },
  umount: { options: ['-h', '--help', '-V', '--version'], operands: 'none' },
  pvs: LVM_LISTING, vgs: LVM_LISTING, lvs: LVM_LISTING, pvdisplay: LVM_LISTING, vgdisplay: LVM_LISTING, lvdisplay: LVM_LISTING, lvmdiskscan: LVM_LISTING,
};

/** LVM's commands that only say things (lvm2 2.03 lvm(8)): the common options alone; an operand is a command name (`lvm help lvremove`). */
const LVM_INFO: ReadOnlyForm = { options: ['-d', '--debug', '-h', '--help', '--longhelp', '-q', '--quiet', '-t', '--test', '-v', '--verbose', '--version'] };

/** lvmconfig (dumpconfig, config) without -f/--file (writes the file), --config, --profile, ... (lvm2 2.03 lvmconfig(8)); operands are setting paths. */
const LVM_CONFIG: ReadOnlyForm = {
  options: [...LVM_INFO.options, '-l', '--list', '--type', '--typeconfig', '--atversion', '--sinceversion', '--ignoreadvanced', '--ignoreunsupported',
    '--ignorelocal', '--mergedconfig', '--showdeprecated', '--showunsupported', '--unconfigured', '--validate', '--valuesonly', '--withsummary',
    '--withcomments', '--withgeneralpreamble', '--withlocalpreamble', '--withspaces', '--withversions', '--nolocking'],
  values: ['--type', '--typeconfig', '--atversion', '--sinceversion'],
};

/** lvm's reading commands (`lvm COMMAND ...`), each in the read-only form of its standalone program. */
const LVM_READS: Readonly<Record<string, ReadOnlyForm>> = {
  pvs: LVM_LISTING, vgs: LVM_LISTING, lvs: LVM_LISTING, pvdisplay: LVM_LISTING, vgdisplay: LVM_LISTING, lvdisplay: LVM_LISTING, lvmdiskscan: LVM_LISTING,
  fullreport: LVM_LISTING, lvmconfig: LVM_CONFIG, dumpconfig: LVM_CONFIG, config: LVM_CONFIG,
  version: LVM_INFO, help: LVM_INFO, formats: LVM_INFO, segtypes: LVM_INFO, types: LVM_INFO, tags: LVM_INFO,
};

/** Programs with a read-only form here (lvm: its reading commands', lvmBreach). */
export const FORMED: ReadonlySet<string> = new Set([...Object.keys(FORMS), 'lvm', 'lvmconfig']);

/**
 * Is `program args` (a program of FORMED) in its read-only form? An option outside it, a missing
 * needed one, or standard input `fed` (see the module note) is a write.
 */
export function readOnlyForm(program: string, args: readonly string[], fed = false): boolean {
  return !fed && programBreach(program, args) === null;
}

/** What takes `program args` out of its read-only form (see formBreach); lvm's by its command's. */
function programBreach(program: string, args: readonly string[]): string | null {
  if (program === 'lvm') {
    const command = args[0];
    const form = command !== undefined && Object.hasOwn(LVM_READS, command) ? LVM_READS[command] : undefined;
    return form === undefined ? `command '${command ?? ''}'` : formBreach(form, args.slice(1));
  }
  if (program === 'lvmconfig') return formBreach(LVM_CONFIG, args);
  const form = Object.hasOwn(FORMS, program) ? FORMS[program] : undefined;
  return form === undefined ? 'no read-only form' : formBreach(form, args);
}

/** What takes `args` out of the read-only `form` (the option word, or why), or null when it is in it. */
function formBreach(form: ReadOnlyForm, args: readonly string[]): string | null {
  const allowed = new Set(form.options);
  const values = new Set(form.values ?? []);
  const used: string[] = [];
  const ops: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const w = args[i] as string;
    if (w === '--') {
      ops.push(...args.slice(i + 1));
      break;
    }
    if (w.startsWith('--')) {
      const name = w.split('=', 1)[0] as string;
      if (!allowed.has(name)) return w;
      used.push(name);
      if (!values.has(name)) continue;
      const value = w.includes('=') ? w.slice(name.length + 1) : args[++i] ?? '';
      if (form.only?.[name]?.test(value) === false) return w;
      continue;
    }
    if (!w.startsWith('-') || w === '-') {
      ops.push(w);
      continue;
    }
    for (let k = 1; k < w.length; k++) {
      const flag = `-${w[k] as string}`;
      if (!allowed.has(flag)) return w;
      used.push(flag);
      if (!values.has(flag)) continue;
      const value = k === w.length - 1 ? args[++i] ?? '' : w.slice(k + 1);
      if (form.only?.[flag]?.test(value) === false) return w;
      break;
    }
  }
  if (form.needs !== undefined && !used.some((u) => form.needs?.includes(u) === true)) return `none of ${form.needs.join(', ')}`;
  if (form.operands === 'none') return ops.length === 0 ? null : `operand '${ops[0] as string}'`;
  return form.operands === undefined || form.operands(ops, used) ? null : 'its operands';
}

/** LVM's listing programs: they read every device's LVM metadata, so only their read-only form is granted. */
export const LVM_LISTINGS: ReadonlySet<string> = new Set(['pvs', 'vgs', 'lvs', 'pvdisplay', 'vgdisplay', 'lvdisplay', 'lvmdiskscan']);

const LVM_WHY = '(report options such as -o, -O, -S, --units, --reportformat; not --config, --profile, --yes, --file): it may change LVM\'s settings or state, or write a file.';

/**
 * Why an LVM listing (LVM_LISTINGS), lvmconfig or an `lvm` command is outside its read-only form,
 * or null: `--config`, `--profile`, `--commandprofile` change LVM's settings for the command
 * (`log/file` writes a file anywhere, `log/overwrite` truncates it), `--yes` answers its
 * questions, `--journal` writes the system journal, `--devicesfile`, `--lockopt`,
 * `--driverloaded` change what it uses, lvmconfig's `--file` writes its output to a file. `lvm`
 * is a verb tool: its reading commands (LVM_READS) in their form, others only when the grant's
 * `subcommands:` (`named`) names them; with no command, `-`, a file or a leading option it reads
 * commands from standard input or a script, which Warden never sees.
 */
export function lvmListingChange(program: string, args: readonly string[], named?: readonly string[]): string | null {
  if (program === 'lvm') return lvmCommandChange(args, named);
  if (!LVM_LISTINGS.has(program) && program !== 'lvmconfig') return null;
  const breach = programBreach(program, args);
  return breach === null ? null : `${program} '${breach}' is outside its read-only ${program === 'lvmconfig' ? '' : 'listing '}form ${LVM_WHY}`;
}

/** lvmListingChange for `lvm COMMAND ...`. */
function lvmCommandChange(args: readonly string[], named: readonly string[] | undefined): string | null {
  const command = args[0];
  if (command === undefined || command.startsWith('-')) {
    return `lvm ${command === undefined ? 'without a command' : `'${command}'`} reads its commands from standard input or a script file, which Warden cannot see (run a command: lvm pvs, lvm vgs ...).`;
  }
  if (Object.hasOwn(LVM_READS, command)) {
    const breach = formBreach(LVM_READS[command] as ReadOnlyForm, args.slice(1));
    return breach === null ? null : `lvm ${command} '${breach}' is outside its read-only ${LVM_READS[command] === LVM_LISTING ? 'listing ' : ''}form ${LVM_WHY}`;
  }
  // A grant with subcommands: holds lvm to them (condition.ts), as other verb tools.
  if (named !== undefined) return null;
  return `lvm '${command}' is not one of its reading commands (pvs, vgs, lvs, *display, lvmdiskscan, fullreport, lvmconfig, version, help, ...): it may change LVM's state, or it names a script file whose commands Warden cannot see (name it in subcommands: to grant it).`;
}
