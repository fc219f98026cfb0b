import { useEffect, useState } from 'preact/hooks';

/** Client-side routing under /app with the History API (the server answers every /app URL with the page). */

const EVENT = 'dsd:navigate';

/**
 * Goes to an app path.
 * @param path - e.g. `/app/laboratoriesvar`
 * @param replace - replace the history entry instead of adding one
 */
export function navigate(path: string, replace = false): void {
  if (replace) {
    history.replaceState(null, '', path);
  } else {
    history.pushState(null, '', path);
  }
  window.dispatchEvent(new Event(EVENT));
}

/**
 * The current path and query; re-renders on navigation.
 * @returns pathname and search
 */
export function useLocation(): { path: string; search: string } {
  const [loc, setLoc] = useState({ path: location.pathname, search: location.search });
  useEffect(() => {
    const update = (): void => {
      setLoc({ path: location.pathname, search: location.search });
    };
    window.addEventListener('popstate', update);
    window.addEventListener(EVENT, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(EVENT, update);
    };
  }, []);
  return loc;
}

/**
 * Click handler for in-app links: keeps modified clicks (new tab) as the browser's.
 * @param e - the click
 */
export function onLinkClick(e: MouseEvent): void {
  const a = (e.currentTarget as HTMLAnchorElement | null) ?? undefined;
  if (a === undefined || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) {
    return;
  }
  const href = a.getAttribute('href') ?? '';
  if (href.startsWith('/app')) {
    e.preventDefault();
    navigate(href);
  }
}
