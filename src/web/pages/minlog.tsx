import { useState } from 'preact/hooks';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { Async, Empty, PageTitle, useLoad } from '../components.tsx';
import { formatDateTime, formatNumber } from '../format.ts';
import { useApp } from '../session.tsx';

/** Min Log: who has looked at the citizen's data, when, from where; værdispring highlighted. */

const TYPE_DA: Record<string, string> = {
  Observation: 'målinger og prøvesvar',
  DiagnosticReport: 'laboratoriesvar',
  Encounter: 'kontakter',
  Condition: 'diagnoser',
  Procedure: 'behandlinger',
  MedicationStatement: 'medicin',
  MedicationRequest: 'ordinationer',
  Immunization: 'vaccinationer',
  DocumentReference: 'notater og breve',
  ServiceRequest: 'henvisninger og rekvisitioner',
  Appointment: 'aftaler',
  Patient: 'stamdata',
  QuestionnaireResponse: 'spørgeskemaer',
  Consent: 'spærringer',
};

const ACTION_DA: Record<string, string> = {
  read: 'Så',
  vread: 'Så en tidligere version af',
  'search-type': 'Søgte i',
  'search-system': 'Søgte i',
  'history-instance': 'Så historikken for',
  'history-type': 'Så historikken for',
  create: 'Oprettede',
  update: 'Ændrede',
  patch: 'Ændrede',
  delete: 'Slettede',
  operation: 'Hentede',
};

function isBreakGlass(e: AuditEvent): boolean {
  return (e.purposeOfEvent ?? []).some((p) => (p.coding ?? []).some((c) => c.code === 'BTG'));
}

function describeEvent(e: AuditEvent): string {
  if ((e.subtype ?? []).some((s) => s.code === '110127') && e.type.code === '110113') {
    return 'Brugte værdispring til at se dine data';
  }
  const action = (e.subtype ?? []).map((s) => ACTION_DA[s.code ?? '']).find((x) => x !== undefined) ?? 'Så';
  const path = (e.entity ?? []).map((x) => x.what?.reference ?? '').filter((r) => r !== '');
  const types = [...new Set(path.map((r) => r.split('/')[0] ?? '').filter((t) => t !== 'Patient'))].map((t) => TYPE_DA[t] ?? t);
  return `${action} ${types.length === 0 ? 'dine data' : types.join(', ')}`;
}

/**
 * The Min Log page.
 * @param props - whose log
 * @param props.patientId - the patient
 * @returns the page
 */
export function MinLogPage(props: { patientId: string }): preact.JSX.Element {
  const { client } = useApp();
  const [pages, setPages] = useState(1);
  const [loaded, retry] = useLoad(async () => {
    const b = await client.searchBundle('AuditEvent', { patient: `Patient/${props.patientId}`, _count: String(50 * pages), _sort: '-date' });
    return b;
  }, [props.patientId, pages]);
  return (
    <>
      <PageTitle title="Min Log">Her kan du se, hvilke sundhedspersoner og systemer der har set eller ændret data, og hvornår. Dine egne opslag vises ikke. Loggen gemmes i to år.</PageTitle>
      <Async loaded={loaded} what="din log" retry={retry}>
        {(b: Bundle) => {
          const events = (b.entry ?? []).map((x) => x.resource as AuditEvent);
          const btg = events.filter(isBreakGlass).length;
          if (events.length === 0) {
            return <Empty>Ingen har set data endnu. Når en sundhedsperson eller et system slår op, kommer det her.</Empty>;
          }
          return (
            <>
              {btg === 0 ? null : (
                <div class="notice warn" role="note">
                  <p>
                    <strong>Værdispring:</strong> {formatNumber(btg)} {btg === 1 ? 'opslag' : 'opslag'} nedenfor er sket med værdispring, dvs. en sundhedsperson har set data, du har spærret, eller uden at have dig i behandling. Det må kun ske, hvis det er nødvendigt for din behandling. Du kan klage til Styrelsen for Patientsikkerhed.
                  </p>
                </div>
              )}
              <p class="small" role="status">
                Viser {formatNumber(events.length)} af {formatNumber(b.total ?? events.length)} opslag, nyeste først.
              </p>
              <ol class="list log">
                {events.map((e) => {
                  const user = e.agent.find((a) => a.requestor);
                  const org = e.agent.find((a) => (a.type?.coding ?? []).some((c) => c.code === 'RESP'));
                  const address = user?.network?.address;
                  const bg = isBreakGlass(e);
                  return (
                    <li key={e.id} class={bg ? 'item btg' : 'item'}>
                      {bg ? <span class="flag high">Værdispring</span> : null}
                      <p>
                        <strong>{user?.who?.display ?? 'Ukendt'}</strong>
                      </p>
                      <p>{describeEvent(e)}</p>
                      <p class="meta">
                        {formatDateTime(e.recorded)}
                        {org?.who?.display === undefined ? '' : ` · ${org.who.display}`}
                        {address === undefined ? '' : ` · fra ${address}`}
                        {e.outcome !== undefined && e.outcome !== '0' ? ' · blev afvist' : ''}
                      </p>
                    </li>
                  );
                })}
              </ol>
              {(b.total ?? 0) > events.length ? (
                <button type="button" onClick={() => setPages((p) => p + 1)}>
                  Vis flere
                </button>
              ) : null}
            </>
          );
        }}
      </Async>
    </>
  );
}
