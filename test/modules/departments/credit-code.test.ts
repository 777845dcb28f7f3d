import { checkCreditCode, creditCodeCheckCharacter } from '../../../src/modules/departments/credit-code';

describe('unified social credit code (GB 32100-2015)', () => {
  // Published examples with known-good check characters.
  it.each(['91350100M000100Y43', '91110000600037341L'])('accepts %s', (code) => {
    expect(checkCreditCode(code)).toEqual({ ok: true, code });
  });

  it('normalises case and surrounding space', () => {
    expect(checkCreditCode(' 91350100m000100y43 ')).toEqual({ ok: true, code: '91350100M000100Y43' });
  });

  it('refuses a wrong check character and says which one is expected', () => {
    const result = checkCreditCode('91350100M000100Y44');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain('should be "3"');
  });

  it('refuses a wrong length and letters outside the alphabet', () => {
    expect(checkCreditCode('9135010').ok).toBe(false);
    const withO = checkCreditCode('91350100O000100Y43');
    expect(!withO.ok && withO.reason).toContain('character 9');
  });

  it('computes a check character that makes the code valid', () => {
    const first17 = '12410505MB1234567';
    expect(checkCreditCode(first17 + creditCodeCheckCharacter(first17)).ok).toBe(true);
  });
});
