import { ForbiddenError, NotFoundError } from '../errors/mlog-error.js';
import type { Logger } from '../logging/logger.js';
import type { KnownSystem } from '../systems/system-registry.js';
import type { JsonObject } from '../json/json-object-parser.js';
import { parsePersonalDataQuery, type PersonalDataQuery } from './personal-data-parameters.js';
import type { PersonalDataStore } from './personal-data-store-type.js';
import { PERSONAL_DATA_FIELDS } from './predefined-fields.js';
import { describeClientQuery, type QueryAnswer, type QueryService } from './query-service.js';
import { parseQueryString } from './query-string.js';

export const PERSONAL_DATA_PERMISSION = 'personaldata:read';

/** The one field of an answer that is not stored with the projection: the accessing IS's name, looked up at answer time. */
export const IS_NAME_FIELD = 'is_name';

/** Looks up an IS's name by code (the registry). */
export interface SystemNames {
  findByCode(code: string): Promise<{ system: { name: string } } | undefined>;
}

/** The event_message of the MLog.ClientQuery record, its filter part `subject=<subject>` (see describeClientQuery). */
export function describePersonalDataQuery(query: PersonalDataQuery): string {
  return describeClientQuery({
    from: query.from?.text ?? '',
    to: query.to?.text ?? '',
    basis: query.legal.legal_basis ?? '',
    reason: query.legal.legal_reason ?? '',
    filter: [{ field: 'subject', value: query.subject }],
    page: query.page,
    pageSize: query.pageSize,
  });
}

/**
 * One answer item: the contract's projection fields present in the stored projection, then @is,
 * is_name (when the IS is still in the registry) and @uid. Whatever else storage might hold is left
 * out, so an answer can never carry more than the contract lists.
 */
export function personalDataAnswerItem(projection: JsonObject, isName: string | undefined): JsonObject {
  const item: JsonObject = {};
  for (const field of PERSONAL_DATA_FIELDS) if (projection[field] !== undefined) item[field] = projection[field];
  if (typeof projection['@is'] === 'string') item['@is'] = projection['@is'];
  if (isName !== undefined) item[IS_NAME_FIELD] = isName;
  if (typeof projection['@uid'] === 'string') item['@uid'] = projection['@uid'];
  return item;
}

/**
 * GET /personal-data: who accessed a subject's personal data, from which IS, when and on which legal
 * basis. Promises: an IS without `personaldata:read` is refused (403) before its parameters are read
 * and before anything is searched; every answered or not-found query is registered as an
 * MLog.ClientQuery in the caller's own index before the answer is sent. The subject is never written
 * to MLog's own log.
 */
export class PersonalDataService {
  constructor(
    private readonly store: PersonalDataStore,
    private readonly systems: SystemNames,
    private readonly queries: Pick<QueryService, 'recordClientQuery'>,
    private readonly logger: Logger,
  ) {}

  /** Answers the query string (still percent-encoded) of one GET /personal-data call. */
  async query(caller: KnownSystem, rawQuery: string, receivedAt: Date): Promise<QueryAnswer> {
    if (!caller.system.permissions.includes(PERSONAL_DATA_PERMISSION)) {
      throw new ForbiddenError(
        `Information system "${caller.system.code}" does not hold the ${PERSONAL_DATA_PERMISSION} permission that GET /personal-data needs; ask the MLog administrators.`,
      );
    }
    const query = parsePersonalDataQuery(parseQueryString(rawQuery));
    // The search (of personaldata-*, where query records never go) and the record of the query run together; both finish before the answer.
    const [page] = await Promise.all([
      this.store.searchBySubject({
        subject: query.subject,
        ...(query.from === undefined ? {} : { fromMillis: query.from.millis }),
        ...(query.to === undefined ? {} : { toMillis: query.to.millis }),
        from: query.page * query.pageSize,
        size: query.pageSize,
      }),
      this.queries.recordClientQuery(caller, query.legal, describePersonalDataQuery(query), receivedAt),
    ]);
    this.logger.debug('personal data query answered', { system: caller.system.code, total: page.total, returned: page.projections.length });
    if (page.total === 0) throw new NotFoundError('No data was found for the given parameters.');
    if (page.projections.length === 0) {
      throw new NotFoundError(`No data was found on page ${query.page}: ${page.total} projections match, ${query.pageSize} per page.`);
    }
    const names = await this.systemNames(page.projections);
    return {
      result: page.projections.map((projection) => personalDataAnswerItem(projection, names.get(String(projection['@is'])))),
      pagination: { 'record-count': page.total, page: query.page, 'page-size': query.pageSize },
    };
  }

  /** The registry's current name of each IS that appears on the page. */
  private async systemNames(projections: JsonObject[]): Promise<Map<string, string>> {
    const codes = new Set(projections.map((projection) => projection['@is']).filter((code): code is string => typeof code === 'string'));
    const names = new Map<string, string>();
    for (const code of codes) {
      const known = await this.systems.findByCode(code);
      if (known !== undefined) names.set(code, known.system.name);
    }
    return names;
  }
}
