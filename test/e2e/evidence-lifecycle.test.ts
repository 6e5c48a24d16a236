/**
 * The evidence chain over a process's life, through the doors people use: MLog as a real process
 * stopped with SIGTERM (its final checkpoint covers every acknowledged event, and goes to the
 * checkpoint webhook, a real node:http server here), `mlog retention run` (a signed tombstone before
 * the index goes; none written, the index stays) and `mlog checkpoints export`. Tree hashes are
 * computed with the RFC 9162 code of this file, not MLog's.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compactVerify } from 'jose';
import { createCertificateAuthority, issueClientCertificate, issueServerCertificate, type IssuedCertificate } from '../../scripts/dev-pki.js';
import { closeInspectionClient, inspectionClient } from '../helpers/elasticsearch-inspection.js';
import { runMlogCli } from '../helpers/run-mlog-cli.js';
import { elasticsearchUrl, event, uniqueCode } from '../helpers/test-mlog.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const canonicalize = createRequire(import.meta.url)('canonicalize') as (value: unknown) => string;

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};
const leafHashOf = (leaf: unknown): Buffer => sha256(Buffer.from([0x00]), Buffer.from(canonicalize(leaf), 'utf8'));
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leaves[0] as Buffer;
  let k = 1;
  while (k << 1 < leaves.length) k <<= 1;
  return sha256(Buffer.from([0x01]), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const call = request(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers } }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    call.on('error', reject);
    call.end(body);
  });
}

function register(port: number, caPem: string, client: IssuedCertificate, body: string): Promise<{ status: number; receipt?: string; text: string }> {
  return new Promise((resolve, reject) => {
    const call = httpsRequest(
      { host: '127.0.0.1', port, path: '/register', method: 'POST', ca: caPem, servername: 'localhost', cert: client.certPem, key: client.keyPem, agent: false },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text, ...(typeof response.headers['mlog-receipt'] === 'string' ? { receipt: response.headers['mlog-receipt'] } : {}) }));
      },
    );
    call.on('error', reject);
    call.end(body);
  });
}

function payloadOf(jws: string): Record<string, any> {
  return JSON.parse(Buffer.from(jws.split('.')[1] as string, 'base64url').toString('utf8'));
}

describe('the evidence chain over a process life, retention and export', () => {
  let dir: string;
  let keyPath: string;
  let publicKey: ReturnType<typeof createPublicKey>;
  let tls: Record<string, string>;
  let caPem: string;
  let client: IssuedCertificate;
  const code = uniqueCode('evlife');
  let receiver: Server;
  let receiverUrl: string;
  const delivered: { seq: string | undefined; body: Record<string, any> }[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlog-evidence-life-'));
    keyPath = join(dir, 'signing-key.pem');
    writeFileSync(keyPath, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }));
    publicKey = createPublicKey(createPrivateKey(readFileSync(keyPath, 'utf8')));
    const ca = await createCertificateAuthority(dir, 'Evidence Life CA');
    caPem = ca.certPem;
    client = await issueClientCertificate(ca, dir, { name: code });
    const server = await issueServerCertificate(ca, dir, { name: 'server', hosts: ['localhost', '127.0.0.1'] });
    tls = { MLOG_TLS_CERT: server.certPath, MLOG_TLS_KEY: server.keyPath, MLOG_TLS_CLIENT_CA: ca.certPath };
    const added = await runMlogCli(['systems', 'add', '--code', code, '--name', 'Evidence life', '--idno', '1003600000000', '--cert', client.certPath, '--retention-months', '12']);
    assert.equal(added.code, 0, added.stderr);
    receiver = createServer((incoming: IncomingMessage, response) => {
      let text = '';
      incoming.on('data', (chunk: Buffer) => (text += chunk.toString()));
      incoming.on('end', () => {
        delivered.push({ seq: incoming.headers['x-mlog-evidence-seq'] as string | undefined, body: JSON.parse(text) });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/evidence`;
  });

  after(async () => {
    await runMlogCli(['systems', 'remove', code]);
    await inspectionClient().indices.delete({ index: `mlog-${code}-*` }, { ignore: [404] });
    await closeInspectionClient();
    await new Promise((resolve) => receiver.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  test('SIGTERM: a final checkpoint, signed with MLOG_SIGNING_KEY, covers every acknowledged event, and the webhook receives it', async () => {
    const token = 'evidence-life-token-0123456789';
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        MLOG_ELASTICSEARCH_URL: elasticsearchUrl(),
        ...tls,
        MLOG_HOST: '127.0.0.1',
        MLOG_PORT: '0',
        MLOG_ADMIN_PORT: '0',
        MLOG_ADMIN_TOKEN: token,
        MLOG_SIGNING_KEY: keyPath,
        MLOG_CHECKPOINT_SECONDS: '3600',
        MLOG_CHECKPOINT_WEBHOOK_URL: receiverUrl,
        MLOG_RETENTION_SCHEDULE: 'off',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
    let started: Record<string, any> | undefined;
    for (let i = 0; i < 300 && started === undefined; i++) {
      started = stdout
        .split('\n')
        .filter((line) => line.includes('"MLog started"'))
        .map((line) => JSON.parse(line))[0];
      if (started === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(started, `MLog did not start: ${stdout}`);

    // Calls in flight together, single and batched: every acknowledged one must be under the final checkpoint.
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, n) => register(started.publicPort, caPem, client, n % 3 === 0 ? [1, 2, 3].map((m) => JSON.stringify(event({ event_id: `t${n}-${m}` }))).join('\n') : JSON.stringify(event({ event_id: `t${n}` })))),
    );
    for (const answer of answers) assert.equal(answer.status, 200, answer.text);
    const receipts = answers.map((answer) => payloadOf(answer.receipt as string));
    const log = receipts[0]?.log as string;
    assert.ok(receipts.every((receipt) => receipt.log === log), 'one process, one log');

    child.kill('SIGTERM');
    assert.equal(await exited, 0, stdout);
    assert.doesNotMatch(stdout, /not written|"level":"error"/);

    const client0 = inspectionClient();
    await client0.indices.refresh({ index: 'mlog_evidence,mlog_evidence_leaves' });
    const found = await client0.search<Record<string, any>>({ index: 'mlog_evidence', size: 10, query: { bool: { filter: [{ term: { log } }, { term: { kind: 'checkpoint' } }] } }, sort: [{ seq: 'desc' }] });
    const final = found.hits.hits[0]?._source as Record<string, any>;
    assert.ok(final, 'a checkpoint of the log');
    assert.equal(final.final, true);
    const { payload } = await compactVerify(final.jws, publicKey);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(payload)), { kind: 'checkpoint', seq: final.seq, log, size: final.size, root: final.root, time: final.time, previous: final.previous, final: true });

    const chunks = await client0.search<Record<string, any>>({ index: 'mlog_evidence_leaves', size: 100, query: { term: { log } }, sort: [{ first: 'asc' }] });
    const leaves: Record<string, any>[] = chunks.hits.hits.flatMap((hit) => hit._source?.leaves ?? []);
    assert.equal(leaves.length, final.size);
    assert.equal(mth(leaves.map(leafHashOf)).toString('hex'), final.root, "the checkpoint's root is the tree of the stored leaves");
    for (const receipt of receipts) {
      for (const [offset, listed] of (receipt.events as Record<string, any>[]).entries()) {
        assert.equal(listed.position, receipt.first_position + offset);
        assert.ok(listed.position < final.size, `position ${listed.position} is under the final checkpoint`);
        assert.deepEqual(leaves[listed.position], { kind: 'event', id: listed.id, hash: listed.hash, is: code, month: receipt.received.slice(0, 7).replace('-', '.') });
      }
    }

    const pushed = delivered.find((entry) => entry.body.seq === final.seq);
    assert.ok(pushed, `the webhook received entry ${final.seq}: ${JSON.stringify(delivered.map((entry) => entry.seq))}`);
    assert.equal(pushed.seq, String(final.seq));
    assert.equal(pushed.body.jws, final.jws);
  });

  test('retention: a signed tombstone is in the chain before the index is deleted; without one the index stays', async () => {
    const index = `mlog-${code}-2019.03`;
    const client0 = inspectionClient();
    await client0.indices.create({ index });
    await client0.bulk({ refresh: true, operations: [{ index: { _index: index } }, { event_time: '2019-03-10T10:00:00Z', event_type: 'Test.Event', event_id: 'old', '@is': code }] });
    const env = { MLOG_SIGNING_KEY: keyPath };

    // The chain refuses writes: the tombstone cannot be written, so nothing is deleted.
    await client0.indices.putSettings({ index: 'mlog_evidence', settings: { 'index.blocks.write': true } });
    let blocked;
    try {
      blocked = await runMlogCli(['retention', 'run', '--yes', '--index', index], env);
    } finally {
      await client0.indices.putSettings({ index: 'mlog_evidence', settings: { 'index.blocks.write': false } });
    }
    assert.notEqual(blocked.code, 0, blocked.stdout);
    assert.match(blocked.stdout + blocked.stderr, /not deleted: the tombstone could not be written to the evidence chain/);
    assert.equal(await client0.indices.exists({ index }), true, 'the index stays');

    const run = await runMlogCli(['retention', 'run', '--yes', '--index', index], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(await client0.indices.exists({ index }), false);
    await client0.indices.refresh({ index: 'mlog_evidence' });
    const found = await client0.search<Record<string, any>>({ index: 'mlog_evidence', size: 5, query: { bool: { filter: [{ term: { kind: 'tombstone' } }, { term: { index } }] } } });
    assert.equal(found.hits.hits.length, 1, 'one tombstone: the refused run wrote none');
    const tombstone = found.hits.hits[0]?._source as Record<string, any>;
    const { payload } = await compactVerify(tombstone.jws, publicKey);
    const signed = JSON.parse(new TextDecoder().decode(payload));
    assert.deepEqual({ kind: signed.kind, index: signed.index, is: signed.is, month: signed.month }, { kind: 'tombstone', index, is: code, month: '2019.03' });
    assert.match(signed.reason, new RegExp(`^retention of 12 months for information system ${code}: its month 2019\\.03 ended at or before the cut-off `));
    const audit = await client0.search<Record<string, any>>({ index: 'mlog_audit', size: 1, query: { bool: { filter: [{ term: { event_type: 'MLog.Retention.IndexDeleted' } }, { term: { index } }] } } });
    const recorded = audit.hits.hits[0]?._source as Record<string, any> | undefined;
    if (recorded?.['@received'] !== undefined) assert.ok(Date.parse(signed.time) <= Date.parse(recorded['@received']), 'the tombstone comes before the deletion is recorded');

    // Exported: every entry from the tombstone on, each verifiable with the public key beside it.
    const file = join(dir, 'chain.jsonl');
    const exported = await runMlogCli(['checkpoints', 'export', '--from', String(signed.seq), '--output', file]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, new RegExp(`Exported \\d+ chain entr(y|ies) \\(seq ${signed.seq} to \\d+\\) to `));
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(lines[0].seq, signed.seq);
    assert.equal(lines[0].jws, tombstone.jws);
    for (const [n, line] of lines.entries()) {
      assert.equal(line.seq, signed.seq + n, 'in seq order, none left out');
      const verified = await compactVerify(line.jws, createPublicKey({ key: line.public_key, format: 'jwk' }));
      assert.equal(sha256(verified.payload).toString('hex'), line.hash);
      if (n > 0) assert.equal(payloadOf(line.jws).previous, lines[n - 1].hash, 'each entry names the hash of the one before');
    }
    const bad = await runMlogCli(['checkpoints', 'export', '--from', 'first']);
    assert.equal(bad.code, 2);
  });
});
