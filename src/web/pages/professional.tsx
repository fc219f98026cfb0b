import { useState } from 'preact/hooks';
import type { Parameters, Patient } from '@medplum/fhirtypes';
import { personName } from '../api.ts';
import { Async, Empty, Link, PageTitle, useLoad } from '../components.tsx';
import { clinicalDate, describe, sourceOf } from '../data.ts';
import { formatDate, formatDateTime, formatTime } from '../format.ts';
import { navigate } from '../router.ts';
import type { PatientRecord } from '../session.tsx';
import { loadRecord, useApp } from '../session.tsx';
import { LabView } from './lab.tsx';
import { t } from '../i18n.ts';

/** Sundhedsjournalen for health professionals: find a patient, see the record across organisations, the lab portal view, værdispring. */

const CPR_SYSTEM = 'urn:oid:1.2.208.176.1.2';

/**
 * @param p - a patient
 * @returns the CPR number with the usual hyphen after the birth date (140381-0068)
 */
function cprOf(p: Patient): string {
  const v = p.identifier?.find((i) => i.system === CPR_SYSTEM)?.value ?? '';
  return v.length === 10 ? `${v.slice(0, 6)}-${v.slice(6)}` : v;
}

/**
 * The professional's pages.
 * @param props - the current path
 * @param props.path - location.pathname
 * @returns the page
 */
export function ProfessionalRoutes(props: { path: string }): preact.JSX.Element {
  const m = /^\/app\/patient\/([A-Za-z0-9.-]{1,64})(\/laboratoriesvar)?$/.exec(props.path);
  return <main id="indhold">{m === null ? <PatientSearch /> : <PatientView id={m[1]!} lab={m[2] !== undefined} />}</main>;
}

function PatientSearch(): preact.JSX.Element {
  const { client, session } = useApp();
  const initial = new URLSearchParams(location.search).get('q') ?? '';
  const [text, setText] = useState(initial);
  const [error, setError] = useState<string>();
  const [loaded, retry] = useLoad(async () => {
    if (initial === '') {
      return undefined;
    }
    const digits = initial.replace(/[\s-]/g, '');
    return /^\d{10}$/.test(digits) ? client.search<Patient>('Patient', { identifier: `${CPR_SYSTEM}|${digits}` }) : client.search<Patient>('Patient', { name: initial, _count: '50', _sort: 'family' });
  }, [initial]);
  const submit = (e: Event): void => {
    e.preventDefault();
    const q = text.trim();
    if (q.length < 2) {
      setError(t('Skriv et CPR-nummer (10 cifre) eller mindst to bogstaver af navnet.', 'Type a CPR number (10 digits) or at least two letters of the name.'));
      return;
    }
    setError(undefined);
    navigate(`/app?q=${encodeURIComponent(q)}`);
  };
  return (
    <>
      <PageTitle title={t('Find patient', 'Find patient')}>
        {t('Logget ind som', 'Logged in as')} {session.claims.name ?? ''}.{' '}
        {t('Du kan finde patienter, som du har en behandlingsrelation til. Alle opslag vises i patientens Min Log.', 'You can find patients you have a treatment relation with. Every look-up is shown in the patient’s Min Log.')}
      </PageTitle>
      <form class="card form search" onSubmit={submit} role="search">
        <label for="q">{t('CPR-nummer eller navn', 'CPR number or name')}</label>
        <span class="hint" id="q-hint">
          {t('Fx 140381-0068 eller Sørensen', 'E.g. 140381-0068 or Sørensen')}
        </span>
        <div class="row">
          <input id="q" type="search" value={text} autocomplete="off" aria-describedby={error === undefined ? 'q-hint' : 'q-hint q-fejl'} aria-invalid={error === undefined ? undefined : true} onInput={(e) => setText((e.currentTarget).value)} />
          <button type="submit" class="primary">
            {t('Søg', 'Search')}
          </button>
        </div>
        {error === undefined ? null : (
          <p class="field-error" id="q-fejl" role="alert">
            {error}
          </p>
        )}
      </form>
      <Async loaded={loaded} what={t('patienter', 'patients')} retry={retry}>
        {(list) =>
          list === undefined ? null : list.length === 0 ? (
            <Empty>
              {t(
                'Ingen patienter fundet. Tjek CPR-nummeret eller stavemåden. Du finder kun patienter, du har en behandlingsrelation til (fx som egen læge, ved en indlæggelse eller en henvisning).',
                'No patients found. Check the CPR number or the spelling. You only find patients you have a treatment relation with (e.g. as their GP, through an admission or a referral).',
              )}
            </Empty>
          ) : (
            <>
              <h2>
                <span role="status">{list.length === 1 ? t('1 patient fundet', '1 patient found') : `${list.length} ${t('patienter fundet', 'patients found')}`}</span>
              </h2>
              <ul class="list">
                {list.map((p) => (
                  <li class="item" key={p.id}>
                    <Link href={`/app/patient/${p.id ?? ''}`}>{personName(p) ?? t('Uden navn', 'No name')}</Link>
                    <p class="meta">
                      CPR {cprOf(p)} · {t('født', 'born')} {formatDate(p.birthDate)}
                      {p.address?.[0]?.city === undefined ? '' : ` · ${p.address[0].city}`}
                    </p>
                  </li>
                ))}
              </ul>
            </>
          )
        }
      </Async>
    </>
  );
}

