import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileAllowedAddresses, normalizeAddress } from '../../src/systems/address-matcher.js';
import { ValidationError } from '../../src/errors/mlog-error.js';

function throwsValidation(fn: () => unknown, entry: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ValidationError, `expected a ValidationError for ${JSON.stringify(entry)}, got ${String(error)}`);
    assert.ok(error.message.includes(`"${entry}"`), error.message);
    return true;
  });
}

describe('normalizeAddress', () => {
  test('an IPv4-mapped IPv6 address becomes IPv4', () => {
    assert.equal(normalizeAddress('::ffff:10.0.0.1'), '10.0.0.1');
  });

  test('other addresses are left alone', () => {
    assert.equal(normalizeAddress('10.0.0.1'), '10.0.0.1');
    assert.equal(normalizeAddress('2001:db8::1'), '2001:db8::1');
    assert.equal(normalizeAddress('::1'), '::1');
    assert.equal(normalizeAddress('::ffff:abcd'), '::ffff:abcd');
  });
});

describe('compileAllowedAddresses', () => {
  test('an empty list allows every address', () => {
    const allowed = compileAllowedAddresses([]);
    assert.equal(allowed('10.0.0.1'), true);
    assert.equal(allowed('2001:db8::1'), true);
  });

  test('a single IPv4 address', () => {
    const allowed = compileAllowedAddresses(['192.168.1.10']);
    assert.equal(allowed('192.168.1.10'), true);
    assert.equal(allowed('192.168.1.11'), false);
  });

  test('an IPv4 CIDR includes its edges and nothing beyond', () => {
    const allowed = compileAllowedAddresses(['10.1.0.0/16']);
    assert.equal(allowed('10.1.0.0'), true);
    assert.equal(allowed('10.1.255.255'), true);
    assert.equal(allowed('10.1.42.7'), true);
    assert.equal(allowed('10.2.0.0'), false);
    assert.equal(allowed('10.0.255.255'), false);
  });

  test('/32 and /0', () => {
    const one = compileAllowedAddresses(['10.0.0.1/32']);
    assert.equal(one('10.0.0.1'), true);
    assert.equal(one('10.0.0.2'), false);
    const all = compileAllowedAddresses(['0.0.0.0/0']);
    assert.equal(all('203.0.113.9'), true);
  });

  test('an IPv6 CIDR', () => {
    const allowed = compileAllowedAddresses(['2001:db8::/32']);
    assert.equal(allowed('2001:db8::1'), true);
    assert.equal(allowed('2001:db8:ffff:1::9'), true);
    assert.equal(allowed('2001:db9::1'), false);
    assert.equal(allowed('::1'), false);
  });

  test('an IPv6 address written differently is the same address', () => {
    const allowed = compileAllowedAddresses(['2001:db8::1']);
    assert.equal(allowed('2001:0db8:0000:0000:0000:0000:0000:0001'), true);
    assert.equal(allowed('2001:DB8::1'), true);
    assert.equal(allowed('2001:db8::2'), false);
  });

  test('an IPv4 client seen as ::ffff: on a dual-stack socket matches IPv4 entries', () => {
    const allowed = compileAllowedAddresses(['10.0.0.0/8', '192.168.1.10']);
    assert.equal(allowed('::ffff:10.20.30.40'), true);
    assert.equal(allowed('::ffff:192.168.1.10'), true);
    assert.equal(allowed('::ffff:192.168.1.11'), false);
    assert.equal(allowed('::ffff:11.0.0.1'), false);
  });

  test('IPv4 entries do not admit IPv6 clients and vice versa', () => {
    assert.equal(compileAllowedAddresses(['0.0.0.0/0'])('2001:db8::1'), false);
    assert.equal(compileAllowedAddresses(['2001:db8::/32'])('10.0.0.1'), false);
  });

  test('several entries: any of them', () => {
    const allowed = compileAllowedAddresses(['10.0.0.1', '172.16.0.0/12', '2001:db8::/48']);
    assert.equal(allowed('10.0.0.1'), true);
    assert.equal(allowed('172.31.255.255'), true);
    assert.equal(allowed('2001:db8:0:1::1'), true);
    assert.equal(allowed('172.32.0.0'), false);
    assert.equal(allowed('2001:db8:1::1'), false);
  });

  test('a client address that is not an IP is refused', () => {
    const allowed = compileAllowedAddresses(['10.0.0.0/8']);
    assert.equal(allowed(''), false);
    assert.equal(allowed('localhost'), false);
    assert.equal(allowed('10.0.0.1:443'), false);
  });

  test('invalid entries throw a ValidationError naming the entry', () => {
    for (const entry of ['', 'localhost', '10.0.0', '256.0.0.1', '10.0.0.0/33', '2001:db8::/129', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8/8', '10.0.0.0/abc', '10.0.0.0/1234', '10.0.0.0/8 ', ' 10.0.0.1', '10.0.0.1-10.0.0.9', '*']) {
      throwsValidation(() => compileAllowedAddresses([entry]), entry);
    }
  });

  test('one invalid entry among valid ones still throws', () => {
    throwsValidation(() => compileAllowedAddresses(['10.0.0.1', 'bad', '2001:db8::/32']), 'bad');
  });
});
