import { identifierCode } from '../../core/text';

/**
 * Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters
 * from a 31-character alphabet (digits and capitals without I, O, S, V, Z);
 * the 18th is a check character over the first 17.
 */
const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** The check character for the first 17 characters of a code. */
export function creditCodeCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += ALPHABET.indexOf(first17[i]) * WEIGHTS[i];
  return ALPHABET[(31 - (sum % 31)) % 31];
}

export type CreditCodeCheck = { ok: true; code: string } | { ok: false; reason: string };

/** Normalises (identifierCode: full-width folded, trimmed, upper-cased) and checks a code; the reason is written for a steward. */
export function checkCreditCode(input: string): CreditCodeCheck {
  const code = identifierCode(input);
  if (code.length !== 18) {
    return { ok: false, reason: `"${input}" is not a unified social credit code: it has ${code.length} characters, a code has 18.` };
  }
  const bad = [...code].findIndex((ch) => !ALPHABET.includes(ch));
  if (bad >= 0) {
    return {
      ok: false,
      reason: `"${input}" is not a unified social credit code: character ${bad + 1} ("${code[bad]}") is not allowed (codes use digits and capital letters except I, O, S, V and Z).`,
    };
  }
  const expected = creditCodeCheckCharacter(code.slice(0, 17));
  if (code[17] !== expected) {
    return {
      ok: false,
      reason: `"${input}" is not a valid unified social credit code: its check character is "${code[17]}" but should be "${expected}". Please check the code for a typing error.`,
    };
  }
  return { ok: true, code };
}
