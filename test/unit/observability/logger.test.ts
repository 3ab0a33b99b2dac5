import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import pretty from 'pino-pretty';
import { requestContext } from '../../../src/http/requestContext';
import { logFormatFor, prettyOptions } from '../../../src/observability/logger';
import { temporalLogger } from '../../../src/observability/temporalLogger';

/** A pino logger whose records land in `lines` (JSON objects, or pretty text). */
function capture(level = 'info', format: 'json' | 'pretty' = 'json') {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const destination = format === 'pretty' ? pretty({ ...prettyOptions(), colorize: false, destination: sink, sync: true }) : sink;
  return { logger: pino({ name: 'api', level }, destination), lines, records: () => lines.map((line) => JSON.parse(line)) };
}

describe('logFormatFor', () => {
  it('is pretty in development (also when NODE_ENV is unset, as config defaults it) and JSON otherwise', () => {
    expect(logFormatFor('development')).toBe('pretty');
    expect(logFormatFor(undefined)).toBe('pretty');
    expect(logFormatFor('production')).toBe('json');
    expect(logFormatFor('test')).toBe('json');
  });
});

describe('the pretty line', () => {
  it('puts time, level, process, request id, method, path, status and duration on one line', () => {
    const { logger, lines } = capture('info', 'pretty');
    logger.child({ request_id: 'req_0123456789' }).warn({ method: 'POST', path: '/api/v1/listings', status: 422, duration_ms: 12.5, org_id: 'org_1' }, 'request completed');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN \(api\): req_0123456789 POST \/api\/v1\/listings 422 12\.5ms request completed \{"org_id":"org_1"\}$/);
    expect(lines[0]).not.toMatch(/pid|hostname/);
  });
});

describe('request log levels', () => {
  it.each([
    [200, 'info'],
    [302, 'info'],
    [404, 'warn'],
    [429, 'warn'],
    [500, 'error'],
    [503, 'error'],
  ])('logs a %i at %s', async (status, level) => {
    const { logger, records } = capture();
    const app = express();
    app.use(requestContext(logger));
    app.get('/x', (_req, res) => void res.status(status).end());
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x?q=1`, { redirect: 'manual' });
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      server.closeAllConnections();
      server.close();
    }
    expect(records()).toEqual([expect.objectContaining({ level: pino.levels.values[level], msg: 'request completed', method: 'GET', path: '/x', status })]);
  });
});

describe('temporalLogger', () => {
  it("drops the SDK's own INFO to debug, one record per message even for the webpack report", () => {
    const quiet = capture('info');
    temporalLogger(quiet.logger).info('Worker state changed', { sdkComponent: 'worker', state: 'RUNNING' });
    temporalLogger(quiet.logger).info('asset workflow-bundle.js 1.95 MiB\nmodules by path ./workflows/ 26 KiB\n  ./workflows/index.ts', { sdkComponent: 'worker' });
    expect(quiet.lines).toEqual([]);

    const verbose = capture('debug');
    temporalLogger(verbose.logger).info('asset workflow-bundle.js 1.95 MiB\nmodules by path ./workflows/ 26 KiB\n  ./workflows/index.ts', { sdkComponent: 'worker' });
    expect(verbose.records()).toEqual([
      expect.objectContaining({ level: 20, component: 'temporal', msg: 'asset workflow-bundle.js 1.95 MiB', lines: ['modules by path ./workflows/ 26 KiB', '  ./workflows/index.ts'] }),
    ]);
  });

  it('keeps warnings, errors and the workflow and activity loggers at their level, errors as err', () => {
    const { logger, records } = capture('info');
    const adapter = temporalLogger(logger);
    adapter.warn('Activity heartbeat timed out', { sdkComponent: 'worker' });
    adapter.error('Failed to activate workflow', { sdkComponent: 'worker', error: new Error('boom') });
    adapter.info('publishing listing', { sdkComponent: 'activity', activityType: 'publish' });
    adapter.log('INFO', 'workflow started', { sdkComponent: 'workflow' });
    const got = records();
    expect(got.map((record) => [record.level, record.msg])).toEqual([
      [40, 'Activity heartbeat timed out'],
      [50, 'Failed to activate workflow'],
      [30, 'publishing listing'],
      [30, 'workflow started'],
    ]);
    expect(got[1].err).toMatchObject({ type: 'Error', message: 'boom' });
    expect(got[2]).toMatchObject({ sdk_component: 'activity', activityType: 'publish' });
  });
});
