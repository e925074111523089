/**
 * Built-in catalogue of argument-injection vectors. It is applied to every command for every
 * allow rule, whatever the policy says: listing `find` in a policy never grants `find -exec`.
 */
import { findFlag, optionWords } from './flags.js';
import { AWKS, evaluatedWords, INTERPRETER_PATTERN, INTERPRETERS, LOADER_PATTERN, programBase, SEDS, SHELL_TEXT_RUNNERS, SHELLS, SSH_FAMILY, variableRuns, WRAPPERS } from './runners.js';
import { gitConfigDanger } from './git-config.js';
import { interpreterCode, printsOnly } from './interpreters.js';
import { gitGuardLength } from './git-guard.js';
import { sshRemote } from './runner-args.js';
import { crontabTable, gpgPhoto, socatRun } from './indirect-runs.js';
import { awkDanger, sedDanger } from './script-checks.js';
import { findSubcommand, locateSubcommand } from './subcommand-options.js';
import type { ShellCommand } from './types.js';

/** Pagers and editors: each can run a command (`!cmd`, `-c '!cmd'`, `+'!cmd'`). */
export const PAGERS = [
  'less', 'more', 'most', 'pg', 'pager', 'sensible-pager', 'vim', 'vi', 'view', 'vimdiff', 'nvim', 'gvim', 'evim', 'ex', 'ed', 'nano', 'emacs', 'man',
];
const BUILTINS = [
  'select', 'function', 'exit', 'alias', 'enable', 'hash', 'fc', 'history', 'bind', 'complete', 'mapfile', 'readarray',
  'read', 'let', 'local', 'declare', 'typeset', 'export', 'readonly', 'set', 'shopt', 'ulimit', 'umask', 'cd', 'pushd', 'popd',
  'wait', 'disown', 'jobs', 'fg', 'bg', 'suspend', 'logout', 'unset', 'unalias', 'caller', 'return', 'break', 'continue', 'shift',
  'compgen',
];

/** Programs denied outright, with the reason. Why a table: one place to audit. */
export const DENIED_PROGRAMS: ReadonlyMap<string, string> = new Map([
  ...SHELLS.map((p) => [p, 'is a shell'] as const),
  ...INTERPRETERS.map((p) => [p, 'is an interpreter'] as const),
  ...PAGERS.map((p) => [p, 'is a pager or editor with shell escapes'] as const),
  ...[...WRAPPERS, ...SHELL_TEXT_RUNNERS, 'newgrp'].map((p) => [p, 'runs other programs'] as const),
  ...BUILTINS.map((p) => [p, 'is a shell keyword or builtin that changes the shell itself'] as const),
  ...['rpmbuild', 'rpmspec'].map((p) => [p, "runs a spec file's shell commands and macros (`%(cmd)`)"] as const),
]);

/** rpm's programs that take its common options (macros, --pipe); rpmbuild and rpmspec are refused outright. */
const RPM_TOOLS = ['rpm', 'rpmquery', 'rpmverify', 'rpmkeys', 'rpmdb', 'rpmsign', 'rpmgraph'];

