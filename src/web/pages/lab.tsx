import { useState } from 'preact/hooks';
import type { Resource } from '@medplum/fhirtypes';
import type { Directory } from '../api.ts';
import { Empty, Flag, Link, TrendChart } from '../components.tsx';
import type { Analysis, LabResult } from '../data.ts';
import { byAnalysis, labResults, requisitions, trendPoints } from '../data.ts';
import { formatDate, formatDateTime, formatNumber } from '../format.ts';

/** Lab results (Laboratoriesvar): by analysis with a trend per analysis, or by requisition; filters by period and area. Shared by MinSundhed and the professional view. */

const PERIODS = [
  { value: '1', label: 'Seneste år' },
  { value: '3', label: 'Seneste 3 år' },
  { value: '5', label: 'Seneste 5 år' },
  { value: 'all', label: 'Hele perioden' },
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
    return <Empty>Der er ingen prøvesvar. Når du får taget en blodprøve eller anden prøve, kommer svaret her, så snart laboratoriet har svaret.</Empty>;
  }
  const areaOf = (r: LabResult): string => props.dir.organization(r.source)?.name ?? props.dir.name(r.source) ?? 'Ukendt laboratorium';
  const areas = [...new Set(all.map(areaOf))].sort((a, b) => a.localeCompare(b, 'da'));
  const shown = all.filter((r) => inPeriod(r.time, period) && (area === '' || areaOf(r) === area));
  const analyses = byAnalysis(shown);
  const chosen = props.analysis === undefined ? undefined : byAnalysis(all.filter((r) => inPeriod(r.time, period))).find((a) => a.key === props.analysis);
  if (props.analysis !== undefined) {
    return (
      <>
        <p>
          <Link href={props.basePath}>← Alle analyser</Link>
        </p>
        {chosen === undefined ? <Empty>Analysen findes ikke i den valgte periode. Vælg en anden periode, eller gå tilbage til alle analyser.</Empty> : <AnalysisDetail a={chosen} areaOf={areaOf} />}
      </>
    );
  }
  return (
    <>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filtre for prøvesvar">
        <div>
          <label for="periode">Periode</label>
          <select id="periode" value={period} onChange={(e) => setPeriod((e.currentTarget).value)}>
            {PERIODS.map((p) => (
              <option value={p.value} key={p.value}>
                {p.label}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="omraade">Laboratorium</label>
          <select id="omraade" value={area} onChange={(e) => setArea((e.currentTarget).value)}>
            <option value="">Alle</option>
            {areas.map((a) => (
              <option value={a} key={a}>
                {a}
              </option>
            ))}
          </select>
        </div>
        <fieldset class="segmented">
          <legend>Vis</legend>
          <label>
            <input type="radio" name="visning" checked={mode === 'analysis'} onChange={() => setMode('analysis')} /> Efter analyse
          </label>
          <label>
            <input type="radio" name="visning" checked={mode === 'requisition'} onChange={() => setMode('requisition')} /> Efter prøvetagning
          </label>
        </fieldset>
      </form>
      <p class="small" role="status">
        {formatNumber(shown.length)} svar i {formatNumber(analyses.length)} analyser.
      </p>
      {shown.length === 0 ? (
        <Empty>Ingen prøvesvar i den valgte periode. Vælg en længere periode eller et andet laboratorium.</Empty>
      ) : mode === 'analysis' ? (
        <div class="table-wrap">
          <table class="results">
            <caption class="sr-only">Seneste svar for hver analyse</caption>
            <thead>
              <tr>
                <th scope="col">Analyse</th>
                <th scope="col">Seneste svar</th>
                <th scope="col">Referenceområde</th>
                <th scope="col">Dato</th>
              </tr>
            </thead>
            <tbody>
              {analyses.map((a) => {
                const r = a.results[0]!;
                return (
                  <tr key={a.key} class={r.flag === undefined ? '' : 'out'}>
                    <th scope="row">
                      <Link href={`${props.basePath}?analyse=${encodeURIComponent(a.key)}`}>{a.name}</Link>
                      <span class="sub">{a.results.length > 1 ? `${a.results.length} svar – se udvikling` : '1 svar'}</span>
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
            .map(({ report, results }) => (
              <li key={report.id} class="item">
                <h2 class="item-title">Prøve taget {formatDateTime(report.effectiveDateTime)}</h2>
                <p class="meta">
                  Svar fra {props.dir.organization(report.performer?.[0])?.name ?? props.dir.name(report.performer?.[0]) ?? 'ukendt laboratorium'}
                  {report.issued === undefined ? '' : ` · besvaret ${formatDateTime(report.issued)}`}
                </p>
                <ul class="plain">
                  {results.map((r) => (
                    <li key={r.id}>
                      {r.name}: <strong>{valueOf(r)}</strong> <Flag flag={r.flag} /> {r.rangeText === undefined ? '' : <span class="sub">(ref. {r.rangeText})</span>}
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
        {a.code === '' ? '' : `Kode ${a.code} · `}Referenceområde: {latest.rangeText ?? 'ikke oplyst'}
      </p>
      {points.length > 1 ? <TrendChart points={points} low={latest.low} high={latest.high} unit={latest.unit} label={a.name} /> : <Empty>Der er kun ét svar med en talværdi, så der er ingen udvikling at vise endnu.</Empty>}
      <div class="table-wrap">
        <table class="results">
          <caption>Alle svar, nyeste først</caption>
          <thead>
            <tr>
              <th scope="col">Dato</th>
              <th scope="col">Svar</th>
              <th scope="col">Laboratorium</th>
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
