import { useState } from 'preact/hooks';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { Async, Empty, PageTitle, useLoad } from '../components.tsx';
import { formatDateTime, formatNumber } from '../format.ts';
import { useApp } from '../session.tsx';
import { t } from '../i18n.ts';

/** Min Log: who has looked at the citizen's data, when, from where; værdispring highlighted. */

const TYPES: Record<string, [string, string]> = {
  Observation: ['målinger og prøvesvar', 'measurements and lab results'],
  DiagnosticReport: ['laboratoriesvar', 'lab reports'],
  Encounter: ['kontakter', 'contacts'],
  Condition: ['diagnoser', 'diagnoses'],
  Procedure: ['behandlinger', 'procedures'],
  MedicationStatement: ['medicin', 'medicine'],
  MedicationRequest: ['ordinationer', 'prescriptions'],
  Immunization: ['vaccinationer', 'vaccinations'],
  DocumentReference: ['notater og breve', 'notes and letters'],
  ServiceRequest: ['henvisninger og rekvisitioner', 'referrals and requisitions'],
  Appointment: ['aftaler', 'appointments'],
  Patient: ['stamdata', 'personal details'],
  QuestionnaireResponse: ['spørgeskemaer', 'questionnaires'],
  Consent: ['spærringer', 'blocks'],
};

const ACTIONS: Record<string, [string, string]> = {
  read: ['Så', 'Viewed'],
  vread: ['Så en tidligere version af', 'Viewed an earlier version of'],
  'search-type': ['Søgte i', 'Searched'],
  'search-system': ['Søgte i', 'Searched'],
  'history-instance': ['Så historikken for', 'Viewed the history of'],
  'history-type': ['Så historikken for', 'Viewed the history of'],
  create: ['Oprettede', 'Created'],
  update: ['Ændrede', 'Changed'],
  patch: ['Ændrede', 'Changed'],
  delete: ['Slettede', 'Deleted'],
  operation: ['Hentede', 'Retrieved'],
};

function tr(pair: [string, string] | undefined): string | undefined {
  return pair === undefined ? undefined : t(pair[0], pair[1]);
}

function isBreakGlass(e: AuditEvent): boolean {
  return (e.purposeOfEvent ?? []).some((p) => (p.coding ?? []).some((c) => c.code === 'BTG'));
}

function describeEvent(e: AuditEvent): string {
  if ((e.subtype ?? []).some((s) => s.code === '110127') && e.type.code === '110113') {
    return t('Brugte værdispring til at se dine data', 'Used værdispring (break-the-glass) to see your data');
  }
  const sent = e.type.code === '110106' ? t('Fik tilsendt', 'Was sent') : undefined;
  const action = sent ?? (e.subtype ?? []).map((s) => tr(ACTIONS[s.code ?? ''])).find((x) => x !== undefined) ?? t('Så', 'Viewed');
  const path = (e.entity ?? []).map((x) => x.what?.reference ?? '').filter((r) => r !== '');
  const types = [...new Set(path.map((r) => r.split('/')[0] ?? '').filter((x) => x !== 'Patient'))].map((x) => tr(TYPES[x]) ?? x);
  return `${action} ${types.length === 0 ? t('dine data', 'your data') : types.join(', ')}`;
}

/**
 * The Min Log page.
 * @param props - whose log
 * @param props.patientId - the patient
 * @returns the page
 */
export function MinLogPage(props: { patientId: string }): preact.JSX.Element {
  const { client } = useApp();
  const [more, setMore] = useState<{ events: AuditEvent[]; next?: string; busy: boolean }>({ events: [], busy: false });
  const [loaded, retry] = useLoad(async () => {
    setMore({ events: [], busy: false });
    return client.searchBundle('AuditEvent', { patient: `Patient/${props.patientId}`, _count: '50', _sort: '-date' });
  }, [props.patientId]);
  const loadMore = async (url: string): Promise<void> => {
    setMore((m) => ({ ...m, busy: true }));
    try {
      const b = await client.request<Bundle>('GET', url);
      setMore((m) => ({ events: [...m.events, ...(b.entry ?? []).map((x) => x.resource as AuditEvent)], next: b.link?.find((l) => l.relation === 'next')?.url ?? '', busy: false }));
    } catch {
      setMore((m) => ({ ...m, busy: false }));
    }
  };
  return (
    <>
      <PageTitle title={t('Min Log', 'My Log')}>
        {t(
          'Her kan du se, hvilke sundhedspersoner og systemer der har set eller ændret data, og hvornår. Dine egne opslag vises ikke. Loggen gemmes i to år.',
          'See which health professionals and systems have looked at or changed data, and when. Your own look-ups are not shown. The log is kept for two years.',
        )}
      </PageTitle>
      <Async loaded={loaded} what={t('din log', 'your log')} retry={retry}>
        {(b: Bundle) => {
          const events = [...(b.entry ?? []).map((x) => x.resource as AuditEvent), ...more.events];
          const next = more.next ?? b.link?.find((l) => l.relation === 'next')?.url;
          const btg = events.filter(isBreakGlass).length;
          if (events.length === 0) {
            return <Empty>{t('Ingen har set data endnu. Når en sundhedsperson eller et system slår op, kommer det her.', 'Nobody has looked at the data yet. When a health professional or a system does, it is shown here.')}</Empty>;
          }
          return (
            <>
              {btg === 0 ? null : (
                <div class="notice warn" role="note">
                  <p>
                    <strong>{t('Værdispring', 'Værdispring (break-the-glass)')}:</strong> {formatNumber(btg)}{' '}
                    {t(
                      'opslag nedenfor er sket med værdispring, dvs. en sundhedsperson har set data, du har spærret, eller uden at have dig i behandling. Det må kun ske, hvis det er nødvendigt for din behandling. Du kan klage til Styrelsen for Patientsikkerhed.',
                      'look-ups below were made with værdispring: a health professional saw data you have blocked, or without treating you. This is only allowed when it is needed for your treatment. You can complain to the Danish Patient Safety Authority.',
                    )}
                  </p>
                </div>
              )}
              <p class="small" role="status">
                {t('Viser', 'Showing')} {formatNumber(events.length)} {t('af', 'of')} {formatNumber(b.total ?? events.length)} {t('opslag, nyeste først.', 'look-ups, newest first.')}
              </p>
              <ol class="list log">
                {events.map((e) => {
                  const user = e.agent.find((a) => a.requestor);
                  const org = e.agent.find((a) => (a.type?.coding ?? []).some((c) => c.code === 'RESP'));
                  const address = user?.network?.address;
                  const bg = isBreakGlass(e);
                  return (
                    <li key={e.id} class={bg ? 'item btg' : 'item'}>
                      {bg ? <span class="flag high">{t('Værdispring', 'Værdispring')}</span> : null}
                      <p>
                        <strong>{user?.who?.display ?? t('Ukendt', 'Unknown')}</strong>
                      </p>
                      <p>{describeEvent(e)}</p>
                      <p class="meta">
                        {formatDateTime(e.recorded)}
                        {org?.who?.display === undefined ? '' : ` · ${org.who.display}`}
                        {address === undefined ? '' : ` · ${t('fra', 'from')} ${address}`}
                        {e.outcome !== undefined && e.outcome !== '0' ? ` · ${t('blev afvist', 'was refused')}` : ''}
                      </p>
                    </li>
                  );
                })}
              </ol>
              {next !== undefined && next !== '' ? (
                <button type="button" disabled={more.busy} onClick={() => void loadMore(next)}>
                  {t('Vis flere', 'Show more')}
                </button>
              ) : null}
            </>
          );
        }}
      </Async>
    </>
  );
}
