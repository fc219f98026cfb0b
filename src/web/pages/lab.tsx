import { useState } from 'preact/hooks';
import type { Resource } from '@medplum/fhirtypes';
import type { Directory } from '../api.ts';
import { Empty, Flag, Link, TrendChart } from '../components.tsx';
import type { Analysis, LabResult } from '../data.ts';
import { byAnalysis, labResults, requisitions, trendPoints } from '../data.ts';
import { formatDate, formatDateTime, formatNumber } from '../format.ts';
import { t } from '../i18n.ts';

/** Lab results (Laboratoriesvar): by analysis with a trend per analysis, or by requisition; filters by period and area. Shared by MinSundhed and the professional view. */

const PERIODS = [
  { value: '1', label: (): string => t('Seneste år', 'Last year') },
  { value: '3', label: (): string => t('Seneste 3 år', 'Last 3 years') },
  { value: '5', label: (): string => t('Seneste 5 år', 'Last 5 years') },
  { value: 'all', label: (): string => t('Hele perioden', 'All time') },
] as const;

function valueOf(r: LabResult): string {
  return r.value === undefined ? r.valueText : `${formatNumber(r.value)} ${r.unit}`;
}

function inPeriod(time: string, period: string): boolean {
  if (period === 'all') {
    return true;
  }
  return Date.parse(time) >= Date.now() - Number(period) * 365.25 * 86_400_000;
}

/**
 * The lab results view.
 * @param props - the record, names, where the page lives and the chosen analysis
 * @param props.resources - the patient's record
 * @param props.dir - names of organisations
 * @param props.basePath - the page's path (analysis links add `?analyse=`)
 * @param props.analysis - the chosen analysis key, if any
 * @returns the view
 */
