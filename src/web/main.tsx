import './styles.css';
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Patient } from '@medplum/fhirtypes';
import { FhirClient, personName } from './api.ts';
import type { LoginKind, Session } from './auth.ts';
import { baseUrl, currentSession, finishLogin, logout, startLogin } from './auth.ts';
import { Link, PageTitle, useLoad } from './components.tsx';
import { lang, setLang, t } from './i18n.ts';
import { CitizenRoutes, CITIZEN_SECTIONS } from './pages/citizen.tsx';
import { ProfessionalRoutes } from './pages/professional.tsx';
import { navigate, useLocation } from './router.ts';
import type { AppContext } from './session.tsx';
import { Ctx } from './session.tsx';

/** The web front end: MinSundhed for citizens and Sundhedsjournalen for health professionals. */

function Start(props: { message?: string }): preact.JSX.Element {
  const [error, setError] = useState<string | undefined>(props.message);
  const go = (kind: LoginKind): void => {
    startLogin(kind, location.pathname.startsWith('/app/') && location.pathname !== '/app/callback' ? location.pathname + location.search : '/app').catch((err: unknown) => {
      setError(err instanceof Error ? err.message : String(err));
    });
  };
  return (
    <main id="indhold" class="start">
      <PageTitle title={t('Velkommen til Digital Sundhed Danmark', 'Welcome to Digital Sundhed Danmark')}>
        {t(
          'Her kan du se dine egne sundhedsdata (MinSundhed), og sundhedspersoner kan se deres patienters data (Sundhedsjournalen).',
          'See your own health data (MinSundhed); health professionals see their patients’ data (Sundhedsjournalen).',
        )}
      </PageTitle>
      {error === undefined ? null : (
        <div class="notice error" role="alert">
          <p>{error}</p>
        </div>
      )}
      <div class="cards two">
        <section class="card" aria-labelledby="borger">
          <h2 id="borger">{t('Borger', 'Citizen')}</h2>
          <p>
            {t(
              'Se prøvesvar, medicin, vaccinationer, aftaler og hvem der har set dine data. Du kan også se data for dine børn under 15 år.',
              'See lab results, medicine, vaccinations, appointments and who has looked at your data. You can also see data for your children under 15.',
            )}
          </p>
          <button type="button" class="primary" onClick={() => go('citizen')}>
            {t('Log ind på MinSundhed', 'Log in to MinSundhed')}
          </button>
        </section>
        <section class="card" aria-labelledby="prof">
          <h2 id="prof">{t('Sundhedsperson', 'Health professional')}</h2>
          <p>{t('Find en patient med CPR-nummer eller navn, og se data fra alle sygehuse, praksis og kommuner.', 'Find a patient by CPR number or name, and see data from every hospital, practice and municipality.')}</p>
          <button type="button" class="primary" onClick={() => go('professional')}>
            {t('Log ind på Sundhedsjournalen', 'Log in to Sundhedsjournalen')}
          </button>
        </section>
      </div>
      <p class="small">
        {t(
          'Du logger ind med MitID (borger) eller MitID Erhverv (sundhedsperson). Du bliver sendt tilbage hertil bagefter.',
          'You log in with MitID (citizen) or MitID Erhverv (health professional), in Danish. You are sent back here afterwards.',
        )}
      </p>
    </main>
  );
}

