/**
 * The error for a private key ssh2 cannot use. ssh2's own message can quote bytes of the key
 * ("Unsupported OpenSSH key magic: ..." prints the first 15 bytes of the decoded key, the cipher
 * and kdf names too), so only a fixed sentence chosen from it ever leaves Warden.
 */
import { ErrorCode, WardenError } from '../../src/tool-api.js';

/** Map ssh2's key parsing failure to a coded error that carries none of its text. */
export function privateKeyError(e: unknown, connection: string): WardenError {
  const m = e instanceof Error ? e.message : '';
  const why = /no passphrase given/.test(m)
    ? 'it is encrypted and no passphrase is configured'
    : /passphrase|decrypt/i.test(m)
      ? 'the configured passphrase does not decrypt it'
      : 'it is not a private key in a supported format (OpenSSH, PEM or PPK)';
  return new WardenError(ErrorCode.CONFIG, `the private key of connection ${connection} cannot be used: ${why}`);
}
