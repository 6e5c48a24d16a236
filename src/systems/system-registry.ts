import { compileAllowedAddresses, compileSyslogAddresses, normalizeAddress } from './address-matcher.js';
import { describeCertificate, readCertificate, readSystemCertificate, type CertificateRecord } from './certificate.js';
import type { KeyObject } from 'node:crypto';
import type { SigningCertificate } from './certificate.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors/mlog-error.js';
import type { Logger } from '../logging/logger.js';
import { DEFAULT_RETENTION_MONTHS, DEFAULT_SYSLOG_TIMEZONE, isKnownTimeZone, type InformationSystem } from './information-system.js';
import type { NewSystem, SystemChanges } from './system-schemas.js';
import type { SystemStore } from './system-store-type.js';

/** A registered IS prepared for the hot path: address matcher and signing keys built once per cache load. */
export interface KnownSystem {
  system: InformationSystem;
  isAllowedAddress: (address: string) => boolean;
  /** True for an address in its `syslog_addresses` (never when the list is empty or absent). */
  isSyslogAddress: (address: string) => boolean;
  /** Its `syslog_timezone`, or UTC. */
  syslogTimezone: string;
  certificatesBySerial: ReadonlyMap<string, SigningCertificate>;
}

interface Snapshot {
  loadedAt: number;
  byFingerprint: Map<string, { known: KnownSystem; certificate: CertificateRecord }>;
  byCode: Map<string, KnownSystem>;
}

/**
 * `publicKeys`: the keys of the previous load by PEM, reused (a certificate is parsed once, not at
 * every reload of the registry); `keysNow` collects the keys of this load.
 */
function prepare(system: InformationSystem, publicKeys: ReadonlyMap<string, KeyObject>, keysNow: Map<string, KeyObject>): KnownSystem {
  const certificatesBySerial = new Map<string, SigningCertificate>();
  for (const record of system.certificates) {
    const publicKey = publicKeys.get(record.pem) ?? readCertificate(record.pem).publicKey;
    keysNow.set(record.pem, publicKey);
    certificatesBySerial.set(record.serial, { record, publicKey });
  }
  return {
    system,
    isAllowedAddress: compileAllowedAddresses(system.allowed_addresses),
    isSyslogAddress: compileSyslogAddresses(system.syslog_addresses ?? []),
    syslogTimezone: system.syslog_timezone ?? DEFAULT_SYSLOG_TIMEZONE,
    certificatesBySerial,
  };
}

/** Refuses a system whose syslog settings cannot be used: addresses that are not IPs or CIDRs, an unknown time zone. */
function checkSyslogSettings(system: InformationSystem): void {
  compileSyslogAddresses(system.syslog_addresses ?? []);
  if (system.syslog_timezone !== undefined && !isKnownTimeZone(system.syslog_timezone)) {
    throw new ValidationError(`syslog_timezone "${system.syslog_timezone}" is not a time zone MLog knows; give an IANA name such as "Europe/Chisinau" or "UTC".`);
  }
}

/**
 * The registry of information systems: administration (add, change, remove) and the look-ups of the
 * request path. Each instance keeps the whole registry in memory for `cacheSeconds`; its own changes
 * take effect at once, other instances' within that time. A certificate belongs to at most one IS.
 */
export class SystemRegistry {
  private snapshot: Snapshot | undefined;
  private loading: Promise<Snapshot> | undefined;
  /** The public keys of the last load, by certificate PEM. */
  private publicKeys: ReadonlyMap<string, KeyObject> = new Map();

  constructor(
    private readonly store: SystemStore,
    private readonly logger: Logger,
    private readonly cacheSeconds: number,
  ) {}

