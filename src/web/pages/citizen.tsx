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

/** MinSundhed: the citizen's own data (or the data of the person they act for). */

export const CITIZEN_SECTIONS = [
  { path: '/app', title: 'Overblik' },
  { path: '/app/sundhedsjournal', title: 'Sundhedsjournal' },
  { path: '/app/laboratoriesvar', title: 'Prøvesvar' },
  { path: '/app/medicin', title: 'Medicinkort' },
  { path: '/app/vaccinationer', title: 'Vaccinationer' },
  { path: '/app/aftaler', title: 'Aftaler' },
  { path: '/app/henvisninger', title: 'Henvisninger' },
  { path: '/app/hjemmemaalinger', title: 'Hjemmemålinger' },
  { path: '/app/egen-laege', title: 'Egen læge' },
  { path: '/app/min-log', title: 'Min Log' },
  { path: '/app/spaerring', title: 'Min Spærring' },
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
  const title = section?.title ?? 'Siden findes ikke';
  const needsRecord = props.path !== '/app/min-log' && props.path !== '/app/spaerring';
  return (
    <main id="indhold">
      {props.path === '/app/min-log' ? (
        <MinLogPage patientId={patientId} />
      ) : props.path === '/app/spaerring' ? (
        <BlocksPage patientId={patientId} />
      ) : (
        <>
          <PageTitle title={title === 'Overblik' ? 'MinSundhed' : title} />
          {section === undefined ? (
            <Empty>
              Siden findes ikke. <Link href="/app">Gå til overblikket</Link>.
            </Empty>
          ) : needsRecord ? (
            <Async loaded={loaded} what="dine sundhedsdata" retry={retry}>
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
      return <Empty>Siden findes ikke.</Empty>;
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
        {self ? 'Her er et overblik over dine sundhedsdata' : `Her er et overblik over sundhedsdata for ${personName(r.patient) ?? 'den valgte person'}`}
        {r.patient.birthDate === undefined ? '' : ` (født ${formatDate(r.patient.birthDate)}, ${age(r.patient.birthDate) ?? ''} år)`}. Vælg et kort for at se mere.
      </p>
      <div class="cards">
        <OverviewCard href="/app/laboratoriesvar" title="Prøvesvar">
          {latestLabs.length === 0 ? (
            'Ingen prøvesvar endnu.'
          ) : (
            <>
              Seneste prøve {formatDate(latestLabDate)}: {count(latestLabs.length, 'svar', 'svar')}
              {latestLabs.some((l) => l.flag !== undefined) ? `, heraf ${formatNumber(latestLabs.filter((l) => l.flag !== undefined).length)} uden for referenceområdet` : ', alle inden for referenceområdet'}.
            </>
          )}
        </OverviewCard>
        <OverviewCard href="/app/medicin" title="Medicinkort">
          {meds.length === 0 ? 'Ingen aktuel medicin.' : `${count(meds.length, 'aktuelt præparat', 'aktuelle præparater')}: ${meds.map((m) => codeText(m.medicationCodeableConcept)).join(', ')}.`}
        </OverviewCard>
        <OverviewCard href="/app/aftaler" title="Aftaler">
          {upcoming[0] === undefined ? 'Ingen kommende aftaler.' : `Næste: ${upcoming[0].description ?? 'aftale'} ${formatDateTime(upcoming[0].start)}.`}
        </OverviewCard>
        <OverviewCard href="/app/henvisninger" title="Henvisninger">
          {referrals.length === 0 ? 'Ingen aktive henvisninger.' : `${count(referrals.length, 'aktiv henvisning', 'aktive henvisninger')}.`}
        </OverviewCard>
        <OverviewCard href="/app/sundhedsjournal" title="Sundhedsjournal">
          {contacts[0] === undefined ? 'Ingen kontakter registreret.' : `Seneste kontakt: ${encounterKind(contacts[0])} ${formatDate(contacts[0].period?.start)} hos ${r.dir.name(contacts[0].serviceProvider) ?? 'ukendt sted'}.`}
        </OverviewCard>
        <OverviewCard href="/app/vaccinationer" title="Vaccinationer">
          {vaccines.length === 0 ? 'Ingen vaccinationer registreret.' : `${count(vaccines.length, 'vaccination', 'vaccinationer')} registreret.`}
        </OverviewCard>
        <OverviewCard href="/app/egen-laege" title="Egen læge">
          {gp === undefined ? 'Ingen læge registreret.' : `${gp.name ?? ''}${gp.telecom?.find((t) => t.system === 'phone') === undefined ? '' : `, tlf. ${gp.telecom.find((t) => t.system === 'phone')!.value ?? ''}`}.`}
        </OverviewCard>
        <OverviewCard href="/app/min-log" title="Min Log">
          Se, hvem der har set {self ? 'dine' : 'disse'} data, og hvornår.
        </OverviewCard>
        <OverviewCard href="/app/spaerring" title="Min Spærring">
          Spær for, at bestemte sundhedspersoner eller steder kan se {self ? 'dine' : 'disse'} data.
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
  return <span class="source">Kilde: {[name, org?.name].filter((x, i, a) => x !== undefined && a.indexOf(x) === i).join(', ')}</span>;
}

function Journal(props: { record: PatientRecord }): preact.JSX.Element {
  const r = props.record;
  const encounters = newestFirst(ofType<Encounter>(r.resources, 'Encounter'));
  const conditions = newestFirst(ofType<Condition>(r.resources, 'Condition'));
  const procedures = newestFirst(ofType<Procedure>(r.resources, 'Procedure'));
  const docs = newestFirst(ofType<DocumentReference>(r.resources, 'DocumentReference'));
  return (
    <>
      <p class="intro">Kontakter med sygehuse, læge og kommune, diagnoser, behandlinger og breve. Mener du, at noget er forkert, så kontakt det sted, der har registreret det.</p>
      <h2>Diagnoser</h2>
      {conditions.length === 0 ? (
        <Empty>Ingen diagnoser registreret.</Empty>
      ) : (
        <ul class="list">
          {conditions.map((c) => (
            <li class="item" key={c.id}>
              <strong>{codeText(c.code)}</strong> <span class="tag">{conditionStatus(c)}</span>
              <p class="meta">
                Registreret {formatDate(c.recordedDate ?? c.onsetDateTime)} <Source record={r} of={c} />
              </p>
            </li>
          ))}
        </ul>
      )}
      <h2>Kontakter</h2>
      {encounters.length === 0 ? (
        <Empty>Ingen kontakter registreret.</Empty>
      ) : (
        <ul class="list">
          {encounters.map((e) => (
            <li class="item" key={e.id}>
              <strong>{encounterKind(e)}</strong>
              {e.type?.[0] === undefined ? '' : `: ${codeText(e.type[0])}`}
              <p class="meta">
                {formatDate(e.period?.start)}
                {e.period?.end !== undefined && e.period.end.slice(0, 10) !== (e.period.start ?? '').slice(0, 10) ? ` – ${formatDate(e.period.end)}` : ''} · {r.dir.name(e.serviceProvider) ?? 'ukendt sted'}
              </p>
            </li>
          ))}
        </ul>
      )}
      <h2>Behandlinger og operationer</h2>
      {procedures.length === 0 ? (
        <Empty>Ingen behandlinger registreret.</Empty>
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
      <h2>Epikriser og notater</h2>
      {docs.length === 0 ? (
        <Empty>Ingen breve eller notater.</Empty>
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
                <pre class="doc">{documentText(d) ?? 'Dokumentet kan ikke vises her.'}</pre>
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
      <p>{m.dosage?.[0]?.text ?? 'Dosering ikke oplyst'}</p>
      <p class="meta">
        Startet {formatDate(m.effectivePeriod?.start)}
        {m.effectivePeriod?.end === undefined ? '' : `, stoppet ${formatDate(m.effectivePeriod.end)}`} <Source record={r} of={m} />
      </p>
    </li>
  );
  return (
    <>
      <p class="intro">Medicin, som læger har ordineret. Spørg din læge, før du ændrer noget.</p>
      <h2>Aktuel medicin</h2>
      {active.length === 0 ? <Empty>Ingen aktuel medicin.</Empty> : <ul class="list">{active.map(row)}</ul>}
      <h2>Tidligere medicin</h2>
      {earlier.length === 0 ? <Empty>Ingen tidligere medicin registreret.</Empty> : <ul class="list">{earlier.map(row)}</ul>}
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
      <h2>Alle vaccinationer</h2>
      {list.length === 0 ? (
        <Empty>Ingen vaccinationer registreret. Er du vaccineret et sted, der ikke har indberettet det, så kontakt din læge.</Empty>
      ) : (
        <ul class="list">
          {list.map((i) => (
            <li class="item" key={i.id}>
              <strong>{codeText(i.vaccineCode)}</strong>
              {i.protocolApplied?.[0]?.doseNumberPositiveInt === undefined ? '' : ` – ${i.protocolApplied[0].doseNumberPositiveInt}. dosis`}
              <p class="meta">
                {formatDate(i.occurrenceDateTime)}
                {i.lotNumber === undefined ? '' : ` · batch ${i.lotNumber}`} <Source record={r} of={i} />
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
      <h2 id="program">Børnevaccinationsprogrammet</h2>
      {missing.length === 0 ? (
        <p class="notice ok">Alle vaccinationer, der er anbefalet indtil nu, er givet.</p>
      ) : (
        <p class="notice warn">
          {count(missing.length, 'vaccination mangler', 'vaccinationer mangler')} efter programmet. Kontakt egen læge for at få dem – de er gratis.
        </p>
      )}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Vaccine</th>
              <th scope="col">Anbefalet alder</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ p, dose, status }) => (
              <tr key={`${p.name}-${p.dose}`} class={status === 'missing' ? 'out' : ''}>
                <th scope="row">
                  {p.name}, {p.dose}. dosis
                </th>
                <td>{p.ageText}</td>
                <td>{status === 'given' ? `Givet ${formatDate(dose?.occurrenceDateTime)}` : status === 'later' ? 'Senere' : 'Mangler'}</td>
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
      <strong>{a.description ?? 'Aftale'}</strong> <span class="tag">{appointmentStatus(a.status)}</span>
      <p class="meta">
        {formatDateTime(a.start)}
        {a.minutesDuration === undefined ? '' : ` · ${a.minutesDuration} min.`} <Source record={r} of={a} />
      </p>
    </li>
  );
  return (
    <>
      <h2>Kommende aftaler</h2>
      {upcoming.length === 0 ? <Empty>Ingen kommende aftaler. Aftaler, som sygehuse og læge booker, vises her.</Empty> : <ul class="list">{upcoming.map(row)}</ul>}
      <h2>Tidligere aftaler</h2>
      {past.length === 0 ? <Empty>Ingen tidligere aftaler.</Empty> : <ul class="list">{past.map(row)}</ul>}
    </>
  );
}

function Referrals(props: { record: PatientRecord }): preact.JSX.Element {
  const r = props.record;
  const list = newestFirst(ofType<ServiceRequest>(r.resources, 'ServiceRequest').filter(isReferral));
  return list.length === 0 ? (
    <Empty>Ingen henvisninger. Når din læge henviser dig til sygehus eller speciallæge, kan du følge henvisningen her.</Empty>
  ) : (
    <ul class="list">
      {list.map((s) => (
        <li class="item" key={s.id}>
          <strong>Henvisning til {r.dir.name(s.performer?.[0]) ?? 'ukendt modtager'}</strong> <span class={s.status === 'active' ? 'tag active' : 'tag'}>{requestStatus(s.status)}</span>
          {s.reasonCode?.[0] === undefined ? null : <p>Årsag: {codeText(s.reasonCode[0])}</p>}
          <p class="meta">
            Henvist {formatDate(s.authoredOn)} <Source record={r} of={s} />
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
    return <Empty>Ingen hjemmemålinger. Hvis du måler fx blodtryk eller iltmætning hjemme som led i et forløb, vises målingerne her.</Empty>;
  }
  return (
    <>
      {analyses.map((a) => {
        const latest = a.results[0]!;
        return (
          <section key={a.key} class="card" aria-label={a.name}>
            <h2>{a.name}</h2>
            <p>
              Seneste: <strong>{latest.value === undefined ? latest.valueText : `${formatNumber(latest.value)} ${latest.unit}`}</strong> <Flag flag={latest.flag} /> ({formatDateTime(latest.time)}) · {count(a.results.length, 'måling', 'målinger')}
            </p>
            {trendPoints(a).length > 1 ? <TrendChart points={trendPoints(a)} low={latest.low} high={latest.high} unit={latest.unit} label={a.name} /> : null}
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
    return <Empty>Der er ikke registreret en praktiserende læge. Kontakt din kommune (Borgerservice) for at vælge læge.</Empty>;
  }
  const phone = org?.telecom?.find((t) => t.system === 'phone')?.value;
  const email = org?.telecom?.find((t) => t.system === 'email')?.value;
  const address = org?.address?.[0];
  return (
    <section class="card">
      <h2>{org?.name ?? orgRef.display ?? 'Lægeklinik'}</h2>
      {roleRef === undefined ? null : <p>Læge: {r.dir.name(roleRef) ?? roleRef.display}</p>}
      {address === undefined ? null : (
        <p>
          {(address.line ?? []).join(', ')}
          <br />
          {address.postalCode} {address.city}
        </p>
      )}
      {phone === undefined ? null : (
        <p>
          Telefon: <a href={`tel:${phone.replace(/\s/g, '')}`}>{phone}</a>
        </p>
      )}
      {email === undefined ? null : (
        <p>
          E-mail: <a href={`mailto:${email}`}>{email}</a>
        </p>
      )}
      {role?.availableTime === undefined ? null : <p>Åbningstider: {role.availableTime.map((t) => `${(t.daysOfWeek ?? []).join(', ')} ${t.availableStartTime ?? ''}–${t.availableEndTime ?? ''}`).join('; ')}</p>}
      <p class="small">Ved akut sygdom uden for lægens åbningstid: ring til lægevagten i din region. Ring 112 ved livsfare.</p>
    </section>
  );
}

