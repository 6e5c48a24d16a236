import { verifyCompactJws } from '../auth/jws-verifier.js';
import { MLogError } from '../errors/mlog-error.js';
import type { KnownSystem, SystemRegistry } from '../systems/system-registry.js';
import type { EvidenceReader } from './evidence-reader-type.js';
import { trustedKeyMap, type TrustedKey } from './trusted-key.js';
import { verifyEvidence, type StoredEventHit, type VerifyReport, type VerifyScope } from './verifier.js';

export interface VerificationRun {
  /** MLog's keys to trust (the current one, and any retired one whose entries are still in the chain). */
  keys: readonly TrustedKey[];
  scope: VerifyScope;
  /** Called after each page of events with the number scanned so far. */
  onEvents?: (scanned: number) => void;
}

/** `mlog verify`: the evidence read from the store, checked with src/evidence/verifier.ts, client signatures against the registry. */
export class EvidenceVerification {
  constructor(
    private readonly reader: EvidenceReader,
    private readonly registry: SystemRegistry,
  ) {}

  countEvents(scope: VerifyScope): Promise<number> {
    return this.reader.countEvents(scope);
  }

  /** Checks the chain, every log, and every stored event in scope; the report lists each finding. */
  verify(run: VerificationRun): Promise<VerifyReport> {
    // Each IS's certificates are read and parsed once per run, not once per signed event.
    const systems = new Map<string, Promise<KnownSystem | undefined>>();
    const known = (code: string): Promise<KnownSystem | undefined> => {
      let found = systems.get(code);
      if (found === undefined) {
        found = this.registry.findByCode(code);
        systems.set(code, found);
      }
      return found;
    };
    return verifyEvidence({
      chain: this.reader.chain(),
      leafChunks: this.reader.leafChunks(),
      events: this.reader.events(run.scope),
      keys: trustedKeyMap(run.keys),
      scope: run.scope,
      checkSignature: (hit) => this.checkClientSignature(hit, known),
      ...(run.onEvents === undefined ? {} : { onEvents: run.onEvents }),
    });
  }

  /**
   * A stored `@jws`, verified again against the certificates its IS has registered now, each judged
   * valid or not at the event's `@received` (as at registration).
   */
  private async checkClientSignature(hit: StoredEventHit, systemOf: (code: string) => Promise<KnownSystem | undefined>): Promise<string | undefined> {
    const source = hit.source;
    const jws = source['@jws'] as string;
    const code = typeof source['@is'] === 'string' ? source['@is'] : '';
    const known = await systemOf(code);
    if (known === undefined) return `its system "${code}" is no longer registered.`;
    const received = new Date(typeof source['@received'] === 'string' ? source['@received'] : Number.NaN);
    try {
      await verifyCompactJws(jws, known.certificatesBySerial, 'the JWS', Number.isNaN(received.getTime()) ? new Date() : received);
      return undefined;
    } catch (error) {
      if (error instanceof MLogError) return error.message;
      throw error;
    }
  }
}
