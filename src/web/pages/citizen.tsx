import type { Organization, Patient, PractitionerRole } from '@medplum/fhirtypes';
import { personName } from '../api.ts';
import { Async, Empty, Flag, Link, PageTitle, TrendChart, useLoad } from '../components.tsx';
import type { Appointment, Condition, DocumentReference, Encounter, Immunization, MedicationStatement, Observation, Procedure, ServiceRequest } from '../data.ts';
import {
  appointmentStatus,
  byAnalysis,
  codeText,
  conditionStatus,
  documentText,
  encounterKind,
  isHomeMeasurement,
  isReferral,
  labResults,
  newestFirst,
  ofType,
  requestStatus,
  sourceOf,
  toLabResult,
  trendPoints,
} from '../data.ts';
import { count, formatDate, formatDateTime, formatNumber } from '../format.ts';
import type { PatientRecord } from '../session.tsx';
import { loadRecord, useApp } from '../session.tsx';
import { LabView } from './lab.tsx';
import { BlocksPage } from './blocks.tsx';
import { MinLogPage } from './minlog.tsx';
import { CHILDHOOD_PROGRAMME } from '../programme.ts';
import { t } from '../i18n.ts';

/** MinSundhed: the citizen's own data (or the data of the person they act for). */

export const CITIZEN_SECTIONS = [
  { path: '/app', title: (): string => t('Overblik', 'Overview') },
  { path: '/app/sundhedsjournal', title: (): string => t('Sundhedsjournal', 'Health record') },
  { path: '/app/laboratoriesvar', title: (): string => t('Prøvesvar', 'Lab results') },
  { path: '/app/medicin', title: (): string => t('Medicinkort', 'Medicine card') },
  { path: '/app/vaccinationer', title: (): string => t('Vaccinationer', 'Vaccinations') },
  { path: '/app/aftaler', title: (): string => t('Aftaler', 'Appointments') },
  { path: '/app/henvisninger', title: (): string => t('Henvisninger', 'Referrals') },
  { path: '/app/hjemmemaalinger', title: (): string => t('Hjemmemålinger', 'Home measurements') },
  { path: '/app/egen-laege', title: (): string => t('Egen læge', 'My GP') },
  { path: '/app/min-log', title: (): string => t('Min Log', 'My Log') },
  { path: '/app/spaerring', title: (): string => t('Min Spærring', 'My Blocks') },
] as const;

/**
 * The citizen's pages.
 * @param props - the current path
 * @param props.path - location.pathname
 * @returns the page
 */
