// Runs the CommonJS bundle of the CLI (dist/bundle/cli/main.cjs, scripts/bundle-cli.mjs) with V8's
// code cache, so a start does not compile its 4 MB of JavaScript again: on a slow two-core machine
// compiling was about 80 ms of a `warden serve` start, and the functions a start runs were compiled
// lazily on top of that. Node 20 caches no compiled code of its own (module.enableCompileCache is
// Node 22), so this does what it would: compile with vm.Script and the cached data of an earlier
// run, and write that data once when there was none that V8 took.
//
// The cache file (main.cjs.v8cache, beside the bundle) holds a stamp and V8's data. The stamp is
// the bundle file's device, inode, size, mtime and ctime as read when it was compiled, and Node's
// version and arch: V8 itself checks only the source's length and its own version and flags, so a
// rebuilt bundle of the same length would otherwise run the old one's code. Any mismatch, a
// cache V8 rejects or a file that cannot be read is no cache: the bundle is compiled from source
// and the cache written anew (to a temporary file, then renamed, so concurrent starts never read
// half of one). A cache that cannot be written (a read-only install) is skipped silently. It is
// code: it lives only beside the bundle, with the bundle's own permissions, never in a shared
// temporary folder. WARDEN_CODE_CACHE=off neither reads nor writes it; WARDEN_CODE_CACHE=debug
// says on stderr what happened.
//
// Which functions a cache holds depends on what its writer ran: a cache written at the end of
// `warden --version` holds little beyond the top level. So a `serve` process replaces a cache
// that no `serve` wrote (a server is what starts at every agent session), a second after its start
// or at its exit, whichever comes first; any other command writes one only where none was taken.
import { closeSync, fstatSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname } from 'node:path';
import vm from 'node:vm';

const MAGIC = 'warden-v8-code-cache-1';

/** The cache's stamp for the bundle open on `fd`, and the bundle's text. */
function readBundle(file) {
  const fd = openSync(file, 'r');
  try {
    const st = fstatSync(fd, { bigint: true });
    const stamp = `${MAGIC} ${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs} ${process.version} ${process.arch}`;
    return { stamp, source: readFileSync(fd, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

/** A cache file's data when its stamp is `stamp`, and whether a `serve` wrote it; else undefined. */
function readCache(path, stamp) {
  let bytes;
  try {
    bytes = readFileSync(path);
  } catch {
    return undefined;
  }
  if (bytes.length < 4) return undefined;
  const headerLength = bytes.readUInt32LE(0);
  if (headerLength > 4096 || 4 + headerLength > bytes.length) return undefined;
  const header = bytes.subarray(4, 4 + headerLength).toString('utf8');
  const [writtenStamp, writer] = header.split('\n');
  if (writtenStamp !== stamp) return undefined;
  return { data: bytes.subarray(4 + headerLength), byServe: writer === 'serve' };
}

/** Write `script`'s code cache to `path` (through a temporary file); false when it could not. */
function writeCache(script, path, stamp, writer) {
  const header = Buffer.from(`${stamp}\n${writer}`, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length, 0);
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, Buffer.concat([length, header, script.createCachedData()]), { mode: 0o644 });
    renameSync(temporary, path);
    return true;
  } catch {
    rmSync(temporary, { force: true });
    return false;
  }
}

/**
 * Run the CommonJS bundle `file` as Node would run it as a main module, with the code cache beside
 * it. `argv` is the command's arguments (process.argv from index 2): a `serve` writes a better
 * cache than another command.
 */
export function runBundle(file, argv) {
  const mode = process.env.WARDEN_CODE_CACHE ?? '';
  const useCache = mode !== 'off';
  const debug = mode === 'debug' ? (m) => process.stderr.write(`warden code cache: ${m}\n`) : () => {};
  const { stamp, source } = readBundle(file);
  const path = `${file}.v8cache`;
  const cached = useCache ? readCache(path, stamp) : undefined;
  // No dynamic-import callback: the bundle holds no import() (scripts/bundle-cli.mjs turns each
  // into require()), since Node 20 drops the callback of a script compiled from cached data.
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData: cached?.data });
  const state = !useCache ? 'off' : !cached ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted';
  debug(`${state} (${file})`);
  const serving = argv[0] === 'serve';
  if (useCache && (state !== 'accepted' || (serving && !cached?.byServe))) {
    let written = false;
    // A serve that exits with an error (a bad config) ran little of what a server runs: its
    // cache counts as another command's, so the next serve replaces it.
    const write = (code) => {
      if (written) return;
      written = true;
      debug(writeCache(script, path, stamp, serving && !code ? 'serve' : 'other') ? 'written' : 'not written: cannot write beside the bundle');
    };
    process.once('exit', write);
    if (serving) setTimeout(write, 1000).unref();
  }
  const module = new Module(file, null);
  module.filename = file;
  module.paths = Module._nodeModulePaths(dirname(file));
  const run = script.runInThisContext();
  run.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
}
