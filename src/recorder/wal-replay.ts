/**
 * The database image a WAL-mode SQLite file shows with its `-wal` applied, computed without SQLite,
 * for a read-only folder that holds a `-wal` but no `-shm`: SQLite opens such a file only when it
 * may create the `-shm` (this build takes no `immutable` URI, and `immutable` would skip the WAL),
 * and reading the main file alone would hide the newest records from verify. Why here: the format
 * is SQLite's documented WAL format (https://www.sqlite.org/fileformat2.html#walformat), which a
 * reader recovers exactly so: frames count from the start while their salts match the header's
 * and their cumulative checksums hold; the pages of frames up to the last valid commit frame
 * (one with a database size) are the database, later frames are an unfinished transaction. A
 * header that is not a valid WAL header is refused (WalUnreadable), never read as "no WAL".
 */

/** The -wal cannot be applied: its header is not one this reader knows. */
export class WalUnreadable extends Error {}

const MAGIC_LE = 0x377f0682; // checksums over little-endian words
const MAGIC_BE = 0x377f0683; // checksums over big-endian words
const VERSION = 3007000;
const HEADER = 32;
const FRAME_HEADER = 24;

/** SQLite's WAL checksum over `data` (a multiple of 8 bytes), continuing from s0, s1. */
function checksum(data: Buffer, bigEndian: boolean, s0: number, s1: number): [number, number] {
  for (let i = 0; i < data.length; i += 8) {
    const x0 = bigEndian ? data.readUInt32BE(i) : data.readUInt32LE(i);
    const x1 = bigEndian ? data.readUInt32BE(i + 4) : data.readUInt32LE(i + 4);
    s0 = (s0 + x0 + s1) >>> 0;
    s1 = (s1 + x1 + s0) >>> 0;
  }
  return [s0, s1];
}

/**
 * `main` (the database file's bytes) with the committed frames of `wal` applied; `main` itself when
 * the WAL holds no valid commit (as SQLite reads it). Throws WalUnreadable for an unknown header.
 */
export function applyWal(main: Buffer, wal: Buffer): Buffer {
  if (wal.length < HEADER) throw new WalUnreadable(`${wal.length} bytes, shorter than a WAL header`);
  const magic = wal.readUInt32BE(0);
  if (magic !== MAGIC_LE && magic !== MAGIC_BE) throw new WalUnreadable('not a WAL file (magic number)');
  const bigEndian = magic === MAGIC_BE;
  if (wal.readUInt32BE(4) !== VERSION) throw new WalUnreadable(`WAL format version ${wal.readUInt32BE(4)}, not ${VERSION}`);
  const pageSize = wal.readUInt32BE(8);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) throw new WalUnreadable(`page size ${pageSize}`);
  let [s0, s1] = checksum(wal.subarray(0, 24), bigEndian, 0, 0);
  if (s0 !== wal.readUInt32BE(24) || s1 !== wal.readUInt32BE(28)) throw new WalUnreadable('the WAL header checksum does not hold');
  const salt1 = wal.readUInt32BE(16);
  const salt2 = wal.readUInt32BE(20);
  // Walk the valid frames; keep each page's newest version as of the last commit seen.
  const pending = new Map<number, Buffer>();
  const committed = new Map<number, Buffer>();
  let pages = 0; // database size in pages after the last commit, 0 while none
  for (let at = HEADER; at + FRAME_HEADER + pageSize <= wal.length; at += FRAME_HEADER + pageSize) {
    const page = wal.readUInt32BE(at);
    const size = wal.readUInt32BE(at + 4);
    if (page === 0 || wal.readUInt32BE(at + 8) !== salt1 || wal.readUInt32BE(at + 12) !== salt2) break;
    [s0, s1] = checksum(wal.subarray(at, at + 8), bigEndian, s0, s1);
    [s0, s1] = checksum(wal.subarray(at + FRAME_HEADER, at + FRAME_HEADER + pageSize), bigEndian, s0, s1);
    if (s0 !== wal.readUInt32BE(at + 16) || s1 !== wal.readUInt32BE(at + 20)) break;
    pending.set(page, wal.subarray(at + FRAME_HEADER, at + FRAME_HEADER + pageSize));
    if (size !== 0) {
      for (const [p, bytes] of pending) committed.set(p, bytes);
      pending.clear();
      pages = size;
    }
  }
  if (pages === 0) return main;
  if (main.length > 0 && main.length % pageSize !== 0) throw new WalUnreadable(`the database file (${main.length} bytes) is not whole pages of ${pageSize} bytes`);
  const image = Buffer.alloc(pages * pageSize);
  main.copy(image, 0, 0, Math.min(main.length, image.length));
  for (const [p, bytes] of committed) if (p <= pages) bytes.copy(image, (p - 1) * pageSize);
  return image;
}
