import type { CertificateRecord } from './certificate.js';

/** A new IS code: 2 to 31 lower-case letters, digits and "-", starting and ending with a letter or digit (it is part of index names). */
export const IS_CODE_PATTERN = /^[a-z0-9][a-z0-9-]{0,29}[a-z0-9]$/;

/**
 * An IS code as it may appear in an index name or a search: also a code ending in "-", which earlier
 * versions of MLog registered, so the indices of such a system stay managed and searchable.
 */
export const STORED_IS_CODE_PATTERN = /^[a-z0-9][a-z0-9-]{1,30}$/;

export const SYSTEM_STATUSES = ['staging', 'active', 'suspended'] as const;
export type SystemStatus = (typeof SYSTEM_STATUSES)[number];

export const SYSTEM_PERMISSIONS = ['personaldata:read'] as const;
export type SystemPermission = (typeof SYSTEM_PERMISSIONS)[number];

/** An information system registered with MLog, as the registry stores it. */
export interface InformationSystem {
  code: string;
  name: string;
  /** IDNO of the owning organisation; the default legal_entity of its queries. */
  idno: string;
  certificates: CertificateRecord[];
  /** IPs and CIDRs the IS may call from; empty means any address. */
  allowed_addresses: string[];
  require_signature: boolean;
  /** IPs and CIDRs from which its syslog may arrive over plain TCP (MLOG_SYSLOG_TCP_PORT); empty means never. Absent in records written before the syslog door. */
  syslog_addresses?: string[];
  /** IANA time zone of its RFC 3164 syslog timestamps, which carry none; absent means UTC. */
  syslog_timezone?: string;
  permissions: SystemPermission[];
  event_types: string[];
  retention_months: number;
  status: SystemStatus;
  created_at: string;
  updated_at: string;
}

export const DEFAULT_RETENTION_MONTHS = 60;

/** The zone assumed for RFC 3164 timestamps of a system that names none. */
export const DEFAULT_SYSLOG_TIMEZONE = 'UTC';

/** True for a time zone name the runtime knows (IANA, e.g. "Europe/Chisinau", or "UTC"). */
export function isKnownTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** What the admin API answers: the registry record without the certificates' PEM bodies. */
export function describeSystem(system: InformationSystem): Omit<InformationSystem, 'certificates'> & {
  certificates: Omit<CertificateRecord, 'pem'>[];
} {
  return {
    ...system,
    certificates: system.certificates.map(({ pem: _pem, ...rest }) => rest),
  };
}
