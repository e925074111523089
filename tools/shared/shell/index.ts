/** Public surface of the shared shell library (used by tools/ssh and tools/kubernetes). */
export { initShellParser, parseShell, parseShellAsync, MAX_SHELL_BYTES } from './parse.js';
export { parseArgv, unwrapShellC } from './argv.js';
export { quoteWord, buildCommandLine, canonicalCommandLine } from './quote.js';
export { startupEnvironment, withoutStartupFiles } from './startup-files.js';
export { shellCondition, shellBlockSchema } from './condition.js';
export type { ShellBlock } from './condition.js';
export { injectionReason, codeLoadingVariable, DENIED_PROGRAMS, DENIED_FLAGS } from './injection-catalogue.js';
export { normalisePath, underPrefix, isPathLike } from './paths.js';
export type { ShellCommand, ShellConstruct, ShellFacts } from './types.js';
