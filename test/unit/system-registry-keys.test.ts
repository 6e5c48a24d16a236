import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createCertificateAuthority, issueClientCertificate } from '../../scripts/dev-pki.js';
import { createLogger } from '../../src/logging/logger.js';
import { describeCertificate, readCertificate } from '../../src/systems/certificate.js';
import type { InformationSystem } from '../../src/systems/information-system.js';
import { SystemRegistry } from '../../src/systems/system-registry.js';
import type { SystemStore } from '../../src/systems/system-store-type.js';

test('the registry parses a certificate once: reloads reuse its key, a new certificate brings its own key', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'mlog-registry-keys-test-'));
  try {
    const ca = await createCertificateAuthority(path.join(dir, 'ca'), 'MLog Unit Test CA');
    const first = describeCertificate(readCertificate((await issueClientCertificate(ca, path.join(dir, 'first'), { name: 'first' })).certPem));
    const second = describeCertificate(readCertificate((await issueClientCertificate(ca, path.join(dir, 'second'), { name: 'second' })).certPem));
    const system: InformationSystem = {
      code: 'unit',
      name: 'Unit',
      idno: '1003600000000',
      certificates: [first],
      allowed_addresses: [],
      require_signature: false,
      permissions: [],
      event_types: [],
      retention_months: 60,
      status: 'active',
      created_at: '2025-01-01T00:00:00Z',
      updated_at: '2025-01-01T00:00:00Z',
    };
    let lists = 0;
    const store = { list: async () => (lists++, [structuredClone(system)]) } as unknown as SystemStore;
    // Cached for no time: every look-up reads the registry again.
    const registry = new SystemRegistry(store, createLogger('error', true), 0);
    const keyOf = async (fingerprint: string, serial: string) => (await registry.findByFingerprint(fingerprint))?.known.certificatesBySerial.get(serial)?.publicKey;

    const before = await keyOf(first.fingerprint256, first.serial);
    const again = await keyOf(first.fingerprint256, first.serial);
    assert.equal(lists, 2, 'the registry was read twice');
    assert.ok(before !== undefined && again === before, 'the second load reuses the key of the first');
    assert.ok(before.equals(readCertificate(first.pem).publicKey));

    system.certificates = [first, second];
    const added = await keyOf(second.fingerprint256, second.serial);
    assert.ok(added !== undefined && added.equals(readCertificate(second.pem).publicKey), 'the added certificate has its own key');
    assert.ok(!added.equals(before));
    assert.equal(await keyOf(first.fingerprint256, first.serial), before);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
