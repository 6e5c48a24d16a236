/**
 * `npm run bench:jws-verification`: the CPU one RS256 signature check costs MLog's process, checked
 * on the event loop's thread (verifyJwsSignatureNow) and handed to libuv's thread pool
 * (verifyJwsSignature) with 1, 4, 8 and 64 checks in flight. CPU is the whole process's
 * (`process.cpuUsage`: the pool's threads included); "loop busy" is the event loop's own share
 * (`performance.eventLoopUtilization`). Decides SIGNATURES_VERIFIED_IN_LINE (src/events/ingest-service.ts).
 */
import { constants, generateKeyPairSync, sign } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { verifyJwsSignature, verifyJwsSignatureNow } from '../src/auth/jws-signature.js';

const program = new Command()
  .name('npm run bench:jws-verification --')
  .description('CPU per RS256 JWS signature check, on the event loop and on the thread pool')
  .option('--checks <n>', 'checks per measurement', (value) => Number.parseInt(value, 10), 5000)
  .option('--rounds <n>', 'rounds of every way', (value) => Number.parseInt(value, 10), 3)
  .parse();
const { checks, rounds } = program.opts<{ checks: number; rounds: number }>();

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: '1a2b' })).toString('base64url');
const payload = Buffer.from(JSON.stringify({ event_type: 'MPass.Login', event_message: 'x'.repeat(900) })).toString('base64url');
const signingInput = `${header}.${payload}`;
const signature = sign('sha256', Buffer.from(signingInput), { key: privateKey, padding: constants.RSA_PKCS1_PADDING });

function inPlace(): void {
  for (let index = 0; index < checks; index++) {
    if (!verifyJwsSignatureNow('RS256', signingInput, signature, publicKey)) throw new Error('the signature did not verify');
  }
}

async function onThePool(inFlight: number): Promise<void> {
  let started = 0;
  const lane = async (): Promise<void> => {
    while (started < checks) {
      started++;
      if (!(await verifyJwsSignature('RS256', signingInput, signature, publicKey))) throw new Error('the signature did not verify');
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

async function measure(label: string, run: () => void | Promise<void>): Promise<void> {
  const cpu = process.cpuUsage();
  const loop = performance.eventLoopUtilization();
  const started = performance.now();
  await run();
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const busy = performance.eventLoopUtilization(loop);
  const perCheck = (microseconds: number) => `${(microseconds / checks).toFixed(1).padStart(6)} µs`;
  console.log(`  ${label.padEnd(34)} CPU ${perCheck(used.user + used.system)}   loop busy ${perCheck(busy.active * 1000)}   wall ${perCheck(wall * 1000)} per check`);
}

console.log(`RS256 (2048-bit) JWS signature checks, ${checks} per measurement, node ${process.version}`);
for (let round = 1; round <= rounds; round++) {
  console.log(`round ${round}`);
  await measure('on the event loop (in place)', inPlace);
  for (const inFlight of [1, 4, 8, 64]) await measure(`on the thread pool, ${inFlight} in flight`, () => onThePool(inFlight));
}