/** Flags that make an otherwise harmless program run code or read names from a file. */
export const DENIED_FLAGS: Readonly<Record<string, readonly string[]>> = {
  find: ['-exec', '-execdir', '-ok', '-okdir', '-delete', '-fprint', '-fprint0', '-fprintf', '-fls', '-files0-from'],
  tar: ['--checkpoint-action', '--set-mtime-command', '-I', '--use-compress-program', '--to-command', '-F', '--info-script', '--new-volume-script', '--rmt-command', '--rsh-command'],
  git: [
    '-c', '--config', '--exec', '--exec-path', '--upload-pack', '--config-env', '--receive-pack', '--ext-diff', '--textconv', '-O',
    '--open-files-in-pager',
    // A template folder's hooks run on clone/init/checkout; --output writes wherever it names.
    '--template', '--output',
  ],
  sort: ['--compress-program', '--files0-from'],
  wc: ['--files0-from'],
  du: ['--files0-from'],
  rsync: ['-e', '--rsh', '--rsync-path'],
  // -I loads a PKCS#11 library; -D runs a local sftp server program.
  ssh: ['-F', '-I'],
  scp: ['-S', '-F', '-D'],
  // sftp -b runs a batch of sftp commands, where `!cmd` runs a local command.
  sftp: ['-S', '-F', '-D', '-b'],
  file: ['-f', '--files-from'],
  // apt's -o/-c set any configuration item, APT::Update::Pre-Invoke and DPkg::Pre-Invoke run commands.
  'apt-get': ['-o', '--option', '-c', '--config-file'],
  apt: ['-o', '--option', '-c', '--config-file'],
  'apt-cache': ['-o', '--option', '-c', '--config-file'],
  'apt-mark': ['-o', '--option', '-c', '--config-file'],
  'apt-config': ['-o', '--option', '-c', '--config-file'],
  dpkg: ['--pre-invoke', '--post-invoke', '--status-logger'],
  zip: ['--unzip-command'],
  // split --filter=COMMAND pipes each piece to a shell command; install -s runs --strip-program.
  split: ['--filter'],
  install: ['--strip-program'],
  // man's pager and browser run through a shell.
  man: ['-P', '--pager', '-H', '--html'],
  // netcat runs a program on the connection: traditional nc and busybox -e PROG, -c 'CMD'; ncat
  // also --sh-exec and --lua-exec (OpenBSD nc's -e/-c name TLS settings: refused too, generously).
  ...Object.fromEntries(['nc', 'netcat', 'nc.traditional', 'nc.openbsd'].map((n) => [n, ['-e', '-c']])),
  ncat: ['-e', '--exec', '-c', '--sh-exec', '--lua-exec'],
  // GNU cpio and mt reach a HOST:FILE archive through the program --rsh-command names, as tar does.
  cpio: ['--rsh-command', '--rmt-command'],
  mt: ['--rsh-command', '--rmt-command'],
  // PKCS#11 and FIDO libraries: ssh-keygen loads the one -D/-w names, ssh-add has the agent load -s/-S (as ssh -I).
  'ssh-keygen': ['-D', '-w'],
  'ssh-add': ['-s', '-S'],
  // rpm's macros run shell commands (`%(cmd)`) and Lua (`%{lua:..}`): -E/--eval expands one, -D/--define/--predefine
  // set one, --macros/--load/--rcfile read them from a file, -q --specfile expands a spec file's; --pipe runs a command.
  ...Object.fromEntries(RPM_TOOLS.map((n) => [n, ['-E', '--eval', '-D', '--define', '--predefine', '--macros', '--load', '--rcfile', '--pipe', '--specfile']])),
  // GnuPG: the photo viewer is a shell command (--exec-path: where it and gpg 1's keyserver helpers are found), the
  // agent, dirmngr and keyboxd are programs it starts, --options reads a configuration file that sets them, gpg 1
  // loaded --load-extension, and --command-fd/--command-file give edit commands (showphoto runs the viewer). A
  // --homedir holds gpg.conf and the gpg-agent.conf of the agent started for it (pinentry and scdaemon programs).
  ...Object.fromEntries(['gpg', 'gpg2', 'gpg1'].map((n) => [n, [
    '--photo-viewer', '--exec-path', '--agent-program', '--dirmngr-program', '--keyboxd-program', '--options', '--homedir', '--load-extension',
    '--command-fd', '--command-file',
  ]])),
  gpgsm: ['--agent-program', '--dirmngr-program', '--protect-tool-program', '--options', '--homedir'],
  dirmngr: ['--ldap-wrapper-program', '--http-wrapper-program', '--options', '--homedir'],
  // gpg-connect-agent -E runs the program on its command line as the Assuan server.
  'gpg-connect-agent': ['-E', '--exec', '--agent-program', '--dirmngr-program', '--keyboxd-program', '--homedir'],
  // gpgtar and gpg-zip run the gpg (gpg-zip: and tar) program they are told, with the options they are told.
  gpgtar: ['--gpg', '--gpg-args'],
  'gpg-zip': ['--gpg', '--gpg-args', '--tar', '--tar-args'],
};

