import type { Client } from '@elastic/elasticsearch';
import { REJECTION_EXCERPT_BYTES, type Rejection, type RejectionStore } from '../rejections/rejection-recorder.js';
import { rejectionsIndexName } from './index-names.js';

function excerpt(body: Uint8Array | string | undefined): string | undefined {
  if (body === undefined || body.length === 0) return undefined;
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return bytes.subarray(0, REJECTION_EXCERPT_BYTES).toString('utf8');
}

export class ElasticsearchRejectionStore implements RejectionStore {
  constructor(private readonly client: Client) {}

  async writeRejections(rejections: Rejection[]): Promise<void> {
    const response = await this.client.bulk({
      operations: rejections.flatMap((rejection) => [
        { create: { _index: rejectionsIndexName(rejection.at) } },
        {
          '@received': rejection.at.toISOString(),
          status: rejection.status,
          reason: rejection.reason,
          is: rejection.system,
          certificate_fingerprint: rejection.certificateFingerprint,
          source_address: rejection.sourceAddress,
          method: rejection.method,
          path: rejection.path,
          request_id: rejection.requestId,
          body_excerpt: excerpt(rejection.body),
          body_bytes: rejection.body?.length ?? 0,
        },
      ]),
    });
    if (response.errors) {
      const failed = response.items.filter((item) => (item.create?.status ?? 500) >= 300);
      throw new Error(`${failed.length} of ${rejections.length} rejections were refused by Elasticsearch (${failed[0]?.create?.error?.reason ?? 'unknown reason'})`);
    }
  }
}