function Callback(props: { onSession: (s: Session) => void }): preact.JSX.Element {
  const [error, setError] = useState<string>();
  useEffect(() => {
    finishLogin(location.search).then(
      ({ session, returnTo }) => {
        props.onSession(session);
        navigate(returnTo, true);
      },
      (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
    );
  }, []);
  if (error !== undefined) {
    return <Start message={error} />;
  }
  return (
    <main id="indhold">
      <p role="status">{t('Logger ind …', 'Logging in …')}</p>
    </main>
  );
}

function Header(props: { ctx: AppContext | undefined; onLogout: () => void; onLang: () => void }): preact.JSX.Element {
  const c = props.ctx?.session.claims;
  const citizen = c?.dsd_kind === 'citizen';
  const actingId = c?.patient;
  const self = c?.fhirUser?.replace(/^Patient\//, '');
  const acting = useLoad(
    async () => (props.ctx !== undefined && citizen && actingId !== undefined ? personName(await props.ctx.client.read<Patient>('Patient', actingId)) : undefined),
    [props.ctx?.session.accessToken],
  )[0];
  const actingName = acting.state === 'ok' ? acting.data : undefined;
  return (
    <header class="top">
      <a class="skip" href="#indhold">
        {t('Gå til indhold', 'Skip to content')}
      </a>
      <div class="bar">
        <Link href="/app" class="brand">
          {c === undefined ? 'Digital Sundhed Danmark' : citizen ? 'MinSundhed' : 'Sundhedsjournalen'}
        </Link>
        <button type="button" class="link-button lang" onClick={props.onLang} lang={lang() === 'da' ? 'en' : 'da'}>
          {lang() === 'da' ? 'English' : 'Dansk'}
        </button>
        <div class="who">
        {c === undefined ? null : (
          <>
            <span>
              {t('Logget ind som', 'Logged in as')} <strong>{c.name ?? t('ukendt', 'unknown')}</strong>
            </span>
            {citizen && actingId !== undefined && actingId !== self ? (
              <span class="acting">
                {t('Du ser data for', 'You are viewing data for')} <strong>{actingName ?? '…'}</strong>
              </span>
            ) : null}
            {citizen && (c.dsd_patients?.length ?? 0) > 1 ? (
              <button type="button" class="link-button" onClick={props.ctx?.relogin}>
                {t('Skift person', 'Switch person')}
              </button>
            ) : null}
            <button type="button" class="link-button" onClick={props.onLogout}>
              {t('Log ud', 'Log out')}
            </button>
          </>
        )}
        </div>
      </div>
    </header>
  );
}

function App(): preact.JSX.Element {
  const [session, setSession] = useState<Session | undefined>(() => currentSession());
  const [expired, setExpired] = useState(false);
  const [, setLanguage] = useState(lang());
  const onLang = (): void => {
    const next = lang() === 'da' ? 'en' : 'da';
    setLang(next);
    setLanguage(next);
  };
  const { path } = useLocation();
  const ctx = useMemo<AppContext | undefined>(() => {
    if (session === undefined) {
      return undefined;
    }
    const relogin = (): void => {
      void logout(session).then(() => startLogin(session.claims.dsd_kind === 'citizen' ? 'citizen' : 'professional', '/app'));
    };
    const client = new FhirClient(`${baseUrl()}/fhir`, session.accessToken, () => {
      setExpired(true);
    });
    return { session, client, relogin };
  }, [session]);
  useEffect(() => {
    // On a phone the section list scrolls sideways: keep the current section in view.
    document.querySelector('nav.sections [aria-current=page]')?.scrollIntoView({ block: 'nearest', inline: 'center' });
  }, [path]);
  const onLogout = (): void => {
    void logout(session).then(() => {
      setSession(undefined);
      navigate('/app', true);
    });
  };
  let body: preact.JSX.Element;
  if (path === '/app/callback') {
    body = <Callback onSession={setSession} />;
  } else if (ctx === undefined) {
    body = <Start />;
  } else {
    body = (
      <Ctx.Provider value={ctx}>
        {expired ? (
          <div class="notice error" role="alert">
            <p>{t('Du er ikke logget ind længere.', 'You are no longer logged in.')}</p>
            <button type="button" onClick={ctx.relogin}>
              {t('Log ind igen', 'Log in again')}
            </button>
          </div>
        ) : null}
        {ctx.session.claims.dsd_kind === 'citizen' ? <CitizenRoutes path={path} /> : <ProfessionalRoutes path={path} />}
      </Ctx.Provider>
    );
  }
  return (
    <>
      <Header ctx={ctx} onLogout={onLogout} onLang={onLang} />
      {ctx !== undefined && ctx.session.claims.dsd_kind === 'citizen' ? (
        <nav class="sections" aria-label={t('Afsnit i MinSundhed', 'Sections of MinSundhed')}>
          <ul>
            {CITIZEN_SECTIONS.map((s) => (
              <li key={s.path}>
                <Link href={s.path} current={path === s.path}>
                  {s.title()}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      ) : null}
      {body}
      <footer class="foot">
        <p>Digital Sundhed Danmark</p>
      </footer>
    </>
  );
}

const root = document.getElementById('app');
setLang(lang());
if (root !== null) {
  root.textContent = '';
  render(<App />, root);
}
