import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { FhirError } from './api.ts';
import { formatDate, formatNumber } from './format.ts';
import { t } from './i18n.ts';
import { onLinkClick } from './router.ts';

/** Shared building blocks: links, page headings, loading/empty/error states, the trend chart. */

/**
 * An in-app link.
 * @param props - href, children, class
 * @param props.href - app path
 * @param props.children - content
 * @param props.class - CSS class
 * @returns the link
 */
export function Link(props: { href: string; children: ComponentChildren; class?: string; current?: boolean }): preact.JSX.Element {
  return (
    <a href={props.href} class={props.class} onClick={onLinkClick} aria-current={props.current === true ? 'page' : undefined}>
      {props.children}
    </a>
  );
}

/**
 * A page's heading; focus moves to it when the page opens, so screen readers announce the new page.
 * @param props - title and intro
 * @param props.title - the heading
 * @param props.children - introduction
 * @returns the heading
 */
export function PageTitle(props: { title: string; children?: ComponentChildren }): preact.JSX.Element {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${props.title} – Digital Sundhed Danmark`;
    ref.current?.focus();
  }, [props.title]);
  return (
    <div class="page-title">
      <h1 tabIndex={-1} ref={ref}>
        {props.title}
      </h1>
      {props.children === undefined ? null : <p class="intro">{props.children}</p>}
    </div>
  );
}

/** The state of something loaded. */
export type Loaded<T> = { readonly state: 'loading' } | { readonly state: 'error'; readonly error: Error } | { readonly state: 'ok'; readonly data: T };

/**
 * Loads data when the inputs change.
 * @param load - the loader
 * @param deps - inputs
 * @returns the state and a reload function
 */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): [Loaded<T>, () => void] {
  const [state, setState] = useState<Loaded<T>>({ state: 'loading' });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setState({ state: 'loading' });
    load().then(
      (data) => {
        if (live) {
          setState({ state: 'ok', data });
        }
      },
      (err: unknown) => {
        if (live) {
          setState({ state: 'error', error: err instanceof Error ? err : new Error(String(err)) });
        }
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, round]);
  return [state, () => setRound((r) => r + 1)];
}

/**
 * Shows a loading text, an error that says what to do, or the content.
 * @param props - the state and what to render
 * @param props.loaded - the state
 * @param props.what - what is loading ("dine prøvesvar")
 * @param props.retry - try again
 * @param props.children - renders the data
 * @returns the view
 */
export function Async<T>(props: { loaded: Loaded<T>; what: string; retry?: () => void; children: (data: T) => ComponentChildren }): preact.JSX.Element {
  const l = props.loaded;
  if (l.state === 'loading') {
    return (
      <p class="loading" role="status">
        {t('Henter', 'Loading')} {props.what} …
      </p>
    );
  }
  if (l.state === 'error') {
    return (
      <div class="notice error" role="alert">
        <p>
          <strong>
            {t('Vi kunne ikke hente', 'We could not load')} {props.what}.
          </strong>{' '}
          {l.error.message}
        </p>
        {props.retry === undefined || (l.error instanceof FhirError && l.error.status === 401) ? null : (
          <button type="button" onClick={props.retry}>
            {t('Prøv igen', 'Try again')}
          </button>
        )}
      </div>
    );
  }
  return <>{props.children(l.data)}</>;
}

/**
 * An empty state that says why and what to do.
 * @param props - the text
 * @param props.children - the text
 * @returns the note
 */
export function Empty(props: { children: ComponentChildren }): preact.JSX.Element {
  return <p class="empty">{props.children}</p>;
}

/** One point of a trend. */
export interface TrendPoint {
  readonly time: string;
  readonly value: number;
  /** Outside the reference range. */
  readonly flag?: 'H' | 'L';
}

/**
 * A trend chart (SVG) with the reference range as a band; values outside it are drawn as
 * triangles as well as in another colour (never colour alone). The text alternative summarises
 * the trend; the values are in a table next to it.
 * @param props - points, reference range, unit and name
 * @param props.points - the values, oldest first
 * @param props.low - lower reference limit
 * @param props.high - upper reference limit
 * @param props.unit - unit
 * @param props.label - analysis name
 * @returns the chart
 */
export function TrendChart(props: { points: readonly TrendPoint[]; low?: number; high?: number; unit: string; label: string }): preact.JSX.Element {
  const pts = props.points;
  const W = 640;
  const H = 240;
  const pad = { l: 52, r: 16, t: 16, b: 36 };
  const values = pts.map((p) => p.value).concat(props.low ?? [], props.high ?? []);
  let min = Math.min(...values);
  let max = Math.max(...values);
  if (min === max) {
    min -= 1;
    max += 1;
  }
  const span = max - min;
  min -= span * 0.1;
  max += span * 0.1;
  const times = pts.map((p) => Date.parse(p.time));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const x = (t: number): number => pad.l + (t1 === t0 ? (W - pad.l - pad.r) / 2 : ((t - t0) / (t1 - t0)) * (W - pad.l - pad.r));
  const y = (v: number): number => pad.t + (1 - (v - min) / (max - min)) * (H - pad.t - pad.b);
  const last = pts[pts.length - 1];
  const summary =
    last === undefined
      ? `${props.label}: ${t('ingen værdier', 'no values')}`
      : `${props.label}: ${pts.length} ${t('målinger fra', 'measurements from')} ${formatDate(pts[0]!.time)} ${t('til', 'to')} ${formatDate(last.time)}. ${t('Seneste', 'Latest')} ${formatNumber(last.value)} ${props.unit}${
          last.flag === 'H' ? t(', over referenceområdet', ', above the reference range') : last.flag === 'L' ? t(', under referenceområdet', ', below the reference range') : ''
        }.`;
  const bandTop = props.high === undefined ? pad.t : y(props.high);
  const bandBottom = props.low === undefined ? H - pad.b : y(props.low);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary} preserveAspectRatio="xMidYMid meet">
        {props.low !== undefined || props.high !== undefined ? <rect x={pad.l} y={bandTop} width={W - pad.l - pad.r} height={Math.max(0, bandBottom - bandTop)} class="band" /> : null}
        <line x1={pad.l} y1={H - pad.b} x2={W - pad.r} y2={H - pad.b} class="axis" />
        <line x1={pad.l} y1={pad.t} x2={pad.l} y2={H - pad.b} class="axis" />
        <text x={pad.l - 6} y={y(max - span * 0.1) + 4} class="tick" text-anchor="end">
          {formatNumber(Number((max - span * 0.1).toPrecision(3)))}
        </text>
        <text x={pad.l - 6} y={y(min + span * 0.1) + 4} class="tick" text-anchor="end">
          {formatNumber(Number((min + span * 0.1).toPrecision(3)))}
        </text>
        {pts.length > 0 ? (
          <>
            <text x={pad.l} y={H - 10} class="tick" text-anchor="start">
              {formatDate(pts[0]!.time)}
            </text>
            <text x={W - pad.r} y={H - 10} class="tick" text-anchor="end">
              {formatDate(last!.time)}
            </text>
          </>
        ) : null}
        <polyline points={pts.map((p, i) => `${x(times[i]!)},${y(p.value)}`).join(' ')} class="line" />
        {pts.map((p, i) =>
          p.flag === undefined ? (
            <circle cx={x(times[i]!)} cy={y(p.value)} r={5} class="dot" />
          ) : (
            <path d={p.flag === 'H' ? `M${x(times[i]!)},${y(p.value) - 7} l7,12 h-14 z` : `M${x(times[i]!)},${y(p.value) + 7} l7,-12 h-14 z`} class="dot out" />
          ),
        )}
      </svg>
      <figcaption>
        {props.low !== undefined || props.high !== undefined ? t('Det lyse felt er referenceområdet. ', 'The light band is the reference range. ') : ''}
        {t('Trekanter viser værdier uden for referenceområdet.', 'Triangles show values outside the reference range.')}
      </figcaption>
    </figure>
  );
}

/**
 * A flag for a value outside the reference range (text, not only colour).
 * @param props - the flag
 * @param props.flag - H, L or undefined
 * @returns the badge
 */
export function Flag(props: { flag: string | undefined }): preact.JSX.Element | null {
  if (props.flag === 'H' || props.flag === 'HH') {
    return (
      <span class="flag high">
        {t('Over', 'High')} <span aria-hidden="true">▲</span>
      </span>
    );
  }
  if (props.flag === 'L' || props.flag === 'LL') {
    return (
      <span class="flag low">
        {t('Under', 'Low')} <span aria-hidden="true">▼</span>
      </span>
    );
  }
  if (props.flag === 'A' || props.flag === 'AA') {
    return <span class="flag high">{t('Afvigende', 'Abnormal')}</span>;
  }
  return null;
}
