/**
 * Detector evasion: a secret a detector is configured for, written so that a reader (a person or
 * an agent) still reads it but the plain ASCII patterns miss it. Each case below leaked before
 * the fold (src/masking/fold.ts), the wider card separators, the Unicode email pattern, the bytea
 * reading or the header-less private-key detector; each must now be masked, and innocent text
 * must not change. What is deliberately not covered is listed in fold.ts.
 */
import { describe, it } from 'node:test';
import { masks, untouched } from './scan-asserts.js';

const ZW = '\u200B';
const SHY = '\u00AD';
const JWT_H = 'eyJhbGciOiJIUzI1NiJ9';
const JWT_P = 'eyJzdWIiOiIxMjM0NTY3ODkwIn0';
const JWT_S = 'dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
/** Unicode tag characters (U+E0000 block): invisible, but they spell ASCII ("ASCII smuggling"). */
const tags = (s: string): string => [...s].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
/** The same digits in another script's decimal digits (zero at `zero`). */
const digitsIn = (s: string, zero: number): string => s.replace(/\d/g, (d) => String.fromCodePoint(zero + Number(d)));

describe('evasion: invisible characters inside a secret', () => {
  it('zero-width space, soft hyphen, word joiner, BOM inside an email, card, key, JWT', () => {
    masks(`mail alice${ZW}@example.com now`, 'mail [email] now', 'email');
    masks(`al${ZW}ice@example.com`, '[email]', 'email'); // not "al[email]": nothing of it stays
    masks(`card 4111${SHY}1111${SHY}1111${SHY}1111`, 'card [credit_card]', 'credit_card');
    masks(`key AKIA\u2060IOSFODNN7\uFEFFEXAMPLE`, 'key [aws_access_key]', 'aws_access_key');
    masks(`t ${JWT_H}${ZW}.${JWT_P}.${JWT_S}`, 't [jwt]', 'jwt');
    masks(`ssn 123-4\u200D5-6789`, 'ssn [us_ssn]', 'us_ssn');
  });

  it('bidi controls and variation selectors', () => {
    masks('card \u202A4111111111111111\u202C', 'card [credit_card]', 'credit_card');
    masks('4\uFE0F111111111111111', '[credit_card]', 'credit_card');
  });

  it('a secret spelled in Unicode tag characters (invisible to a person, read by a model)', () => {
    masks(`note ${tags('AKIAIOSFODNN7EXAMPLE')}`, 'note [aws_access_key]', 'aws_access_key');
    masks(`mail ${tags('bob@example.com')}`, 'mail [email]', 'email');
  });

  it('combining marks over the digits of a card', () => {
    masks([...'4111111111111111'].map((c) => `${c}\u0332`).join(''), '[credit_card]', 'credit_card');
  });

  it('NUL bytes between characters (UTF-16 text read as bytes)', () => {
    masks(Buffer.from('mail carol@example.com', 'utf16le').toString('latin1'), 'mail [email]', 'email');
  });
});

describe('evasion: look-alike characters', () => {
  it('full-width digits in an SSN and a card', () => {
    masks('SSN １２３-４５-６７８９', 'SSN [us_ssn]', 'us_ssn');
    masks('card ４１１１ １１１１ １１１１ １１１１', 'card [credit_card]', 'credit_card');
  });

  it('decimal digits of other scripts', () => {
    masks(digitsIn('4111111111111111', 0x0660), '[credit_card]', 'credit_card'); // Arabic-Indic
    masks(digitsIn('123-45-6789', 0x0966), '[us_ssn]', 'us_ssn'); // Devanagari
    masks(digitsIn('4111 1111 1111 1111', 0x1d7ce), '[credit_card]', 'credit_card'); // mathematical bold
  });

  it('full-width and small commercial at, full-width full stop', () => {
    masks('mail alice＠example.com', 'mail [email]', 'email');
    masks('alice﹫example．com', '[email]', 'email');
  });

  it('Unicode dashes and spaces between the groups of an SSN or a card', () => {
    masks('123\u201345\u20136789', '[us_ssn]', 'us_ssn'); // en dash
    masks('123\u221245\u22126789', '[us_ssn]', 'us_ssn'); // minus sign
    masks('4111\u00A01111\u00A01111\u00A01111', '[credit_card]', 'credit_card'); // no-break space
    masks('4111\u20131111\u20131111\u20131111', '[credit_card]', 'credit_card');
    masks('4111\u202F1111\u202F1111\u202F1111', '[credit_card]', 'credit_card'); // narrow no-break space
    masks('5555\u20115555\u20115555\u20114444', '[credit_card]', 'credit_card'); // non-breaking hyphen
  });
});

describe('evasion: printed separators and internationalised addresses', () => {
  it('a card grouped with dots or slashes', () => {
    masks('card 4111.1111.1111.1111 ok', 'card [credit_card] ok', 'credit_card');
    masks('card 4111/1111/1111/1111', 'card [credit_card]', 'credit_card');
    masks('amex 3782.822463.10005', 'amex [credit_card]', 'credit_card');
  });

  it('an email whose domain or local part is not ASCII', () => {
    masks('mail alice@exämple.com', 'mail [email]', 'email');
    masks('почта: иван@пример.рф.', 'почта: [email].', 'email');
    masks('連絡先 taro@例え.jp まで', '連絡先 [email] まで', 'email');
  });
});

