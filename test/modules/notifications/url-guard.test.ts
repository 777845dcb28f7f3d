import { checkWebhookUrl, isPrivateAddress, isRefusedLiteral } from '../../../src/modules/notifications/url-guard';

/**
 * The webhook URL guard on its own (no server): the spellings of a private
 * address a caller may try. webhooks.test.ts checks the mutation's answer and
 * the connection-time lookup.
 */
describe('webhook URL guard', () => {
  it('refuses loopback however the URL spells it: short, decimal, hexadecimal, octal, full-width, trailing dot, IPv4-mapped', () => {
    for (const text of [
      'http://127.1/',
      'http://2130706433/',
      'http://0x7f000001/',
      'http://017700000001/',
      'http://１２７.０.０.１/',
      'http://127.0.0.1./',
      'http://0/',
      'http://[::ffff:127.0.0.1]/',
      'http://[0:0:0:0:0:ffff:7f00:1]/',
      'http://[::1]/',
      'http://[::]/',
    ]) {
      expect([text, isRefusedLiteral(checkWebhookUrl(text), false)]).toEqual([text, true]);
    }
  });

  it('refuses private IPv4 networks written inside an IPv6 address: IPv4-compatible, IPv4-translated, 6to4, NAT64 and Teredo', () => {
    for (const address of [
      '::7f00:1',
      '::127.0.0.1',
      '::a00:1',
      '::ffff:0:7f00:1',
      '::ffff:0:a9fe:a9fe',
      '2002:7f00:1::',
      '2002:c0a8:101::1',
      '64:ff9b::7f00:1',
      '64:ff9b:1::a00:1',
      '2001:0:4136:e378:8000:63bf:80ff:fffe',
    ]) {
      expect([address, isPrivateAddress(address)]).toEqual([address, true]);
    }
    expect(isRefusedLiteral(checkWebhookUrl('http://[::127.0.0.1]/'), false)).toBe(true);
    expect(isRefusedLiteral(checkWebhookUrl('http://[2002:7f00:1::]:8080/hook'), false)).toBe(true);
    // The same forms around a public IPv4 address, and public IPv6 addresses, stay allowed.
    for (const address of ['::5db8:d822', '::ffff:0:5db8:d822', '2002:5db8:d822::1', '2606:4700::1111', '93.184.216.34']) {
      expect([address, isPrivateAddress(address)]).toEqual([address, false]);
    }
  });

  it('refuses the private IPv6 ranges: unique local, link-local and the deprecated site-local', () => {
    for (const address of ['fc00::1', 'fd12:3456::1', 'fe80::1', 'fec0::1', 'feff:ffff::1']) {
      expect([address, isPrivateAddress(address)]).toEqual([address, true]);
    }
    expect(isRefusedLiteral(checkWebhookUrl('http://[fec0::1]/hook'), false)).toBe(true);
  });

  it('refuses credentials (the user-info trick), other schemes and zone ids with BAD_USER_INPUT', () => {
    for (const text of [
      'http://good.example@127.0.0.1/',
      'http://127.0.0.1:80@example.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'gopher://x/',
      'http://[fe80::1%25lo]/',
    ]) {
      expect(() => checkWebhookUrl(text)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
    }
  });
});
