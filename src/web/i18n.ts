/**
 * Danish first, English as a choice. Texts are written in place as `t('dansk', 'English')`, so
 * each page keeps both versions side by side. The choice is kept in localStorage.
 */

export const Lang = { da: 'da', en: 'en' } as const;
export type Lang = (typeof Lang)[keyof typeof Lang];

const KEY = 'dsd.lang';
let current: Lang = readLang();

function readLang(): Lang {
  try {
    return localStorage.getItem(KEY) === 'en' ? 'en' : 'da';
  } catch {
    return 'da';
  }
}

/**
 * @returns the current language
 */
export function lang(): Lang {
  return current;
}

/**
 * Chooses the language (the caller re-renders the app).
 * @param l - the language
 */
export function setLang(l: Lang): void {
  current = l;
  document.documentElement.lang = l;
  try {
    localStorage.setItem(KEY, l);
  } catch {
    // Private browsing without storage: the choice lasts until the page is reloaded.
  }
}

/**
 * @param da - the Danish text
 * @param en - the English text
 * @returns the text in the current language
 */
export function t(da: string, en: string): string {
  return current === 'en' ? en : da;
}

/**
 * @returns the locale for dates and numbers
 */
export function locale(): string {
  return current === 'en' ? 'en-GB' : 'da-DK';
}
