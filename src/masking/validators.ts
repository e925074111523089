/**
 * Checksums and structural rules that separate real identifiers from look-alike digit runs.
 * A regex alone would mask order numbers and timestamps; these keep false positives rare.
 */

/** Luhn mod-10 over a string of ASCII digits; card numbers pass, most random runs do not. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * Issuer prefix and length rules for the major networks (Visa, Mastercard, Amex, Discover,
 * JCB, Diners, UnionPay, Maestro). Numbers starting 0, 1, 7, 8 or 9 are never payment cards,
 * which keeps epoch timestamps and most internal ids out.
 */
export function cardPrefixValid(digits: string): boolean {
  const n = digits.length;
  if (n < 13 || n > 19) return false;
  const p2 = Number(digits.slice(0, 2));
  const p4 = Number(digits.slice(0, 4));
  switch (digits.charCodeAt(0) - 48) {
    case 2:
      return p4 >= 2221 && p4 <= 2720 && n === 16;
    case 3:
      if (p2 === 34 || p2 === 37) return n === 15;
      if (p4 >= 3528 && p4 <= 3589) return n >= 16;
      return (p2 === 36 || p2 === 38 || p2 === 39 || (p4 >= 3000 && p4 <= 3059)) && n >= 14;
    case 4:
      return n === 13 || n === 16 || n === 19;
    case 5:
      return n >= 12;
    case 6:
      return n >= 14;
    default:
      return false;
  }
}

/** A full card check: plausible issuer, plausible length, valid checksum, not one repeated digit. */
export function cardNumberValid(digits: string): boolean {
  if (!cardPrefixValid(digits) || !luhnValid(digits)) return false;
  return !/^(\d)\1+$/.test(digits);
}

/**
 * SSA rules: area 001-899 except 666, group 01-99, serial 0001-9999. Anything else cannot
 * have been issued, so a dashed run that breaks them is some other identifier.
 */
export function ssnValid(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  if (a === 0 || a === 666 || a >= 900) return false;
  return group !== '00' && serial !== '0000';
}
