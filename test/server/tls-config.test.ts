// The TLS settings and their checks at start-up: every mistake is an error naming
// the setting and file, never a quiet start in plaintext. Certificates made by
// openssl for this run.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG, resolveConfig } from '../../src/server/config.js';
import { loadTls } from '../../src/server/tls.js';
import { TestPki, type TestCa, type TestCert } from '../support/tls-certs.js';

let pki: TestPki;
let ca: TestCa;
let otherCa: TestCa;
let cert: TestCert;
let otherCert: TestCert;

beforeAll(() => {
  pki = new TestPki();
  ca = pki.ca('config-ca');
  otherCa = pki.ca('config-other-ca');
  cert = pki.issue(ca, 'server');
  otherCert = pki.issue(otherCa, 'other');
});
afterAll(() => pki.cleanup());

const files = (certFile: string | null, keyFile: string | null, caFile: string | null) => ({ tlsCertFile: certFile, tlsKeyFile: keyFile, tlsCaFile: caFile });

describe('settings', () => {
  test('plaintext by default', () => {
    expect(DEFAULT_CONFIG.tlsCertFile).toBeNull();
    expect(DEFAULT_CONFIG.tlsKeyFile).toBeNull();
    expect(DEFAULT_CONFIG.tlsCaFile).toBeNull();
    expect(DEFAULT_CONFIG.host).toBe('127.0.0.1');
    expect(loadTls(DEFAULT_CONFIG, false)).toBeNull();
  });

  test('tlsCertFile and tlsKeyFile go together', () => {
    expect(() => resolveConfig({ tlsCertFile: '/a.pem' })).toThrow(/tlsCertFile and tlsKeyFile go together \(got only tlsCertFile\)/);
    expect(() => resolveConfig({ tlsKeyFile: '/a.key' })).toThrow(/got only tlsKeyFile/);
    expect(resolveConfig({ tlsCertFile: '/a.pem', tlsKeyFile: '/a.key' }).tlsCertFile).toBe('/a.pem');
  });

  test('tlsCaFile alone is refused', () => {
    expect(() => resolveConfig({ tlsCaFile: '/ca.pem' })).toThrow(/tlsCaFile is set without tlsCertFile/);
  });

  test('an empty string means not set', () => {
    expect(resolveConfig({ tlsCertFile: '', tlsKeyFile: '' }).tlsCertFile).toBeNull();
  });
});

describe('loadTls', () => {
  test('reads a matching certificate and key (standalone: no CA needed)', () => {
    const tls = loadTls(files(cert.certFile, cert.keyFile, null), false);
    expect(tls?.cert.toString()).toContain('BEGIN CERTIFICATE');
    expect(tls?.ca).toBeNull();
  });

  test('a file that cannot be read is named', () => {
    const missing = join(pki.dir, 'missing.pem');
    expect(() => loadTls(files(missing, cert.keyFile, null), false)).toThrow(`cannot read tlsCertFile ${missing}`);
    expect(() => loadTls(files(cert.certFile, missing, null), false)).toThrow(`cannot read tlsKeyFile ${missing}`);
    expect(() => loadTls(files(cert.certFile, cert.keyFile, missing), true)).toThrow(`cannot read tlsCaFile ${missing}`);
  });

  test('a key that is not the certificate\'s is refused, naming both files', () => {
    expect(() => loadTls(files(cert.certFile, otherCert.keyFile, null), false)).toThrow(`tlsKeyFile ${otherCert.keyFile} is not the private key of tlsCertFile ${cert.certFile}`);
  });

  test('a CA or certificate file without a PEM certificate is refused', () => {
    const junk = join(pki.dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    expect(() => loadTls(files(cert.certFile, cert.keyFile, junk), true)).toThrow(`tlsCaFile ${junk} holds no PEM certificate`);
    expect(() => loadTls(files(junk, cert.keyFile, null), false)).toThrow(`tlsCertFile ${junk} holds no PEM certificate`);
  });

  test('an expired certificate is refused', async () => {
    const expired = pki.issue(ca, 'expired', { days: 0 });
    // validTo has whole seconds: wait until that second is over.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(() => loadTls(files(expired.certFile, expired.keyFile, null), false)).toThrow(`the certificate in tlsCertFile ${expired.certFile} expired on`);
  });

  test('an ensemble needs a CA, and its own certificate must be signed by it', () => {
    expect(() => loadTls(files(cert.certFile, cert.keyFile, null), true)).toThrow(/an ensemble with TLS needs tlsCaFile/);
    expect(() => loadTls(files(otherCert.certFile, otherCert.keyFile, ca.certFile), true)).toThrow(`not signed by the CA in tlsCaFile ${ca.certFile}`);
    expect(loadTls(files(cert.certFile, cert.keyFile, ca.certFile), true)?.ca?.toString()).toContain('BEGIN CERTIFICATE');
  });
});