const BTG_KEY = 'dsd.vaerdispring';

function activeBreakGlass(patientId: string): number | undefined {
  const all = JSON.parse(sessionStorage.getItem(BTG_KEY) ?? '{}') as Record<string, number>;
  const until = all[patientId];
  return until !== undefined && until > Date.now() ? until : undefined;
}

function rememberBreakGlass(patientId: string, until: number): void {
  const all = JSON.parse(sessionStorage.getItem(BTG_KEY) ?? '{}') as Record<string, number>;
  all[patientId] = until;
  sessionStorage.setItem(BTG_KEY, JSON.stringify(all));
}

function PatientView(props: { id: string; lab: boolean }): preact.JSX.Element {
  const { client, session } = useApp();
  const [round, setRound] = useState(0);
  const [btgUntil, setBtgUntil] = useState(() => activeBreakGlass(props.id));
  const [loaded, retry] = useLoad(async () => {
    const record = await loadRecord(client, session.accessToken, props.id, true);
    const check = await client.operation(`Patient/${encodeURIComponent(props.id)}/$vaerdispring`);
    const blocked = (check.parameter ?? []).find((p) => p.name === 'blocked')?.valueBoolean === true;
    return { record, blocked };
  }, [props.id, round]);
  const name = loaded.state === 'ok' ? (personName(loaded.data.record.patient) ?? t('Patient', 'Patient')) : t('Patient', 'Patient');
  return (
    <>
      <p>
        <Link href="/app">{t('← Find en anden patient', '← Find another patient')}</Link>
      </p>
      <PageTitle title={props.lab ? `${t('Laboratoriesvar', 'Lab results')}: ${name}` : name} />
      <Async loaded={loaded} what={t('patientens data', 'the patient’s data')} retry={retry}>
        {({ record, blocked }) => (
          <>
            <p class="meta">
              CPR {cprOf(record.patient)} · {t('født', 'born')} {formatDate(record.patient.birthDate)}
            </p>
            {btgUntil !== undefined ? (
              <div class="notice warn" role="status">
                <p>
                  <strong>
                    {t('Værdispring er aktivt til kl.', 'Værdispring is active until')} {formatTime(btgUntil)}.
                  </strong>{' '}
                  {t(
                    'Du ser også data, som patienten har spærret. Brug kun det, der er nødvendigt for behandlingen. Opslagene vises i patientens Min Log.',
                    'You also see data the patient has blocked. Use only what the treatment needs. The look-ups are shown in the patient’s Min Log.',
                  )}
                </p>
              </div>
            ) : blocked ? (
              <BreakGlass
                patientId={props.id}
                onStarted={(until) => {
                  rememberBreakGlass(props.id, until);
                  setBtgUntil(until);
                  setRound((r) => r + 1);
                }}
              />
            ) : null}
            <nav class="tabs" aria-label={t('Visninger', 'Views')}>
              <Link href={`/app/patient/${props.id}`} current={!props.lab}>
                {t('Samlet journal', 'Combined record')}
              </Link>
              <Link href={`/app/patient/${props.id}/laboratoriesvar`} current={props.lab}>
                {t('Laboratoriesvar', 'Lab results')}
              </Link>
            </nav>
            {props.lab ? <LabView resources={record.resources} dir={record.dir} basePath={`/app/patient/${props.id}/laboratoriesvar`} analysis={new URLSearchParams(location.search).get('analyse') ?? undefined} /> : <Timeline record={record} />}
          </>
        )}
      </Async>
    </>
  );
}

function Timeline(props: { record: PatientRecord }): preact.JSX.Element {
  const r = props.record;
  const items = r.resources
    .filter((x) => x.resourceType !== 'Patient' && x.resourceType !== 'Consent' && x.resourceType !== 'RelatedPerson')
    .map((x) => ({ x, date: clinicalDate(x) }))
    .sort((a, b) => b.date.localeCompare(a.date));
  if (items.length === 0) {
    return <Empty>{t('Der er ingen data, du kan se. Har patienten spærret, kan du bruge værdispring ovenfor, hvis det er nødvendigt.', 'There is no data you can see. If the patient has blocked data, you can use værdispring above when it is necessary.')}</Empty>;
  }
  return (
    <>
      <p class="small">
        {items.length} {t('registreringer fra alle sygehuse, praksis og kommuner, nyeste først.', 'entries from every hospital, practice and municipality, newest first.')}
      </p>
      <ol class="list timeline">
        {items.map(({ x, date }) => {
          const d = describe(x);
          const src = sourceOf(x);
          const org = r.dir.organization(src);
          const who = r.dir.name(src);
          return (
            <li class="item" key={`${x.resourceType}/${x.id ?? ''}`}>
              <span class="tag">{d.kind}</span> <strong>{d.title}</strong>
              {d.detail === undefined || d.detail === '' ? null : <span> – {d.detail}</span>}
              <p class="meta">
                {formatDateTime(date)} · {t('Kilde', 'Source')}: {[who, org?.name].filter((v, i, a) => v !== undefined && a.indexOf(v) === i).join(', ') || t('ikke oplyst', 'not given')}
              </p>
            </li>
          );
        })}
      </ol>
    </>
  );
}