describe('evasion: escaped text (URL, JSON, HTML)', () => {
  it('percent-encoded email, JWT and URL password', () => {
    masks('GET /signup?email=alice%40example.com&x=1', 'GET /signup?email=[email]&x=1', 'email');
    masks(`t=${JWT_H}%2E${JWT_P}%2e${JWT_S}`, 't=[jwt]', 'jwt');
    masks('dsn=postgres%3A%2F%2Fapp%3As3cr3t%40db%2Fapp', 'dsn=postgres://app:[password]@db/app', 'password_in_url');
  });

  it('JSON \\u escapes and escaped slashes', () => {
    masks('{"to":"alice\\u0040example.com"}', '{"to":"[email]"}', 'email');
    masks(`{"t":"${JWT_H}\\u002e${JWT_P}\\u002E${JWT_S}"}`, '{"t":"[jwt]"}', 'jwt');
    masks('{"dsn":"postgres:\\/\\/app:s3cr3t@db\\/app"}', '{"dsn":"postgres://app:[password]@db/app"}', 'password_in_url');
    masks('{"k":"wJalrXUtnFEMI\\/K7MDENG\\/bPxRfiCYEXAMPLEKEY","aws_secret_access_key":"wJalrXUtnFEMI\\/K7MDENG\\/bPxRfiCYEXAMPLEKEY"}',
      '{"k":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","aws_secret_access_key":"[aws_secret_key]"}', 'aws_secret_key');
    masks('{"card":"\\uff14111 1111 1111 1111"}', '{"card":"[credit_card]"}', 'credit_card');
  });

  it('HTML numeric character references', () => {
    masks('<a>alice&#64;example.com</a>', '<a>[email]</a>', 'email');
    masks('bob&#x40;example&#x2E;org', '[email]', 'email');
  });

  it('PostgreSQL bytea text (\\x hex) is read as the bytes it holds', () => {
    const hex = (s: string): string => `\\x${Buffer.from(s, 'utf8').toString('hex')}`;
    masks(hex('card 4111111111111111 on file'), hex('card [credit_card] on file'), 'credit_card');
    masks(hex(`-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----\n`), hex('[private_key]\n'), 'private_key');
    untouched(hex('nothing to see'));
    untouched('\\x41 is not bytea');
  });
});

describe('evasion: a private key without its BEGIN line', () => {
  it('an OpenSSH key body (tail -n +2 id_ed25519)', () => {
    const body = [
      'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
      'QyNTUxOQAAACCqz4C8ZZjqXx5cP2b5U8xk3dyJkJjS7M4K+VQ0sL6DFQAAAJg5wL9eOcC/',
      'XgAAAAtzc2gtZWQyNTUxOQAAACCqz4C8ZZjqXx5cP2b5U8xk3dyJkJjS7M4K+VQ0sL6DFQ',
      'AAAEA=',
    ].join('\n');
    masks(`$ tail -n +2 id\n${body}\n-----END OPENSSH PRIVATE KEY-----\n$ `, '$ tail -n +2 id\n[private_key]\n-----END OPENSSH PRIVATE KEY-----\n$ ', 'private_key');
  });

  it('PKCS#8, PKCS#1 and SEC1 bodies, also CRLF-separated or JSON-escaped', () => {
    masks('MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\r\nMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\r\n', '[private_key]\r\n', 'private_key');
    masks('key: MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun', 'key: [private_key]', 'private_key');
    masks('{"key":"\\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oBqXrxrtrwKPoAoGCCqGSM49\\nAwEHoUQDQgAE\\n"}', '{"key":"\\n[private_key]\\n"}', 'private_key');
    masks('MC4CAQAwBQYDK2VwBCIEIHx1sGZtuGzO2ts8kc/0UKCQlsW6Rqjz7rYKbTkhIB16', '[private_key]', 'private_key');
  });
});

describe('already safe: regression', () => {
  it('PEM blocks with CRLF line ends or indented in YAML', () => {
    masks('-----BEGIN RSA PRIVATE KEY-----\r\nMIIEow\r\nAAAA\r\n-----END RSA PRIVATE KEY-----\r\n', '[private_key]\r\n', 'private_key');
    masks('  key: |\n    -----BEGIN PRIVATE KEY-----\n    MIIEvQ\n    -----END PRIVATE KEY-----\n  x: 1', '  key: |\n    [private_key]\n  x: 1', 'private_key');
  });

  it('URL passwords before an IPv6 host or under a compound scheme', () => {
    masks('postgres://app:s3cr3t@[::1]:5432/db', 'postgres://app:[password]@[::1]:5432/db', 'password_in_url');
    masks('jdbc:postgresql://app:s3cr3t@db/app', 'jdbc:postgresql://app:[password]@db/app', 'password_in_url');
    masks('mongodb+srv://u:p4ss@cluster0.example.net', 'mongodb+srv://u:[password]@cluster0.example.net', 'password_in_url');
  });
});

describe('innocent non-ASCII and escaped text stays as it was', () => {
  const innocent = [
    'Jürgen Müller, Rue de la Paix – 12',
    '日本語のテキスト、ありがとう。',
    'ＡＢＣ full-width letters and ５０％ off',
    'path %2Fvar%2Flog%2Fsyslog',
    '{"name":"J\\u00fcrgen","n":"\\u0031\\u0032"}',
    'a &amp; b &#169; 2024',
    'a\u200Bb zero-width but nothing secret',
    '१२३ ४५६ some Devanagari digits',
    'order ٤٢ shipped',
    '\\xzz not hex',
    // Public keys and certificates share the first bytes' style with private keys, not their start.
    'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun',
    'MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJRTESMBAGA1UEChMJQmFsdGltb3Jl',
    'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9q9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==',
    'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl deploy@host',
  ];
  for (const text of innocent) it(JSON.stringify(text), () => untouched(text));
});
