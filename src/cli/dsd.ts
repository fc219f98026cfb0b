import { ConfigError, loadConfig } from '../config/load.ts';
import { startServer } from '../server/main.ts';

const USAGE = `dsd — Digital Sundhed Danmark platform

Usage:
  dsd serve            start the platform (http://localhost:$PORT, default 8080)
  dsd help             this text

Environment:
  PORT            HTTP port (default 8080)
  DSD_DATA_DIR    embedded database directory (default ./data; memory:// keeps it in memory)
  DATABASE_URL    use this PostgreSQL server instead of the embedded database
`;

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