export function CitizenRoutes(props: { path: string }): preact.JSX.Element {
  const { session, client } = useApp();
  const patientId = session.claims.patient ?? session.claims.fhirUser?.replace(/^Patient\//, '') ?? '';
  const [loaded, retry] = useLoad(() => loadRecord(client, session.accessToken, patientId), [session.accessToken, patientId]);
  const section = CITIZEN_SECTIONS.find((s) => s.path === props.path);
  const title = section?.title() ?? t('Siden findes ikke', 'Page not found');
  const needsRecord = props.path !== '/app/min-log' && props.path !== '/app/spaerring';
  return (
    <main id="indhold">
      {props.path === '/app/min-log' ? (
        <MinLogPage patientId={patientId} />
      ) : props.path === '/app/spaerring' ? (
        <BlocksPage patientId={patientId} />
      ) : (
        <>
          <PageTitle title={section?.path === '/app' ? 'MinSundhed' : title} />
          {section === undefined ? (
            <Empty>
              {t('Siden findes ikke.', 'The page does not exist.')} <Link href="/app">{t('Gå til overblikket', 'Go to the overview')}</Link>.
            </Empty>
          ) : needsRecord ? (
            <Async loaded={loaded} what={t('dine sundhedsdata', 'your health data')} retry={retry}>
              {(record) => <Section path={props.path} record={record} />}
            </Async>
          ) : null}
        </>
      )}
    </main>
  );
}

function Section(props: { path: string; record: PatientRecord }): preact.JSX.Element {
  const r = props.record;
  switch (props.path) {
    case '/app':
      return <Overview record={r} />;
    case '/app/sundhedsjournal':
      return <Journal record={r} />;
    case '/app/laboratoriesvar':
      return <LabView resources={r.resources} dir={r.dir} basePath="/app/laboratoriesvar" analysis={new URLSearchParams(location.search).get('analyse') ?? undefined} />;
    case '/app/medicin':
      return <Medicine record={r} />;
    case '/app/vaccinationer':
      return <Vaccinations record={r} />;
    case '/app/aftaler':
      return <Appointments record={r} />;
    case '/app/henvisninger':
      return <Referrals record={r} />;
    case '/app/hjemmemaalinger':
      return <HomeMeasurements record={r} />;
    case '/app/egen-laege':
      return <GeneralPractitioner record={r} />;
    default:
      return <Empty>{t('Siden findes ikke.', 'The page does not exist.')}</Empty>;
  }
}

function age(birthDate: string | undefined): number | undefined {
  if (birthDate === undefined) {
    return undefined;
  }
  const b = new Date(`${birthDate}T12:00:00Z`);
  const n = new Date();
  let a = n.getUTCFullYear() - b.getUTCFullYear();
  if (n.getUTCMonth() < b.getUTCMonth() || (n.getUTCMonth() === b.getUTCMonth() && n.getUTCDate() < b.getUTCDate())) {
    a--;
  }
  return a;
}

function Overview(props: { record: PatientRecord }): preact.JSX.Element {
  const { session } = useApp();
  const r = props.record;
  const self = session.claims.fhirUser === `Patient/${r.patient.id ?? ''}`;
  const labs = labResults(r.resources);
  const latestLabDate = labs[0]?.time.slice(0, 10);
  const latestLabs = labs.filter((l) => l.time.slice(0, 10) === latestLabDate);
  const meds = ofType<MedicationStatement>(r.resources, 'MedicationStatement').filter((m) => m.status === 'active');
  const now = new Date().toISOString();
  const upcoming = ofType<Appointment>(r.resources, 'Appointment')
    .filter((a) => a.status === 'booked' && (a.start ?? '') >= now)
    .sort((a, b) => (a.start ?? '').localeCompare(b.start ?? ''));
  const referrals = ofType<ServiceRequest>(r.resources, 'ServiceRequest').filter((s) => isReferral(s) && s.status === 'active');
  const vaccines = ofType<Immunization>(r.resources, 'Immunization');
  const contacts = newestFirst(ofType<Encounter>(r.resources, 'Encounter'));
  const gp = r.dir.get<Organization>(r.patient.generalPractitioner?.find((g) => g.reference?.startsWith('Organization/') === true)?.reference);
  return (
    <>
      <p class="intro">
        {self ? t('Her er et overblik over dine sundhedsdata', 'Here is an overview of your health data') : `${t('Her er et overblik over sundhedsdata for', 'Here is an overview of the health data of')} ${personName(r.patient) ?? ''}`}
        {r.patient.birthDate === undefined ? '' : ` (${t('født', 'born')} ${formatDate(r.patient.birthDate)}, ${age(r.patient.birthDate) ?? ''} ${t('år', 'years')})`}. {t('Vælg et kort for at se mere.', 'Choose a card to see more.')}
      </p>
      <div class="cards">
        <OverviewCard href="/app/laboratoriesvar" title={t('Prøvesvar', 'Lab results')}>
          {latestLabs.length === 0
            ? t('Ingen prøvesvar endnu.', 'No lab results yet.')
            : `${t('Seneste prøve', 'Latest sample')} ${formatDate(latestLabDate)}: ${count(latestLabs.length, t('svar', 'result'), t('svar', 'results'))}${
                latestLabs.some((l) => l.flag !== undefined)
                  ? `, ${t('heraf', 'of which')} ${formatNumber(latestLabs.filter((l) => l.flag !== undefined).length)} ${t('uden for referenceområdet', 'outside the reference range')}`
                  : t(', alle inden for referenceområdet', ', all within the reference range')
              }.`}
        </OverviewCard>
        <OverviewCard href="/app/medicin" title={t('Medicinkort', 'Medicine card')}>
          {meds.length === 0 ? t('Ingen aktuel medicin.', 'No current medicine.') : `${count(meds.length, t('aktuelt præparat', 'current medicine'), t('aktuelle præparater', 'current medicines'))}: ${meds.map((m) => codeText(m.medicationCodeableConcept)).join(', ')}.`}
        </OverviewCard>
        <OverviewCard href="/app/aftaler" title={t('Aftaler', 'Appointments')}>
          {upcoming[0] === undefined ? t('Ingen kommende aftaler.', 'No upcoming appointments.') : `${t('Næste', 'Next')}: ${upcoming[0].description ?? ''} ${formatDateTime(upcoming[0].start)}.`}
        </OverviewCard>
        <OverviewCard href="/app/henvisninger" title={t('Henvisninger', 'Referrals')}>
          {referrals.length === 0 ? t('Ingen aktive henvisninger.', 'No active referrals.') : `${count(referrals.length, t('aktiv henvisning', 'active referral'), t('aktive henvisninger', 'active referrals'))}.`}
        </OverviewCard>
        <OverviewCard href="/app/sundhedsjournal" title={t('Sundhedsjournal', 'Health record')}>
          {contacts[0] === undefined
            ? t('Ingen kontakter registreret.', 'No contacts recorded.')
            : `${t('Seneste kontakt', 'Latest contact')}: ${encounterKind(contacts[0])} ${formatDate(contacts[0].period?.start)} ${t('hos', 'at')} ${r.dir.name(contacts[0].serviceProvider) ?? t('ukendt sted', 'unknown place')}.`}
        </OverviewCard>
        <OverviewCard href="/app/vaccinationer" title={t('Vaccinationer', 'Vaccinations')}>
          {vaccines.length === 0 ? t('Ingen vaccinationer registreret.', 'No vaccinations recorded.') : `${count(vaccines.length, 'vaccination', t('vaccinationer', 'vaccinations'))} ${t('registreret', 'recorded')}.`}
        </OverviewCard>
        <OverviewCard href="/app/egen-laege" title={t('Egen læge', 'My GP')}>
          {gp === undefined ? t('Ingen læge registreret.', 'No GP recorded.') : `${gp.name ?? ''}${gp.telecom?.find((x) => x.system === 'phone') === undefined ? '' : `, ${t('tlf.', 'phone')} ${gp.telecom.find((x) => x.system === 'phone')!.value ?? ''}`}.`}
        </OverviewCard>
        <OverviewCard href="/app/min-log" title={t('Min Log', 'My Log')}>
          {self ? t('Se, hvem der har set dine data, og hvornår.', 'See who has looked at your data, and when.') : t('Se, hvem der har set disse data, og hvornår.', 'See who has looked at these data, and when.')}
        </OverviewCard>
        <OverviewCard href="/app/spaerring" title={t('Min Spærring', 'My Blocks')}>
          {t('Spær for, at bestemte sundhedspersoner eller steder kan se data.', 'Block certain health professionals or places from seeing data.')}
        </OverviewCard>
      </div>
    </>
  );
}

function OverviewCard(props: { href: string; title: string; children: preact.ComponentChildren }): preact.JSX.Element {
  return (
    <section class="card">
      <h2>
        <Link href={props.href}>{props.title}</Link>
      </h2>
      <p>{props.children}</p>
    </section>
  );
}

function Source(props: { record: PatientRecord; of: Parameters<typeof sourceOf>[0] }): preact.JSX.Element | null {
  const ref = sourceOf(props.of);
  const org = props.record.dir.organization(ref);
  const name = props.record.dir.name(ref);
  if (org === undefined && name === undefined) {
    return null;
  }
  return <span class="source">{t('Kilde', 'Source')}: {[name, org?.name].filter((x, i, a) => x !== undefined && a.indexOf(x) === i).join(', ')}</span>;
}

function Journal(props: { record: PatientRecord }): preact.JSX.Element {
  const r = props.record;
  const encounters = newestFirst(ofType<Encounter>(r.resources, 'Encounter'));
  const conditions = newestFirst(ofType<Condition>(r.resources, 'Condition'));
  const procedures = newestFirst(ofType<Procedure>(r.resources, 'Procedure'));
  const docs = newestFirst(ofType<DocumentReference>(r.resources, 'DocumentReference'));
  return (
    <>
      <p class="intro">
        {t(
          'Kontakter med sygehuse, læge og kommune, diagnoser, behandlinger og breve. Mener du, at noget er forkert, så kontakt det sted, der har registreret det.',
          'Contacts with hospitals, GP and municipality, diagnoses, procedures and letters. If something is wrong, contact the place that recorded it.',
        )}
      </p>
      <h2>{t('Diagnoser', 'Diagnoses')}</h2>
      {conditions.length === 0 ? (
        <Empty>{t('Ingen diagnoser registreret.', 'No diagnoses recorded.')}</Empty>
      ) : (
        <ul class="list">
          {conditions.map((c) => (
            <li class="item" key={c.id}>
              <strong>{codeText(c.code)}</strong> <span class="tag">{conditionStatus(c)}</span>
              <p class="meta">
                {t('Registreret', 'Recorded')} {formatDate(c.recordedDate ?? c.onsetDateTime)} <Source record={r} of={c} />
              </p>
            </li>
          ))}
        </ul>
      )}
      <h2>{t('Kontakter', 'Contacts')}</h2>
      {encounters.length === 0 ? (
        <Empty>{t('Ingen kontakter registreret.', 'No contacts recorded.')}</Empty>
      ) : (
        <ul class="list">
          {encounters.map((e) => (
            <li class="item" key={e.id}>
              <strong>{encounterKind(e)}</strong>
              {e.type?.[0] === undefined ? '' : `: ${codeText(e.type[0])}`}
              <p class="meta">
                {formatDate(e.period?.start)}
                {e.period?.end !== undefined && e.period.end.slice(0, 10) !== (e.period.start ?? '').slice(0, 10) ? ` – ${formatDate(e.period.end)}` : ''} · {r.dir.name(e.serviceProvider) ?? t('ukendt sted', 'unknown place')}
              </p>
            </li>
          ))}
        </ul>
      )}
      <h2>{t('Behandlinger og operationer', 'Procedures and operations')}</h2>
      {procedures.length === 0 ? (
        <Empty>{t('Ingen behandlinger registreret.', 'No procedures recorded.')}</Empty>
      ) : (
        <ul class="list">
          {procedures.map((p) => (
            <li class="item" key={p.id}>
              <strong>{codeText(p.code)}</strong>
              <p class="meta">
                {formatDate(p.performedDateTime ?? p.performedPeriod?.start)} <Source record={r} of={p} />
              </p>
            </li>
          ))}
        </ul>
      )}
      <h2>{t('Epikriser og notater', 'Discharge letters and notes')}</h2>
      {docs.length === 0 ? (
        <Empty>{t('Ingen breve eller notater.', 'No letters or notes.')}</Empty>
      ) : (
        <ul class="list">
          {docs.map((d) => (
            <li class="item" key={d.id}>
              <details>
                <summary>
                  <strong>{d.description ?? codeText(d.type)}</strong> · {formatDate(d.date)}
                </summary>
                <p class="meta">
                  <Source record={r} of={d} />
                </p>
                <pre class="doc">{documentText(d) ?? t('Dokumentet kan ikke vises her.', 'The document cannot be shown here.')}</pre>
              </details>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function Medicine(props: { record: PatientRecord }): preact.JSX.Element {
  const r = props.record;
  const all = newestFirst(ofType<MedicationStatement>(r.resources, 'MedicationStatement'));
  const active = all.filter((m) => m.status === 'active');
  const earlier = all.filter((m) => m.status !== 'active');
  const row = (m: MedicationStatement): preact.JSX.Element => (
    <li class="item" key={m.id}>
      <strong>{codeText(m.medicationCodeableConcept)}</strong>
      {m.medicationCodeableConcept?.coding?.[0]?.code === undefined ? null : <span class="sub"> (ATC {m.medicationCodeableConcept.coding[0].code})</span>}
      <p>{m.dosage?.[0]?.text ?? t('Dosering ikke oplyst', 'Dosage not given')}</p>
      <p class="meta">
        {t('Startet', 'Started')} {formatDate(m.effectivePeriod?.start)}
        {m.effectivePeriod?.end === undefined ? '' : `, ${t('stoppet', 'stopped')} ${formatDate(m.effectivePeriod.end)}`} <Source record={r} of={m} />
      </p>
    </li>
  );
  return (
    <>
      <p class="intro">{t('Medicin, som læger har ordineret. Spørg din læge, før du ændrer noget.', 'Medicine prescribed by doctors. Ask your doctor before you change anything.')}</p>
      <h2>{t('Aktuel medicin', 'Current medicine')}</h2>
      {active.length === 0 ? <Empty>{t('Ingen aktuel medicin.', 'No current medicine.')}</Empty> : <ul class="list">{active.map(row)}</ul>}
      <h2>{t('Tidligere medicin', 'Earlier medicine')}</h2>
      {earlier.length === 0 ? <Empty>{t('Ingen tidligere medicin registreret.', 'No earlier medicine recorded.')}</Empty> : <ul class="list">{earlier.map(row)}</ul>}
    </>
  );
}

function Vaccinations(props: { record: PatientRecord }): preact.JSX.Element {
  const r = props.record;
  const list = newestFirst(ofType<Immunization>(r.resources, 'Immunization'));
  const years = age(r.patient.birthDate);
  const inProgramme = list.some((i) => (i.protocolApplied ?? []).some((p) => p.series === 'Børnevaccinationsprogrammet')) || (years !== undefined && years < 18);
  return (
    <>
      {inProgramme && r.patient.birthDate !== undefined ? <Programme patient={r.patient} given={list} /> : null}
      <h2>{t('Alle vaccinationer', 'All vaccinations')}</h2>
      {list.length === 0 ? (
        <Empty>{t('Ingen vaccinationer registreret. Er du vaccineret et sted, der ikke har indberettet det, så kontakt din læge.', 'No vaccinations recorded. If you were vaccinated somewhere that did not report it, contact your GP.')}</Empty>
      ) : (
        <ul class="list">
          {list.map((i) => (
            <li class="item" key={i.id}>
              <strong>{codeText(i.vaccineCode)}</strong>
              {i.protocolApplied?.[0]?.doseNumberPositiveInt === undefined ? '' : ` – ${t(`${i.protocolApplied[0].doseNumberPositiveInt}. dosis`, `dose ${i.protocolApplied[0].doseNumberPositiveInt}`)}`}
              <p class="meta">
                {formatDate(i.occurrenceDateTime)}
                {i.lotNumber === undefined ? '' : ` · ${t('batch', 'batch')} ${i.lotNumber}`} <Source record={r} of={i} />
              </p>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function Programme(props: { patient: Patient; given: readonly Immunization[] }): preact.JSX.Element {
  const birth = Date.parse(`${props.patient.birthDate ?? ''}T12:00:00Z`);
  const monthsOld = (Date.now() - birth) / (30.44 * 86_400_000);
  const rows = CHILDHOOD_PROGRAMME.filter((p) => p.sex === undefined || p.sex === props.patient.gender).map((p) => {
    const doses = props.given.filter((i) => (i.vaccineCode.coding ?? []).some((c) => p.atc.some((a) => (c.code ?? '').startsWith(a)))).sort((a, b) => (a.occurrenceDateTime ?? '').localeCompare(b.occurrenceDateTime ?? ''));
    const dose = doses[p.dose - 1];
    const status = dose !== undefined ? 'given' : monthsOld < p.months ? 'later' : 'missing';
    return { p, dose, status };
  });
  const missing = rows.filter((x) => x.status === 'missing');
  return (
    <section aria-labelledby="program">
      <h2 id="program">{t('Børnevaccinationsprogrammet', 'The childhood vaccination programme')}</h2>
      {missing.length === 0 ? (
        <p class="notice ok">{t('Alle vaccinationer, der er anbefalet indtil nu, er givet.', 'Every vaccination recommended so far has been given.')}</p>
      ) : (
        <p class="notice warn">
          {count(missing.length, t('vaccination mangler', 'vaccination is missing'), t('vaccinationer mangler', 'vaccinations are missing'))} {missing.length === 1
            ? t('efter programmet. Kontakt egen læge for at få den – den er gratis.', 'according to the programme. Contact your GP to get it – it is free.')
            : t('efter programmet. Kontakt egen læge for at få dem – de er gratis.', 'according to the programme. Contact your GP to get them – they are free.')}
        </p>
      )}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">{t('Vaccine', 'Vaccine')}</th>
              <th scope="col">{t('Anbefalet alder', 'Recommended age')}</th>
              <th scope="col">{t('Status', 'Status')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ p, dose, status }) => (
              <tr key={`${p.name}-${p.dose}`} class={status === 'missing' ? 'out' : ''}>
                <th scope="row">
                  {p.name}, {t(`${p.dose}. dosis`, `dose ${p.dose}`)}
                </th>
                <td>{t(p.ageText, p.ageTextEn)}</td>
                <td>{status === 'given' ? `${t('Givet', 'Given')} ${formatDate(dose?.occurrenceDateTime)}` : status === 'later' ? t('Senere', 'Later') : t('Mangler', 'Missing')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Appointments(props: { record: PatientRecord }): preact.JSX.Element {
  const r = props.record;
  const now = new Date().toISOString();
  const all = ofType<Appointment>(r.resources, 'Appointment');
  const upcoming = all.filter((a) => (a.start ?? '') >= now).sort((a, b) => (a.start ?? '').localeCompare(b.start ?? ''));
  const past = newestFirst(all.filter((a) => (a.start ?? '') < now));
  const row = (a: Appointment): preact.JSX.Element => (
    <li class="item" key={a.id}>
      <strong>{a.description ?? t('Aftale', 'Appointment')}</strong> <span class="tag">{appointmentStatus(a.status)}</span>
      <p class="meta">
        {formatDateTime(a.start)}
        {a.minutesDuration === undefined ? '' : ` · ${a.minutesDuration} min.`} <Source record={r} of={a} />
      </p>
    </li>
  );
  return (
    <>
      <h2>{t('Kommende aftaler', 'Upcoming appointments')}</h2>
      {upcoming.length === 0 ? <Empty>{t('Ingen kommende aftaler. Aftaler, som sygehuse og læge booker, vises her.', 'No upcoming appointments. Appointments booked by hospitals and your GP are shown here.')}</Empty> : <ul class="list">{upcoming.map(row)}</ul>}
      <h2>{t('Tidligere aftaler', 'Earlier appointments')}</h2>
      {past.length === 0 ? <Empty>{t('Ingen tidligere aftaler.', 'No earlier appointments.')}</Empty> : <ul class="list">{past.map(row)}</ul>}
    </>
  );
}

function Referrals(props: { record: PatientRecord }): preact.JSX.Element {
  const r = props.record;
  const list = newestFirst(ofType<ServiceRequest>(r.resources, 'ServiceRequest').filter(isReferral));
  return list.length === 0 ? (
    <Empty>{t('Ingen henvisninger. Når din læge henviser dig til sygehus eller speciallæge, kan du følge henvisningen her.', 'No referrals. When your GP refers you to a hospital or specialist, you can follow the referral here.')}</Empty>
  ) : (
    <ul class="list">
      {list.map((s) => (
        <li class="item" key={s.id}>
          <strong>
            {t('Henvisning til', 'Referral to')} {r.dir.name(s.performer?.[0]) ?? t('ukendt modtager', 'unknown recipient')}
          </strong> <span class={s.status === 'active' ? 'tag active' : 'tag'}>{requestStatus(s.status)}</span>
          {s.reasonCode?.[0] === undefined ? null : (
            <p>
              {t('Årsag', 'Reason')}: {codeText(s.reasonCode[0])}
            </p>
          )}
          <p class="meta">
            {t('Henvist', 'Referred')} {formatDate(s.authoredOn)} <Source record={r} of={s} />
          </p>
        </li>
      ))}
    </ul>
  );
}

function HomeMeasurements(props: { record: PatientRecord }): preact.JSX.Element {
  const r = props.record;
  const obs = ofType<Observation>(r.resources, 'Observation').filter(isHomeMeasurement);
  const analyses = byAnalysis(obs.map(toLabResult));
  if (analyses.length === 0) {
    return <Empty>{t('Ingen hjemmemålinger. Hvis du måler fx blodtryk eller iltmætning hjemme som led i et forløb, vises målingerne her.', 'No home measurements. If you measure e.g. blood pressure or oxygen saturation at home as part of a care plan, they are shown here.')}</Empty>;
  }
  return (
    <>
      {analyses.map((a) => {
        const latest = a.results[0]!;
        return (
          <section key={a.key} class="card" aria-label={a.name}>
            <h2>{a.name}</h2>
            <p>
              {t('Seneste', 'Latest')}: <strong>{latest.value === undefined ? latest.valueText : `${formatNumber(latest.value)} ${latest.unit}`}</strong> <Flag flag={latest.flag} /> ({formatDateTime(latest.time)}) · {count(a.results.length, t('måling', 'measurement'), t('målinger', 'measurements'))}
            </p>
            {trendPoints(a).length > 1 ? <TrendChart points={trendPoints(a)} low={latest.low} high={latest.high} unit={latest.unit} label={a.name} /> : null}
            <details>
              <summary>{t('Vis alle målinger', 'Show every measurement')}</summary>
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">{t('Tidspunkt', 'Time')}</th>
                      <th scope="col">{t('Måling', 'Measurement')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {a.results.map((m) => (
                      <tr key={m.id}>
                        <td>{formatDateTime(m.time)}</td>
                        <td>
                          {m.value === undefined ? m.valueText : `${formatNumber(m.value)} ${m.unit}`} <Flag flag={m.flag} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </details>
          </section>
        );
      })}
    </>
  );
}

function GeneralPractitioner(props: { record: PatientRecord }): preact.JSX.Element {
  const r = props.record;
  const orgRef = r.patient.generalPractitioner?.find((g) => g.reference?.startsWith('Organization/') === true);
  const org = r.dir.get<Organization>(orgRef?.reference);
  const roleRef = r.patient.generalPractitioner?.find((g) => g.reference?.startsWith('PractitionerRole/') === true);
  const role = r.dir.get<PractitionerRole>(roleRef?.reference);
  if (orgRef === undefined) {
    return <Empty>{t('Der er ikke registreret en praktiserende læge. Kontakt din kommune (Borgerservice) for at vælge læge.', 'No GP is recorded. Contact your municipality (Borgerservice) to choose a GP.')}</Empty>;
  }
  const phone = org?.telecom?.find((t) => t.system === 'phone')?.value;
  const email = org?.telecom?.find((t) => t.system === 'email')?.value;
  const address = org?.address?.[0];
  return (
    <section class="card">
      <h2>{org?.name ?? orgRef.display ?? t('Lægeklinik', 'GP clinic')}</h2>
      {roleRef === undefined ? null : (
        <p>
          {t('Læge', 'Doctor')}: {r.dir.name(roleRef) ?? roleRef.display}
        </p>
      )}
      {address === undefined ? null : (
        <p>
          {(address.line ?? []).join(', ')}
          <br />
          {address.postalCode} {address.city}
        </p>
      )}
      {phone === undefined ? null : (
        <p>
          {t('Telefon', 'Phone')}: <a href={`tel:${phone.replace(/\s/g, '')}`}>{phone}</a>
        </p>
      )}
      {email === undefined ? null : (
        <p>
          {t('E-mail', 'Email')}: <a href={`mailto:${email}`}>{email}</a>
        </p>
      )}
      {role?.availableTime === undefined ? null : <p>{t('Åbningstider', 'Opening hours')}: {role.availableTime.map((t) => `${(t.daysOfWeek ?? []).join(', ')} ${t.availableStartTime ?? ''}–${t.availableEndTime ?? ''}`).join('; ')}</p>}
      <p class="small">
        {t('Ved akut sygdom uden for lægens åbningstid: ring til lægevagten i din region. Ring 112 ved livsfare.', 'For urgent illness outside opening hours: call the out-of-hours service in your region. Call 112 if life is in danger.')}
      </p>
    </section>
  );
}