/** The catalogue flag (DENIED_FLAGS) a command uses, or null. tar's first word may be a cluster without `-` (`tar cIf X`). */
export function deniedFlag(base: string, args: string[], except: readonly string[] = []): { flag: string; word: string } | null {
  const listed = Object.hasOwn(DENIED_FLAGS, base) ? DENIED_FLAGS[base] : undefined;
  if (listed === undefined) return null;
  if (base === 'zip') {
    const tt = optionWords(args).find((w) => /^-[^-]/.test(w) && w.includes('TT'));
    if (tt !== undefined) return { flag: '-TT', word: tt };
  }
  const flags = listed.filter((f) => !except.includes(f));
  if (base === 'git' && flags.includes('-c')) {
    // After these subcommands `-c` is their own (grep's count, log's combined diff, switch's
    // create, branch's copy): git's configuration -c is judged before the subcommand only. Not
    // commit (`-c` opens the editor) nor clone (`-c` sets the new repository's configuration).
    const sub = locateSubcommand('git', args);
    if (sub.kind === 'word' && GIT_OWN_DASH_C.has(args[sub.at] as string)) {
      return findFlag(base, args.slice(0, sub.at), ['-c']) ?? findFlag(base, args, flags.filter((f) => f !== '-c'));
    }
  }
  const tarArgs = base === 'tar' && args[0] !== undefined && !args[0].startsWith('-') ? [`-${args[0]}`, ...args.slice(1)] : args;
  return findFlag(base, tarArgs, flags);
}

/** git subcommands with a `-c` of their own, which sets no configuration (deniedFlag). */
const GIT_OWN_DASH_C: ReadonlySet<string> = new Set(['grep', 'log', 'show', 'diff', 'diff-tree', 'whatchanged', 'switch', 'branch']);

/** git's flags that set configuration: a deny rule judges them by the key they set (git-config.ts). */
export const GIT_CONFIG_FLAGS: readonly string[] = ['-c', '--config', '--config-env'];

/**
 * ssh -o keywords that run a local command, load a library or another config file, or give a
 * remote command Warden would not judge (prefixes: see sshKeyword).
 */
const SSH_OPTIONS =
  /^(proxycommand|localcommand|permitlocalcommand|knownhostscommand|proxyusefdpass|match|pkcs11provider|securitykeyprovider|remotecommand|include|xauthlocation)/i;

/**
 * The keyword of an ssh `-o` value, generously: OpenSSH's strdelim() drops a quote inside the
 * keyword (`Proxy"Command"` is ProxyCommand) and skips an empty first token (leading blanks or
 * `=`). Quotes are removed altogether, so the keyword may run into its value (hence prefixes).
 */
