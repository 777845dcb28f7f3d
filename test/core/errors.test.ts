import { badInput, excerpt, MAX_MESSAGE_LENGTH } from '../../src/core/errors';

describe('error messages stay short whatever a caller sent', () => {
  it('quotes a short value whole and a long one by its start and length', () => {
    expect(excerpt('MZ-001')).toBe('MZ-001');
    expect(excerpt('a'.repeat(200), 10)).toBe('aaaaaaaaaa… (200 characters)');
  });

  it('cuts any message past the limit, so no error echoes a megabyte back', () => {
    const error = badInput(`Name "${'名'.repeat(1_000_000)}" is too long.`);
    expect(error.message.length).toBe(MAX_MESSAGE_LENGTH);
    expect(error.message.endsWith('…')).toBe(true);
    expect(badInput('Short message.').message).toBe('Short message.');
  });
});