function BreakGlass(props: { patientId: string; onStarted: (until: number) => void }): preact.JSX.Element {
  const { client } = useApp();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [text, setText] = useState('');
  const [minutes, setMinutes] = useState('60');
  const [confirmed, setConfirmed] = useState(false);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (reason === '') {
      setError(t('Vælg en begrundelse.', 'Choose a reason.'));
      return;
    }
    if (text.trim().length < 5) {
      setError(t('Skriv kort, hvorfor du har brug for data (mindst 5 tegn).', 'Write briefly why you need the data (at least 5 characters).'));
      return;
    }
    if (!confirmed) {
      setError(t('Bekræft, at du har en behandlingsmæssig grund, og at opslaget bliver logget.', 'Confirm that you have a treatment reason and that the look-up is logged.'));
      return;
    }
    setBusy(true);
    try {
      const input: Parameters = {
        resourceType: 'Parameters',
        parameter: [
          { name: 'reason', valueCode: reason },
          { name: 'reasonText', valueString: text.trim() },
          { name: 'minutes', valueInteger: Number(minutes) },
        ],
      };
      const out = await client.operation(`Patient/${encodeURIComponent(props.patientId)}/$vaerdispring`, input);
      const expires = Date.parse((out.parameter ?? []).find((p) => p.name === 'expires')?.valueInstant ?? '');
      props.onStarted(Number.isNaN(expires) ? Date.now() + Number(minutes) * 60_000 : expires);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="notice blocked" aria-labelledby="spaerret">
      <h2 id="spaerret">{t('Patienten har spærret for nogle data', 'The patient has blocked some data')}</h2>
      <p>
        {t(
          'Der er data, du ikke kan se, fordi patienten har spærret for dem. Du kan bruge værdispring, hvis patienten giver samtykke, eller hvis patienten ikke kan give samtykke, og data er nødvendige for behandlingen.',
          'There is data you cannot see because the patient has blocked it. You can use værdispring (break-the-glass) if the patient consents, or if the patient cannot consent and the data is needed for the treatment.',
        )}
      </p>
      {!open ? (
        <button type="button" class="primary" onClick={() => setOpen(true)}>
          {t('Brug værdispring', 'Use værdispring')}
        </button>
      ) : (
        <form class="form" onSubmit={(e) => void submit(e)}>
          {error === undefined ? null : (
            <p class="field-error" role="alert">
              {error}
            </p>
          )}
          <fieldset>
            <legend>{t('Begrundelse', 'Reason')}</legend>
            <label class="choice">
              <input type="radio" name="reason" value="citizen-consent" checked={reason === 'citizen-consent'} onChange={() => setReason('citizen-consent')} /> {t('Patienten har givet samtykke', 'The patient has consented')}
            </label>
            <label class="choice">
              <input type="radio" name="reason" value="citizen-unreachable" checked={reason === 'citizen-unreachable'} onChange={() => setReason('citizen-unreachable')} />{' '}
              {t('Patienten kan ikke give samtykke, og data er nødvendige for behandlingen', 'The patient cannot consent, and the data is needed for the treatment')}
            </label>
          </fieldset>
          <label for="btg-text">{t('Beskriv situationen', 'Describe the situation')}</label>
          <textarea id="btg-text" rows={3} value={text} onInput={(e) => setText((e.currentTarget).value)} />
          <label for="btg-min">{t('Hvor længe?', 'For how long?')}</label>
          <select id="btg-min" value={minutes} onChange={(e) => setMinutes((e.currentTarget).value)}>
            <option value="30">{t('30 minutter', '30 minutes')}</option>
            <option value="60">{t('1 time', '1 hour')}</option>
            <option value="120">{t('2 timer', '2 hours')}</option>
            <option value="240">{t('4 timer (højst)', '4 hours (at most)')}</option>
          </select>
          <label class="choice">
            <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed((e.currentTarget).checked)} />{' '}
            {t(
              'Jeg bekræfter, at jeg har en behandlingsmæssig grund. Jeg ved, at værdispringet bliver registreret og vist i patientens Min Log.',
              'I confirm that I have a treatment reason. I know that the værdispring is recorded and shown in the patient’s Min Log.',
            )}
          </label>
          <div class="row">
            <button type="submit" class="primary" disabled={busy}>
              {t('Start værdispring', 'Start værdispring')}
            </button>
            <button type="button" class="secondary" onClick={() => setOpen(false)}>
              {t('Fortryd', 'Cancel')}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

