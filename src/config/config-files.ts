import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigurationError } from '../errors/mlog-error.js';
import type { MLogConfig } from './config.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The first line of an error's message, without its trailing stop (Node's and OpenSSL's own wording). */
function reason(error: unknown): string {
  return String((error as Error).message ?? error).split('\n')[0]!.replace(/\.$/, '');
}

function readFile(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'there is no such file' : code === 'EACCES' ? 'MLog may not read it' : code === 'EISDIR' ? 'it is a directory' : reason(error);
    throw new ConfigurationError(`${variable}="${path}" cannot be read: ${why}.`);
  }
}

/** Every certificate of a PEM file (a bundle may hold several); refuses a file with none, or with one that does not parse (a ConfigurationError naming `variable`). */
export function readCertificates(variable: string, path: string): X509Certificate[] {
  const blocks = readFile(variable, path).match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new ConfigurationError(`${variable}="${path}" holds no PEM certificate ("-----BEGIN CERTIFICATE-----").`);
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new ConfigurationError(`${variable}="${path}": certificate ${index + 1} of the file does not parse (${reason(error)}).`);
    }
  });
}

function readPrivateKey(variable: string, path: string): KeyObject {
  const text = readFile(variable, path);
  try {
    return createPrivateKey(text);
  } catch (error) {
    throw new ConfigurationError(`${variable}="${path}" holds no PEM private key that MLog can read (${reason(error)}).`);
  }
}

/** A server's certificate and key: both readable, and the key the certificate's own. */
function checkServerPair(certVariable: string, certPath: string, keyVariable: string, keyPath: string): void {
  const [certificate] = readCertificates(certVariable, certPath);
  const key = readPrivateKey(keyVariable, keyPath);
  if (!certificate!.checkPrivateKey(key)) {
    throw new ConfigurationError(`${keyVariable}="${keyPath}" is not the key of the certificate in ${certVariable}="${certPath}".`);
  }
}

/**
 * Checks the files the configuration names before MLog starts anything: the TLS certificates, keys
 * and CAs can be read and parsed, and each server key belongs to its certificate. Without this, a
 * wrong path would stop MLog only when its listener starts (after Elasticsearch's set-up, with a stack
 * trace), and a CA file without a certificate would start a door that refuses every client.
 * Throws a ConfigurationError whose one-line message names the variable.
 */
export function checkConfiguredFiles(config: MLogConfig): void {
  const { publicApi, adminApi, elasticsearch, oidc } = config;
  checkServerPair('MLOG_TLS_CERT', publicApi.tlsCertPath, 'MLOG_TLS_KEY', publicApi.tlsKeyPath);
  readCertificates('MLOG_TLS_CLIENT_CA', publicApi.tlsClientCaPath);
  if (adminApi.tlsCertPath !== undefined && adminApi.tlsKeyPath !== undefined) {
    checkServerPair('MLOG_ADMIN_TLS_CERT', adminApi.tlsCertPath, 'MLOG_ADMIN_TLS_KEY', adminApi.tlsKeyPath);
  }
  if (elasticsearch.caPath !== undefined) readCertificates('MLOG_ELASTICSEARCH_CA', elasticsearch.caPath);
  if (oidc.caPath !== undefined) readCertificates('MLOG_OIDC_CA', oidc.caPath);
}
