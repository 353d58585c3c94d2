// Certificates made at test time with the openssl command line (nothing checked in):
// a CA, and certificates it signs, in a temp dir that cleanup() removes. EC P-256
// keys, so making them takes milliseconds.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  readonly name: string;
  /** The CA's certificate: what a client or peer trusts. */
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TestCert {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface CertOptions {
  /** subjectAltName entries (default IP:127.0.0.1 and DNS:localhost, as servers in tests listen). */
  readonly subjectAltNames?: readonly string[];
  /** extendedKeyUsage (default serverAuth,clientAuth: one certificate serves the ports and the peer links). */
  readonly extendedKeyUsage?: string;
  /** Validity from now (default 2; 0 makes a certificate that has expired by the time it is used). */
  readonly days?: number;
}

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'zook-tls-'));
  private serial = 0;

  /** A self-signed CA named `name`. */
  ca(name: string): TestCa {
    const certFile = join(this.dir, `${name}.ca.pem`);
    const keyFile = join(this.dir, `${name}.ca.key`);
    openssl([
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return { name, certFile, keyFile };
  }

  /** A certificate for `name` signed by `ca`. */
  issue(ca: TestCa, name: string, options: CertOptions = {}): TestCert {
    const base = join(this.dir, `${name}.${++this.serial}`);
    const keyFile = `${base}.key`;
    const certFile = `${base}.pem`;
    const csr = `${base}.csr`;
    const ext = `${base}.ext`;
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${name}`]);
    const sans = options.subjectAltNames ?? ['IP:127.0.0.1', 'DNS:localhost'];
    writeFileSync(
      ext,
      [
        'basicConstraints=CA:FALSE',
        'keyUsage=digitalSignature,keyEncipherment',
        `extendedKeyUsage=${options.extendedKeyUsage ?? 'serverAuth,clientAuth'}`,
        ...(sans.length > 0 ? [`subjectAltName=${sans.join(',')}`] : []),
      ].join('\n') + '\n',
    );
    openssl(['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', String(1000 + this.serial), '-days', String(options.days ?? 2), '-out', certFile, '-extfile', ext]);
    return { certFile, keyFile };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
