// TLS material from the tlsCertFile / tlsKeyFile / tlsCaFile settings, read and
// checked once at start-up. Every problem stops the server with a message naming
// the file: a server configured for TLS never falls back to plaintext.
//
// The same certificate serves every port and is presented to peers as a client
// certificate, so for an ensemble it must carry both serverAuth and clientAuth
// (or no extendedKeyUsage at all), and name the host peers dial in subjectAltName.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { ServerConfig } from './config.js';

export interface TlsMaterial {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string | null;
  /** PEM bytes as read. */
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | null;
}

/** Deepest issuer chain followed from this server's certificate to the CA. */
const MAX_CHAIN_DEPTH = 8;

function readSetting(setting: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new Error(`TLS: cannot read ${setting} ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Every PEM certificate in `pem`; throws naming the file when there is none or one does not parse. */
function certificates(setting: string, file: string, pem: Buffer): X509Certificate[] {
  const blocks = pem.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error(`TLS: ${setting} ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new Error(`TLS: certificate ${i + 1} in ${setting} ${file} does not parse: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
}

/** True when `leaf` chains to one of `roots`, through `intermediates` if need be. */
function chainsTo(leaf: X509Certificate, intermediates: readonly X509Certificate[], roots: readonly X509Certificate[]): boolean {
  let current = leaf;
  for (let depth = 0; depth < MAX_CHAIN_DEPTH; depth++) {
    if (roots.some((root) => current.checkIssued(root) && current.verify(root.publicKey))) return true;
    const next = intermediates.find((c) => c !== current && current.checkIssued(c) && current.verify(c.publicKey));
    if (next === undefined) return false;
    current = next;
  }
  return false;
}

/**
 * Reads and checks the TLS files; null when TLS is not configured. `forEnsemble`:
 * peers verify each other, so a CA is required and this server's certificate must
 * chain to it (else every peer would refuse it).
 */
export function loadTls(config: Pick<ServerConfig, 'tlsCertFile' | 'tlsKeyFile' | 'tlsCaFile'>, forEnsemble: boolean): TlsMaterial | null {
  const { tlsCertFile: certFile, tlsKeyFile: keyFile, tlsCaFile: caFile } = config;
  if (certFile === null || keyFile === null) {
    if (certFile !== null || keyFile !== null) throw new Error('TLS: tlsCertFile and tlsKeyFile go together: set both, or neither');
    if (caFile !== null) throw new Error('TLS: tlsCaFile is set without tlsCertFile and tlsKeyFile');
    return null;
  }
  const cert = readSetting('tlsCertFile', certFile);
  const key = readSetting('tlsKeyFile', keyFile);
  const ca = caFile === null ? null : readSetting('tlsCaFile', caFile);
  const chain = certificates('tlsCertFile', certFile, cert);
  const leaf = chain[0];
  const nowMs = Date.now();
  if (Date.parse(leaf.validTo) < nowMs) throw new Error(`TLS: the certificate in tlsCertFile ${certFile} expired on ${leaf.validTo}`);
  if (Date.parse(leaf.validFrom) > nowMs) throw new Error(`TLS: the certificate in tlsCertFile ${certFile} is not valid before ${leaf.validFrom}`);
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`TLS: tlsKeyFile ${keyFile} is not the private key of tlsCertFile ${certFile} (or not a readable PEM key): ${reason}`);
  }
  if (ca !== null) {
    const roots = certificates('tlsCaFile', caFile!, ca);
    if (forEnsemble && !chainsTo(leaf, chain.slice(1), roots)) {
      throw new Error(`TLS: the certificate in tlsCertFile ${certFile} is not signed by the CA in tlsCaFile ${caFile}: every peer would refuse this server`);
    }
  } else if (forEnsemble) {
    throw new Error('TLS: an ensemble with TLS needs tlsCaFile: servers prove themselves to each other with certificates signed by that CA');
  }
  return { certFile, keyFile, caFile, cert, key, ca };
}