  private async load(): Promise<Snapshot> {
    this.loading ??= (async () => {
      try {
        const systems = await this.store.list();
        const snapshot: Snapshot = { loadedAt: Date.now(), byFingerprint: new Map(), byCode: new Map() };
        const keysNow = new Map<string, KeyObject>();
        for (const system of systems) {
          try {
            const known = prepare(system, this.publicKeys, keysNow);
            snapshot.byCode.set(system.code, known);
            for (const certificate of system.certificates) snapshot.byFingerprint.set(certificate.fingerprint256, { known, certificate });
          } catch (error) {
            this.logger.error('registry record cannot be used', { system: system.code, error: (error as Error).message });
          }
        }
        this.snapshot = snapshot;
        this.publicKeys = keysNow;
        return snapshot;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private async current(): Promise<Snapshot> {
    const snapshot = this.snapshot;
    if (snapshot !== undefined && Date.now() - snapshot.loadedAt < this.cacheSeconds * 1000) return snapshot;
    return this.load();
  }

  /** The IS that registered the certificate with this SHA-256 fingerprint (re-reading the registry at most once a second on a miss). */
  async findByFingerprint(fingerprint256: string): Promise<{ known: KnownSystem; certificate: CertificateRecord } | undefined> {
    let snapshot = await this.current();
    let found = snapshot.byFingerprint.get(fingerprint256);
    if (found === undefined && Date.now() - snapshot.loadedAt > 1000) {
      snapshot = await this.load();
      found = snapshot.byFingerprint.get(fingerprint256);
    }
    return found;
  }

  /**
   * The same look-up without waiting, from the registry already in memory: the IS of this fingerprint
   * while the cached registry is fresh; undefined when it is not in memory, not fresh, or has no such
   * certificate (then ask `findByFingerprint`, which reads the registry again).
   */
  cachedByFingerprint(fingerprint256: string): { known: KnownSystem; certificate: CertificateRecord } | undefined {
    const snapshot = this.snapshot;
    if (snapshot === undefined || Date.now() - snapshot.loadedAt >= this.cacheSeconds * 1000) return undefined;
    return snapshot.byFingerprint.get(fingerprint256);
  }

  /**
   * The system whose `syslog_addresses` hold this source address (plain-TCP syslog). Undefined when
   * none does; `ambiguous` lists the codes when several do (the connection is then refused).
   */
  async findBySyslogAddress(address: string): Promise<{ known: KnownSystem } | { ambiguous: string[] } | undefined> {
    const snapshot = await this.current();
    const matching = [...snapshot.byCode.values()].filter((known) => known.isSyslogAddress(normalizeAddress(address)));
    if (matching.length === 0) return undefined;
    if (matching.length > 1) return { ambiguous: matching.map((known) => known.system.code).sort() };
    return { known: matching[0] as KnownSystem };
  }

  async findByCode(code: string): Promise<KnownSystem | undefined> {
    return (await this.current()).byCode.get(code);
  }

  /** Forgets the cached registry so the next look-up reads it again. */
  invalidate(): void {
    this.snapshot = undefined;
  }

  async list(): Promise<InformationSystem[]> {
    return this.store.list();
  }

  async get(code: string): Promise<InformationSystem> {
    const found = await this.store.get(code);
    if (found === undefined) throw new NotFoundError(`No information system has the code "${code}".`);
    return found.system;
  }

  async add(input: NewSystem): Promise<InformationSystem> {
    const now = new Date().toISOString();
    const system: InformationSystem = {
      code: input.code,
      name: input.name,
      idno: input.idno,
      certificates: this.readCertificates(input.certificates),
      allowed_addresses: input.allowed_addresses ?? [],
      require_signature: input.require_signature ?? false,
      ...(input.syslog_addresses === undefined ? {} : { syslog_addresses: input.syslog_addresses }),
      ...(input.syslog_timezone === undefined ? {} : { syslog_timezone: input.syslog_timezone }),
      permissions: input.permissions ?? [],
      event_types: input.event_types ?? [],
      retention_months: input.retention_months ?? DEFAULT_RETENTION_MONTHS,
      status: input.status ?? 'staging',
      created_at: now,
      updated_at: now,
    };
    compileAllowedAddresses(system.allowed_addresses);
    checkSyslogSettings(system);
    await this.ensureCertificatesAreFree(system);
    await this.store.create(system);
    this.invalidate();
    this.logger.info('information system added', { system: system.code, status: system.status });
    return system;
  }

  async update(code: string, changes: SystemChanges): Promise<InformationSystem> {
    const found = await this.store.get(code);
    if (found === undefined) throw new NotFoundError(`No information system has the code "${code}".`);
    const { certificates, ...rest } = changes;
    const system: InformationSystem = {
      ...found.system,
      ...rest,
      ...(certificates === undefined ? {} : { certificates: this.readCertificates(certificates) }),
      updated_at: new Date().toISOString(),
    };
    compileAllowedAddresses(system.allowed_addresses);
    checkSyslogSettings(system);
    if (certificates !== undefined) await this.ensureCertificatesAreFree(system);
    await this.store.replace(system, found.version);
    this.invalidate();
    this.logger.info('information system changed', { system: code, fields: Object.keys(changes) });
    return system;
  }

  async remove(code: string): Promise<void> {
    if (!(await this.store.remove(code))) throw new NotFoundError(`No information system has the code "${code}".`);
    this.invalidate();
    this.logger.info('information system removed', { system: code });
  }

  private readCertificates(inputs: string[]): CertificateRecord[] {
    const records = inputs.map((input, index) => describeCertificate(readSystemCertificate(input, `certificates[${index}]`)));
    const seen = new Set<string>();
    for (const record of records) {
      if (seen.has(record.fingerprint256)) throw new ValidationError(`The certificate with serial ${record.serial} is listed twice.`);
      seen.add(record.fingerprint256);
    }
    return records;
  }

  private async ensureCertificatesAreFree(system: InformationSystem): Promise<void> {
    const others = (await this.store.list()).filter((other) => other.code !== system.code);
    for (const certificate of system.certificates) {
      const owner = others.find((other) => other.certificates.some((c) => c.fingerprint256 === certificate.fingerprint256));
      if (owner !== undefined) {
        throw new ConflictError(`The certificate with serial ${certificate.serial} is already registered to information system "${owner.code}".`);
      }
    }
  }
}