export function LabView(props: { resources: readonly Resource[]; dir: Directory; basePath: string; analysis: string | undefined }): preact.JSX.Element {
  const [period, setPeriod] = useState('all');
  const [area, setArea] = useState('');
  const [mode, setMode] = useState<'analysis' | 'requisition'>('analysis');
  const all = labResults(props.resources);
  if (all.length === 0) {
    return <Empty>{t('Der er ingen prøvesvar. Når der bliver taget en blodprøve eller anden prøve, kommer svaret her, så snart laboratoriet har svaret.', 'There are no lab results. When a blood test or other sample is taken, the result appears here as soon as the laboratory has answered.')}</Empty>;
  }
  const areaOf = (r: LabResult): string => props.dir.organization(r.source)?.name ?? props.dir.name(r.source) ?? t('Ukendt laboratorium', 'Unknown laboratory');
  const areas = [...new Set(all.map(areaOf))].sort((a, b) => a.localeCompare(b, 'da'));
  const shown = all.filter((r) => inPeriod(r.time, period) && (area === '' || areaOf(r) === area));
  const analyses = byAnalysis(shown);
  const chosen = props.analysis === undefined ? undefined : byAnalysis(all.filter((r) => inPeriod(r.time, period))).find((a) => a.key === props.analysis);
  if (props.analysis !== undefined) {
    return (
      <>
        <p>
          <Link href={props.basePath}>{t('← Alle analyser', '← All analyses')}</Link>
        </p>
        {chosen === undefined ? <Empty>{t('Analysen findes ikke i den valgte periode. Vælg en anden periode, eller gå tilbage til alle analyser.', 'The analysis has no results in the chosen period. Choose another period, or go back to all analyses.')}</Empty> : <AnalysisDetail a={chosen} areaOf={areaOf} />}
      </>
    );
  }
  return (
    <>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label={t('Filtre for prøvesvar', 'Lab result filters')}>
        <div>
          <label for="periode">{t('Periode', 'Period')}</label>
          <select id="periode" value={period} onChange={(e) => setPeriod((e.currentTarget).value)}>
            {PERIODS.map((p) => (
              <option value={p.value} key={p.value}>
                {p.label()}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="omraade">{t('Laboratorium', 'Laboratory')}</label>
          <select id="omraade" value={area} onChange={(e) => setArea((e.currentTarget).value)}>
            <option value="">{t('Alle', 'All')}</option>
            {areas.map((a) => (
              <option value={a} key={a}>
                {a}
              </option>
            ))}
          </select>
        </div>
        <fieldset class="segmented">
          <legend>{t('Vis', 'Show')}</legend>
          <label>
            <input type="radio" name="visning" checked={mode === 'analysis'} onChange={() => setMode('analysis')} /> {t('Efter analyse', 'By analysis')}
          </label>
          <label>
            <input type="radio" name="visning" checked={mode === 'requisition'} onChange={() => setMode('requisition')} /> {t('Efter prøvetagning', 'By sample')}
          </label>
        </fieldset>
      </form>
      <p class="small" role="status">
        {formatNumber(shown.length)} {t('svar i', 'results in')} {formatNumber(analyses.length)} {t('analyser', 'analyses')}.
      </p>
      {shown.length === 0 ? (
        <Empty>{t('Ingen prøvesvar i den valgte periode. Vælg en længere periode eller et andet laboratorium.', 'No lab results in the chosen period. Choose a longer period or another laboratory.')}</Empty>
      ) : mode === 'analysis' ? (
        <div class="table-wrap">
          <table class="results">
            <caption class="sr-only">{t('Seneste svar for hver analyse', 'Latest result of each analysis')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('Analyse', 'Analysis')}</th>
                <th scope="col">{t('Seneste svar', 'Latest result')}</th>
                <th scope="col">{t('Referenceområde', 'Reference range')}</th>
                <th scope="col">{t('Dato', 'Date')}</th>
              </tr>
            </thead>
            <tbody>
              {analyses.map((a) => {
                const r = a.results[0]!;
                return (
                  <tr key={a.key} class={r.flag === undefined ? '' : 'out'}>
                    <th scope="row">
                      <Link href={`${props.basePath}?analyse=${encodeURIComponent(a.key)}`}>{a.name}</Link>
                      <span class="sub">{a.results.length > 1 ? `${a.results.length} ${t('svar – se udvikling', 'results – see trend')}` : t('1 svar', '1 result')}</span>
                    </th>
                    <td>
                      {valueOf(r)} <Flag flag={r.flag} />
                    </td>
                    <td>{r.rangeText ?? '–'}</td>
                    <td>{formatDate(r.time)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : (
        <ol class="list">
          {requisitions(props.resources)
            .map((q) => ({ ...q, results: q.results.filter((r) => shown.some((s) => s.id === r.id)) }))
            .filter((q) => q.results.length > 0)
            .map(({ report, request, results }) => (
              <li key={report.id} class="item">
                <h2 class="item-title">
                  {t('Prøve taget', 'Sample taken')} {formatDateTime(report.effectiveDateTime)}
                </h2>
                <p class="meta">
                  {t('Svar fra', 'Result from')} {props.dir.organization(report.performer?.[0])?.name ?? props.dir.name(report.performer?.[0]) ?? t('ukendt laboratorium', 'unknown laboratory')}
                  {report.issued === undefined ? '' : ` · ${t('besvaret', 'answered')} ${formatDateTime(report.issued)}`}
                  {request?.requester === undefined ? '' : ` · ${t('rekvireret af', 'requested by')} ${props.dir.name(request.requester) ?? t('ukendt', 'unknown')}`}
                </p>
                <ul class="plain">
                  {results.map((r) => (
                    <li key={r.id}>
                      {r.name}: <strong>{valueOf(r)}</strong> <Flag flag={r.flag} /> {r.rangeText === undefined ? '' : <span class="sub">({t('ref.', 'ref.')} {r.rangeText})</span>}
                    </li>
                  ))}
                </ul>
              </li>
            ))}
        </ol>
      )}
    </>
  );
}

function AnalysisDetail(props: { a: Analysis; areaOf: (r: LabResult) => string }): preact.JSX.Element {
  const a = props.a;
  const latest = a.results[0]!;
  const points = trendPoints(a);
  return (
    <section aria-labelledby="analyse-navn">
      <h2 id="analyse-navn">{a.name}</h2>
      <p class="meta">
        {a.code === '' ? '' : `${t('Kode', 'Code')} ${a.code} · `}
        {t('Referenceområde', 'Reference range')}: {latest.rangeText ?? t('ikke oplyst', 'not given')}
      </p>
      {points.length > 1 ? <TrendChart points={points} low={latest.low} high={latest.high} unit={latest.unit} label={a.name} /> : <Empty>{t('Der er kun ét svar med en talværdi, så der er ingen udvikling at vise endnu.', 'There is only one numeric result, so there is no trend to show yet.')}</Empty>}
      <div class="table-wrap">
        <table class="results">
          <caption>{t('Alle svar, nyeste først', 'All results, newest first')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('Dato', 'Date')}</th>
              <th scope="col">{t('Svar', 'Result')}</th>
              <th scope="col">{t('Laboratorium', 'Laboratory')}</th>
            </tr>
          </thead>
          <tbody>
            {a.results.map((r) => (
              <tr key={r.id} class={r.flag === undefined ? '' : 'out'}>
                <td>{formatDateTime(r.time)}</td>
                <td>
                  {valueOf(r)} <Flag flag={r.flag} />
                </td>
                <td>{props.areaOf(r)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
