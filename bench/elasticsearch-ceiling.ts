/**
 * The references of the write scenarios. The ceiling: the documents MLog would store (event fields plus @is, @uid, @id, @received, @signed,
 * @line, @kid, @alg, @jws; PersonalData events also their personaldata projection), sent straight to
 * Elasticsearch `_bulk` with create semantics and fresh ids, into fresh indices made with MLog's own
 * index templates (translog durability "request", so each _bulk is fsynced before it is answered, as
 * MLog's are), from the same number of concurrent keep-alive connections as MLog's batch scenario.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { OpenDocument } from './event-generator.js';
import { HttpClient, runLoad, type LoadResult } from './load-runner.js';

function templateBody(file: string): Record<string, unknown> {
  const template = JSON.parse(readFileSync(new URL(`../index-templates/${file}`, import.meta.url), 'utf8')) as { template: { settings: unknown; mappings: unknown } };
  return { settings: template.template.settings, mappings: template.template.mappings };
}

export interface CeilingOptions {
  elasticsearchUrl: string;
  batchSize: number;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  documents: OpenDocument[];
  /** Makes the index names unique in this run. */
  name: string;
  /** Told when the measured window starts and ends (LoadOptions.onWindow). */
  onWindow?(edge: 'start' | 'end'): void;
}

export async function measureBulkCeiling(options: CeilingOptions): Promise<LoadResult> {
  const es = new HttpClient(options.elasticsearchUrl, options.concurrency);
  const eventIndex = `bench-ceiling-${options.name}`;
  const personalDataIndex = `bench-ceiling-pd-${options.name}`;
  try {
    await es.json('DELETE', `/${eventIndex},${personalDataIndex}?ignore_unavailable=true`);
    await es.json('PUT', `/${eventIndex}`, templateBody('mlog-events.json'));
    await es.json('PUT', `/${personalDataIndex}`, templateBody('personaldata.json'));
    await es.json('GET', `/_cluster/health/${eventIndex},${personalDataIndex}?wait_for_status=yellow&timeout=30s`);
    const eventAction = `{"create":{"_index":"${eventIndex}","_id":"`;
    const personalDataAction = `{"create":{"_index":"${personalDataIndex}","_id":"`;
    let next = 0;
    const result = await runLoad({
      concurrency: options.concurrency,
      warmupMs: options.warmupMs,
      durationMs: options.durationMs,
      ...(options.onWindow === undefined ? {} : { onWindow: options.onWindow }),
      async call() {
        const uid = randomUUID();
        let body = '';
        for (let position = 0; position < options.batchSize; position++) {
          const doc = options.documents[next++ % options.documents.length] as OpenDocument;
          const id = `${uid}-${position.toString().padStart(5, '0')}`;
          const own = `,"@uid":"${uid}","@id":"${id}"}\n`;
          body += `${eventAction}${id}"}}\n${doc.open}${own}`;
          if (doc.personalData !== undefined) body += `${personalDataAction}${id}"}}\n${doc.personalData}${own}`;
        }
        const answer = await es.request('POST', '/_bulk?refresh=false&timeout=10s', body, 'application/x-ndjson');
        if (answer.status !== 200) return { ok: false, units: 0, outcome: String(answer.status) };
        const head = answer.body.slice(0, 40);
        const failed = head.includes('"errors":true') || (!head.includes('"errors":false') && (JSON.parse(answer.body) as { errors: boolean }).errors);
        return failed ? { ok: false, units: 0, outcome: 'item errors' } : { ok: true, units: options.batchSize, outcome: '200' };
      },
    });
    return result;
  } finally {
    // Gone before the next scenario, so its merges do not compete with it.
    await es.json('DELETE', `/${eventIndex},${personalDataIndex}?ignore_unavailable=true`).catch(() => undefined);
    es.close();
  }
}

/**
 * The reference for single-event calls: what a system writing straight to Elasticsearch gets from its
 * single-document API, `POST /<index>/_doc` (Elasticsearch picks the id), one event per request, from
 * `concurrency` keep-alive connections, into a fresh index made with MLog's events template
 * (translog durability "request": each document is fsynced before it is answered, as MLog's are). Each
 * request carries the document MLog would store for the event; a PersonalData event's projection is
 * not written (a system writing straight to Elasticsearch would have none), so the reference is, if
 * anything, faster than the work MLog does for the same events.
 */
export async function measureSingleDocument(options: Omit<CeilingOptions, 'batchSize'>): Promise<LoadResult> {
  const es = new HttpClient(options.elasticsearchUrl, options.concurrency);
  const index = `bench-single-${options.name}`;
  try {
    await es.json('DELETE', `/${index}?ignore_unavailable=true`);
    await es.json('PUT', `/${index}`, templateBody('mlog-events.json'));
    await es.json('GET', `/_cluster/health/${index}?wait_for_status=yellow&timeout=30s`);
    const path = `/${index}/_doc?refresh=false&timeout=10s`;
    let next = 0;
    return await runLoad({
      concurrency: options.concurrency,
      warmupMs: options.warmupMs,
      durationMs: options.durationMs,
      ...(options.onWindow === undefined ? {} : { onWindow: options.onWindow }),
      async call() {
        const doc = options.documents[next++ % options.documents.length] as OpenDocument;
        const uid = randomUUID();
        const answer = await es.request('POST', path, `${doc.open},"@uid":"${uid}","@id":"${uid}-00000"}`);
        return answer.status === 201 ? { ok: true, units: 1, outcome: '201' } : { ok: false, units: 0, outcome: `${answer.status} ${answer.body.slice(0, 80)}` };
      },
    });
  } finally {
    await es.json('DELETE', `/${index}?ignore_unavailable=true`).catch(() => undefined);
    es.close();
  }
}
