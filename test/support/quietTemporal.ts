import { DefaultLogger, Runtime } from '@temporalio/worker';

// Worker lifecycle chatter drowns the test report; warnings and errors still show.
Runtime.install({ logger: new DefaultLogger((process.env.TEMPORAL_LOG_LEVEL as 'WARN' | undefined) ?? 'WARN') });
