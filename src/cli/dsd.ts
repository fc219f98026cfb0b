import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.ts';
import { openDatabase } from '../db/index.ts';
import { seedCommand } from '../platform/population/index.ts';
import { startServer } from '../server/main.ts';
import { clientCommand, tokenCommand } from './identity.ts';
import { messagingCommand } from './messaging.ts';
import { loadValidator } from '../server/validator.ts';
import type { FhirPlatform } from '../platform/fhir/platform.ts';
import { initFhirPlatform } from '../platform/fhir/platform.ts';

const USAGE = `dsd — Digital Sundhed Danmark platform

Usage:
  dsd serve            start the platform (http://localhost:$PORT, default 8080); on an empty
                       database it first loads the reference data and a demo population
  dsd seed --citizens N [--seed S]
                       load the reference data and add N synthetic citizens (deterministic for
                       a seed, default 1); stop the server first when using the embedded database
  dsd token --dev-system [--scope S] [--url U]
                       a backend (system) access token from the running development server,
                       with the development client whose key the server keeps in DSD_DATA_DIR
  dsd token --client ID --key JWK-FILE --scope S [--url U] [--json]
                       client_credentials with a signed client assertion (SMART Backend Services)
  dsd client add --id ID --jwks-file FILE --scope "system/Observation.rs …" [--name N]
                       register a backend client (operator; stop an embedded-database server first)
  dsd messaging bind|allow-host|url|dead-letters|retry|resend …
                       MedCom messaging operations: sender bindings, delivery hosts and URLs,
                       dead letters (dsd messaging help; stop an embedded-database server first)
  dsd help             this text

Environment:
  PORT            HTTP port (default 8080)
  DSD_DATA_DIR    embedded database directory (default ./data; memory:// keeps it in memory)
  DATABASE_URL    use this PostgreSQL server instead of the embedded database
  DSD_SEED_DEMO   false: do not seed demo data on start (default true, false in production)
`;

const io = { stdout: (s: string): void => void process.stdout.write(s), stderr: (s: string): void => void process.stderr.write(s) };

async function main(argv: readonly string[]): Promise<number> {
  const [command = 'serve'] = argv;
  switch (command) {
    case 'serve': {
      const config = loadConfig(process.env);
      const server = await startServer(config);
      process.stdout.write(`DSD platform listening on ${server.url} (FHIR base ${server.url}/fhir, database: ${server.db.dialect})\n`);
      const stop = (): void => {
        server.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      return -1;
    }
    case 'seed': {
      const { values } = parseArgs({ args: argv.slice(1), options: { citizens: { type: 'string' }, seed: { type: 'string' }, 'chunk-size': { type: 'string' } } });
      const citizens = Number(values.citizens);
      const seed = Number(values.seed ?? '1');
      if (!Number.isInteger(citizens) || citizens < 1 || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
        process.stderr.write(`dsd seed needs --citizens N (a positive integer) and optionally --seed S (0 … 4294967295).\n\n${USAGE}`);
        return 2;
      }
      const config = loadConfig(process.env);
      const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      try {
        const chunk = values['chunk-size'] === undefined ? undefined : Number(values['chunk-size']);
        await seedCommand(db, await loadValidator(config), `${config.baseUrl}/fhir`, { citizens, seed, ...(chunk === undefined ? {} : { chunkSize: chunk }) }, (line) => process.stdout.write(`${line}\n`));
      } finally {
        await db.close();
      }
      return 0;
    }
    case 'token':
      return tokenCommand(argv.slice(1), loadConfig(process.env), io);
    case 'client':
      return clientCommand(argv.slice(1), loadConfig(process.env), io);
    case 'messaging': {
      const config = loadConfig(process.env);
      const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      try {
        // resend builds and validates a HospitalNotification: it needs the platform with the MedCom packages.
        const platform = async (): Promise<FhirPlatform> =>
          initFhirPlatform({ db, baseUrl: `${config.baseUrl}/fhir`, defaultPageSize: config.defaultPageSize, maxPageSize: config.maxPageSize, validator: await loadValidator(config) });
        return await messagingCommand(argv.slice(1), db, io, { platform });
      } finally {
        await db.close();
      }
    }
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) {
      process.exit(code);
    }
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
    } else {
      process.stderr.write(`Failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.exit(1);
  },
);
