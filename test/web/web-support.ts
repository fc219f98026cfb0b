import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../src/db/index.ts';
import { ensureDemoDataOnStart } from '../../src/platform/population/demo.ts';
import { initFhirPlatform } from '../../src/platform/fhir/platform.ts';
import { FhirRepository } from '../../src/platform/fhir/repo.ts';
import { buildApp } from '../../src/server/app.ts';
import { createTestDatabase, loadTestConfig, sharedValidator } from '../support.ts';

/**
 * Browser tests' world: the real app with the demo data on a real port, and Debian's Chromium
 * driven by playwright-core (.ci/run installs it with apt-get).
 */

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');

/** A running platform for the browser. */
export interface WebServer {
  readonly base: string;
  readonly app: FastifyInstance;
  readonly db: Database;
  /** The platform's repository without access control (test set-up only, as the seeding uses it). */
  readonly repo: FhirRepository;
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts the app on a free port with the demo data (reference data, demo users, population).
 * @returns the server
 */
export async function startWebServer(): Promise<WebServer> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const tdb = await createTestDatabase();
  const validator = await sharedValidator();
  await ensureDemoDataOnStart(tdb.db, validator, `${base}/fhir`, () => undefined);
  const app = await buildApp(loadTestConfig({ DSD_BASE_URL: base, PORT: String(port) }), tdb.db, { validator });
  await app.listen({ port, host: '127.0.0.1' });
  const repo = new FhirRepository(await initFhirPlatform({ db: tdb.db, baseUrl: `${base}/fhir`, defaultPageSize: 20, maxPageSize: 1000, validator }));
  return {
    base,
    app,
    db: tdb.db,
    repo,
    async close(): Promise<void> {
      await app.close();
      await tdb.close();
    },
  };
}

/**
 * Launches Chromium headless (a fresh profile per launch).
 * @returns the browser
 */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not at ${CHROMIUM}: install it (apt-get install -y chromium, as .ci/run does) or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A new browser context (its own cookies and storage) at desktop size, Danish.
 * @param browser - the browser
 * @returns the context
 */
export function newContext(browser: Browser): Promise<BrowserContext> {
  // The page's CSP forbids inline scripts; axe-core is injected by the test, so the context bypasses CSP.
  return browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'da-DK', timezoneId: 'Europe/Copenhagen', bypassCSP: true });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** One accessibility violation as the test reports it. */
export interface Violation {
  readonly id: string;
  readonly impact: string;
  readonly help: string;
  readonly nodes: string[];
}

/**
 * Runs axe-core (WCAG 2.0/2.1 A and AA rules) on the page.
 * @param page - the page
 * @returns the serious and critical violations
 */
export async function seriousViolations(page: Page): Promise<Violation[]> {
  // Browser-side code is passed as text: this file is type-checked for Node, not the DOM.
  if (!(await page.evaluate<boolean>("'axe' in window"))) {
    await page.addScriptTag({ content: axeSource });
  }
  const result = await page.evaluate<Violation[]>(`axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
    .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact || '', help: v.help, nodes: v.nodes.slice(0, 5).map((n) => JSON.stringify(n.target)) })))`);
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * Saves screenshots of the page at desktop and at 390 px (mobile), and checks that nothing
 * forces sideways scrolling at 390 px.
 * @param page - the page
 * @param name - file name stem
 * @returns the page's width at 390 px (scrollWidth)
 */
export async function screenshots(page: Page, name: string): Promise<number> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const size = page.viewportSize() ?? { width: 1280, height: 900 };
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-desktop.png`) });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(100);
  const width = await page.evaluate<number>('document.documentElement.scrollWidth');
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-mobile.png`) });
  await page.setViewportSize(size);
  return width;
}

/**
 * Logs in on the development login pages (citizen), choosing whom to act for when asked.
 * @param page - the page, at the app's start page
 * @param cpr - CPR number
 * @param actingFor - the name to choose on "Hvem vil du se data for?" (default: the first, oneself)
 */
export async function loginCitizen(page: Page, cpr: string, actingFor?: string): Promise<void> {
  await page.getByRole('button', { name: 'Log ind på MinSundhed' }).click();
  await page.getByRole('link', { name: 'Log ind som borger (MitID)' }).click();
  await page.getByLabel('CPR-nummer').fill(cpr);
  await page.getByRole('button', { name: 'Log ind', exact: true }).click();
  await page.waitForURL((u) => u.pathname.includes('/hvem') || u.pathname.startsWith('/app'));
  if (new URL(page.url()).pathname.includes('/hvem')) {
    if (actingFor !== undefined) {
      await page.getByLabel(actingFor, { exact: false }).check();
    }
    await page.getByRole('button', { name: 'Fortsæt' }).click();
  }
  await page.waitForURL((u) => u.pathname.startsWith('/app') && !u.pathname.startsWith('/app/callback'));
}

/**
 * Logs in as a health professional (first role).
 * @param page - the page, at the app's start page
 * @param authorisationId - autorisations-ID
 */
export async function loginProfessional(page: Page, authorisationId: string): Promise<void> {
  await page.getByRole('button', { name: 'Log ind på Sundhedsjournalen' }).click();
  await page.getByRole('link', { name: 'Log ind som sundhedsperson (MitID Erhverv)' }).click();
  await page.getByLabel('Autorisations-ID').fill(authorisationId);
  await page.getByRole('button', { name: 'Log ind', exact: true }).click();
  await page.waitForURL((u) => u.pathname.includes('/rolle') || u.pathname.startsWith('/app'));
  if (new URL(page.url()).pathname.includes('/rolle')) {
    await page.getByRole('button', { name: 'Fortsæt' }).click();
  }
  await page.waitForURL((u) => u.pathname.startsWith('/app') && !u.pathname.startsWith('/app/callback'));
}
