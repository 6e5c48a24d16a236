import type { AuditLog } from '../audit/audit-log.js';
import { ConflictError, StorageUnavailableError } from '../errors/mlog-error.js';
import type { Logger } from '../logging/logger.js';
import type { ConformanceFactsSource } from './conformance-facts-type.js';
import { buildConformanceReport, resolveConformancePeriod, type ConformanceReport } from './conformance-report.js';
import type { InformationSystem, SystemStatus } from '../systems/information-system.js';
import type { SystemRegistry } from '../systems/system-registry.js';

export const SYSTEM_ACTIVATED_EVENT_TYPE = 'MLog.System.Activated';

export interface ActivationRequest {
  /** Activate despite findings, or from `suspended`. */
  force: boolean;
  /** Who activates, for the audit event: "admin-api", "cli by <user>". */
  by: string;
}

export type ActivationOutcome =
  | { activated: true; system: InformationSystem; previousStatus: SystemStatus; forced: boolean; report: ConformanceReport }
  /** Refused because the report of the default period has findings and force was not given; nothing changed. */
  | { activated: false; report: ConformanceReport };

/**
 * Onboarding as the connection procedure has it: an IS registered in `staging` is verified (the
 * conformance report) and then made `active`. Activation rules:
 * - `staging` → `active` when the report of the default period (the last 30 days) has no findings,
 *   or with force; either way an MLog.System.Activated audit event records who, the findings and
 *   whether force was used.
 * - `suspended` → `active` only with force (reinstating a suspended IS is a deliberate act).
 * - an IS already `active` is refused with 409, force or not: there is nothing to activate.
 * The status change and its audit event stand together: if the audit event cannot be stored, the
 * status is put back and the activation fails with 503.
 */
export class OnboardingService {
  constructor(
    private readonly registry: SystemRegistry,
    private readonly facts: ConformanceFactsSource,
    private readonly audit: AuditLog,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The conformance report of an IS; from/to in the event_time syntax (default: the last 30 days). */
  async report(code: string, bounds: { from?: string | undefined; to?: string | undefined } = {}): Promise<ConformanceReport> {
    const system = await this.registry.get(code);
    return this.reportOf(system, bounds.from, bounds.to);
  }

  private async reportOf(system: InformationSystem, from: string | undefined, to: string | undefined): Promise<ConformanceReport> {
    const now = this.now();
    const period = resolveConformancePeriod(from, to, now);
    const facts = await this.facts.gather({ code: system.code, declaredTypes: system.event_types, period });
    return buildConformanceReport(system, period, facts, now);
  }

  async activate(code: string, request: ActivationRequest): Promise<ActivationOutcome> {
    const system = await this.registry.get(code);
    if (system.status === 'active') throw new ConflictError(`Information system "${code}" is already active.`);
    if (system.status === 'suspended' && !request.force) {
      throw new ConflictError(`Information system "${code}" is suspended, not in staging; activate it with force to reinstate it.`);
    }
    const report = await this.reportOf(system, undefined, undefined);
    const findings = report.findings.length;
    if (findings > 0 && !request.force) {
      this.logger.info('activation refused: conformance findings', { system: code, findings });
      return { activated: false, report };
    }
    const forced = request.force && (findings > 0 || system.status !== 'staging');
    const activated = await this.registry.update(code, { status: 'active' });
    try {
      await this.audit.record({
        event_type: SYSTEM_ACTIVATED_EVENT_TYPE,
        event_message: `Information system "${code}" moved from ${system.status} to active${findings === 0 ? ' with no conformance findings' : ` with ${findings} conformance finding${findings === 1 ? '' : 's'}`}${forced ? ', forced' : ''}.`,
        user: request.by,
        is: code,
        previous_status: system.status,
        findings_count: findings,
        finding_codes: [...new Set(report.findings.map((finding) => finding.code))],
        forced,
        period_from: report.period.from,
        period_to: report.period.to,
      });
    } catch (error) {
      await this.registry.update(code, { status: system.status }).catch((revertError: unknown) => {
        this.logger.error('activation not recorded and status not put back', { system: code, error: (revertError as Error).message });
      });
      throw new StorageUnavailableError(`Information system "${code}" was not activated: the activation could not be recorded in the audit log. Retry later.`, { cause: error });
    }
    this.logger.info('information system activated', { system: code, previousStatus: system.status, findings, forced });
    return { activated: true, system: activated, previousStatus: system.status, forced, report };
  }
}
