import { openPostgres } from '../../src/db/postgres.ts';
import { MessageDispatcher } from '../../src/platform/messaging/index.ts';

/**
 * A dispatcher in its own process, for the SIGKILL crash test (sigkill.test.ts): it delivers
 * from the outbox of the PostgreSQL database named by its first argument until it is killed.
 * Arguments: database URL, lease in milliseconds.
 */
const [url, lease] = process.argv.slice(2);
if (url === undefined || lease === undefined) {
  throw new Error('usage: crash-worker.ts <database url> <lease ms>');
}
const db = openPostgres(url, 4);
const dispatcher = new MessageDispatcher(db, { workerId: `crash-${process.pid}`, leaseMs: Number(lease), batchSize: 5 });
process.stdout.write('ready\n');
for (;;) {
  const r = await dispatcher.runOnce();
  if (r.claimed === 0) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
