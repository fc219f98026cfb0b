import { parseArgs } from 'node:util';
import type { Database } from '../db/index.ts';
import { allowDeliveryHost, listDeadLetters, registerDeliveryUrl, registerMessagingSender, retryDeadLetter } from '../platform/messaging/index.ts';
import { listUnroutableNotifications, resendWorkflowNotification } from '../platform/messaging/index.ts';
import type { FhirPlatform } from '../platform/fhir/platform.ts';

/** Where a command writes. */
export interface CommandOutput {
  stdout(s: string): void;
  stderr(s: string): void;
}

export const MESSAGING_USAGE = `dsd messaging — operator commands for MedCom messaging (docs/messaging.md)

  dsd messaging bind --client ID --organization ORG
                       let backend client ID send as (and read the inbox of) Organization/ORG
  dsd messaging allow-host HOST
                       put HOST on the allow-list of hosts messages may be POSTed to
  dsd messaging url --organization ORG --url URL
                       deliver messages for Organization/ORG by HTTP POST to URL (its host must be allowed)
  dsd messaging dead-letters
                       list dead letters with the reason of their last attempt, and the
                       HospitalNotifications of Encounter changes that could not be addressed
  dsd messaging retry --id N
                       send dead letter N again (its attempts start over)
  dsd messaging resend --notification N
                       send HospitalNotification N (listed by dead-letters) now that its
                       citizen's municipality or receiving unit is known
`;

/**
 * `dsd messaging …`: sender bindings, delivery hosts and URLs, and dead letters.
 * @param argv - the arguments after `messaging`
 * @param db - the platform database
 * @param out - output
 * @param deps - what some commands need beyond the database
 * @param deps.platform - the FHIR platform with the MedCom validator (resend builds and validates a message)
 * @returns the exit code
 */
export async function messagingCommand(argv: readonly string[], db: Database, out: CommandOutput, deps: { platform?: () => Promise<FhirPlatform> } = {}): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { client: { type: 'string' }, organization: { type: 'string' }, url: { type: 'string' }, id: { type: 'string' }, notification: { type: 'string' } },
  });
  try {
    switch (sub) {
      case 'bind':
        if (values.client === undefined || values.organization === undefined) {
          break;
        }
        await registerMessagingSender(db, values.client, values.organization);
        out.stdout(`Client ${values.client} may now send as Organization/${values.organization}.\n`);
        return 0;
      case 'allow-host':
        if (positionals.length !== 1) {
          break;
        }
        await allowDeliveryHost(db, positionals[0]!);
        out.stdout(`Messages may now be delivered to ${positionals[0]!}.\n`);
        return 0;
      case 'url':
        if (values.organization === undefined || values.url === undefined) {
          break;
        }
        await registerDeliveryUrl(db, values.organization, values.url);
        out.stdout(`Messages for Organization/${values.organization} now go to ${values.url}.\n`);
        return 0;
      case 'dead-letters': {
        const rows = await listDeadLetters(db);
        // Workflow events: notifications without a receiver (docs/messaging.md, "Workflow events").
        const unroutable = await listUnroutableNotifications(db);
        if (rows.length === 0 && unroutable.length === 0) {
          out.stdout('No dead letters.\n');
          return 0;
        }
        for (const r of rows) {
          out.stdout(`${r.id}\t${r.eventCode}\t${r.senderOrg} -> ${r.receiverOrg}\tattempts ${r.attempts}\t${r.lastError ?? ''}\n`);
        }
        for (const u of unroutable) {
          out.stdout(`notification ${u.id}\t${u.activity}\t${u.senderOrg} -> ?\t${u.encounter}\t${u.reason}\n`);
        }
        return 0;
      }
      case 'retry': {
        const id = Number(values.id);
        if (!Number.isInteger(id) || id < 1) {
          break;
        }
        if (!(await retryDeadLetter(db, id))) {
          out.stderr(`dsd messaging retry: ${id} is not a dead letter (see dsd messaging dead-letters).\n`);
          return 2;
        }
        out.stdout(`Dead letter ${id} will be sent again.\n`);
        return 0;
      }
      case 'resend': {
        const id = Number(values.notification);
        if (!Number.isInteger(id) || id < 1 || deps.platform === undefined) {
          break;
        }
        const receiver = await resendWorkflowNotification(await deps.platform(), id);
        out.stdout(`HospitalNotification ${id} is queued to Organization/${receiver}.\n`);
        return 0;
      }
      default:
        break;
    }
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    const outcome = (err as { outcome?: { issue?: { details?: { text?: string } }[] } }).outcome?.issue?.[0]?.details?.text;
    out.stderr(`dsd messaging ${sub ?? ''}: ${outcome ?? text}\n`);
    return 2;
  }
  out.stderr(MESSAGING_USAGE);
  return 2;
}
