import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import winston from 'winston';
import { createLogger, requestScope } from '../../src/logging/logger.js';

function captured(level: string): { logger: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const logger = createLogger(level);
  const lines: Record<string, unknown>[] = [];
  logger.clear();
  logger.add(new winston.transports.Stream({ stream: new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done(); } }) }));
  return { logger, lines };
}

test('a level that is off writes nothing; turning it on later takes effect', async () => {
  const { logger, lines } = captured('warn');
  logger.info('quiet', { n: 1 });
  logger.debug('quieter');
  logger.warn('heard', { n: 2 });
  logger.level = 'info';
  logger.info('now heard', { n: 3 });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(lines.map((line) => [line.level, line.message, line.n]), [['warn', 'heard', 2], ['info', 'now heard', 3]]);
});

test('lines written inside a request scope carry its requestId', async () => {
  const { logger, lines } = captured('info');
  requestScope.run({ requestId: 'r-1' }, () => logger.info('inside'));
  logger.info('outside');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(lines.map((line) => [line.message, line.requestId]), [['inside', 'r-1'], ['outside', undefined]]);
});

test('a child logger keeps its own fields', async () => {
  const { logger, lines } = captured('info');
  logger.child({ worker: 2 }).info('from the child');
  logger.child({ worker: 2 }).debug('off');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(lines.map((line) => [line.message, line.worker]), [['from the child', 2]]);
});