function sshKeyword(value: string): string {
  return value.replace(/"/g, '').replace(/^[\s=]+/, '');
}

const GIT_TOOL_SUBCOMMANDS = new Set(['difftool', 'mergetool', 'filter-branch', 'submodule', 'bisect', 'rebase', 'daemon', 'instaweb', 'web--browse', 'credential']);
/** git subcommands whose `-u` names the upload-pack program to run. */
const GIT_PACK_SUBCOMMANDS = new Set(['clone', 'fetch', 'pull', 'ls-remote', 'archive', 'fetch-pack']);

/**
 * iproute2 `ip netns exec NS CMD` and `ip vrf exec VRF CMD` run a command, and `ip -batch FILE`
 * runs ip commands (those too) from a file. ip matches every keyword by prefix (`ip netns e`,
 * `-b`, `--batch`), so any word that is a prefix of `exec` or `-batch` is refused.
 */
function ipExec(args: string[]): string | null {
  for (const a of args) {
    const w = a.startsWith('--') ? a.slice(1) : a;
    if (w.length >= 2 && w.startsWith('-') && '-batch'.startsWith(w)) return `ip ${a} runs ip commands from a file (also netns exec).`;
    if (w.length >= 1 && !w.startsWith('-') && 'exec'.startsWith(w)) return `ip ... ${a} ... (netns/vrf exec) runs a command.`;
  }
  return null;
}

/** Variables beyond runners.ts's command and loader tables that change what a program runs or reads. */
const OTHER_CODE_ENV = new Set(['PATH', 'IFS', 'GREP_OPTIONS']);

/** Why an environment assignment name loads code, or null. */
export function codeLoadingVariable(name: string): string | null {
  if (variableRuns(name) !== null || OTHER_CODE_ENV.has(name) || name.startsWith('GIT_')) {
    return `assignment to ${name} makes programs load code`;
  }
  return null;
}

/**
 * The injection vector a command uses, as one sentence, or null. `fed`: the line can put input
 * on the command's standard input (deny-runs.ts lineTraits); unknown, it counts as fed.
 */
export function injectionReason(cmd: ShellCommand, fed = true): string | null {
  for (const a of cmd.assignments) {
    const reason = codeLoadingVariable(a.split('=', 1)[0] as string);
    if (reason !== null) return `${reason}.`;
  }
  const base = programBase(cmd.program);
  // Warden's own git guard (git-guard.ts), given in a command it does not rebuild, is not the agent's configuration.
  const args = base === 'git' ? cmd.args.slice(gitGuardLength(cmd.args)) : cmd.args;
  // An interpreter or editor that only prints and exits (`python3 --version`, interpreters.ts) runs no code.
  const denied = printsOnly(base, args) ? undefined : DENIED_PROGRAMS.get(base);
  if (denied !== undefined) return `${base} ${denied}.`;
  if (INTERPRETER_PATTERN.test(base) && !printsOnly(base, args)) return `${base} is an interpreter.`;
  if (LOADER_PATTERN.test(base)) return `${base} is the dynamic loader, which runs other programs.`;
  // Bash evaluates a subscript in a variable name as arithmetic and runs `$(..)` in it; a subscript
  // may also name a variable whose value holds one, so any subscript or expansion is refused.
  const name = evaluatedWords(base, args).find((w) => /[$`[]/.test(w));
  if (name !== undefined) return `${base} reads '${name}' as a variable name, and bash evaluates a subscript or expansion in it as code.`;
  if (base === 'crontab' && crontabTable(args) !== null) return 'crontab installs a table (a file or standard input) whose commands run later, unjudged.';
  if (base === 'env' && args.length > 0) return 'env with arguments can run other programs or change the environment.';
  const socat = base === 'socat' ? socatRun(args) : null;
  if (socat !== null) return `socat address '${socat}' runs a program.`;
  const photo = gpgPhoto(base, args);
  if (photo !== null) return `${base} '${photo}' runs the photo viewer, a shell command.`;
  if (base === 'node' || base === 'nodejs') {
    // A granted node runs the script file it names; inline code, preloads and code on stdin are refused.
    const code = interpreterCode(base, args);
    if (code?.kind === 'code') return `${code.why}.`;
    if (code?.kind === 'stdin') return 'node without a script reads code from stdin.';
  }
  if (AWKS.has(base)) {
    const d = awkDanger(args);
    if (d !== null) return `${base}: ${d}.`;
  }
  if (SEDS.has(base)) {
    const d = sedDanger(args);
    if (d !== null) return `${base}: ${d}.`;
  }
  const hit = deniedFlag(base, args);
  if (hit !== null) return `${base} ${hit.flag} (spelled '${hit.word}') can run programs or read file lists.`;
  if (base === 'git') {
    // The subcommand behind git's global options (`git -C /x difftool`); when it cannot be told,
    // any word that could be it counts.
    const found = findSubcommand('git', args);
    const subs = found.kind === 'word' ? [found.word] : found.kind === 'none' ? [] : optionWords(args).filter((a) => !a.startsWith('-'));
    const tool = subs.find((w) => GIT_TOOL_SUBCOMMANDS.has(w));
    if (tool !== undefined) return `git ${tool} can run other programs.`;
    const pack = subs.find((w) => GIT_PACK_SUBCOMMANDS.has(w));
    if (pack !== undefined && findFlag('git', args, ['-u']) !== null) return `git ${pack} -u runs a chosen upload-pack program.`;
    const config = gitConfigDanger(args);
    if (config !== null) return config;
  }
  if (base === 'ip') {
    const reason = ipExec(args);
    if (reason !== null) return reason;
  }
  if (SSH_FAMILY.has(base)) {
    const words = optionWords(args);
    for (let i = 0; i < words.length; i++) {
      const w = words[i] as string;
      if (!w.startsWith('-') || w.startsWith('--')) continue;
      const at = w.indexOf('o');
      if (at < 0) continue;
      const value = at + 1 < w.length ? w.slice(at + 1) : (words[i + 1] ?? '');
      const keyword = sshKeyword(value);
      if (SSH_OPTIONS.test(keyword)) return `${base} -o ${keyword.split(/[\s=]/, 1)[0] ?? ''} runs a local command, loads code or gives a remote command.`;
    }
    if (fed && base === 'sftp') return 'sftp reads a batch from standard input, which the line feeds, and a batch runs local commands (!cmd).';
    if (fed && base === 'ssh') {
      const remote = sshRemote(args);
      if ('unknown' in remote) return `${remote.unknown}.`;
      if (remote.command.length === 0) return 'ssh without a remote command runs a remote shell on standard input, which the line feeds.';
    }
  }
  return null;
}
