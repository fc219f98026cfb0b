import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { AUTH_ID, CPR } from '../access-support.ts';
import type { WebServer } from './web-support.ts';
import { launchChromium, loginCitizen, loginProfessional, newContext, screenshots, seriousViolations, startWebServer } from './web-support.ts';

/**
 * The web front end in real Chromium against the real platform with the demo data: MinSundhed
 * for a citizen and a parent, Min Spærring → værdispring → Min Log, and Sundhedsjournalen for a GP.
 */

let server: WebServer;
let browser: Browser;

before(async () => {
  server = await startWebServer();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function citizenPage(cpr: string, actingFor?: string): Promise<Page> {
  const ctx = await newContext(browser);
  const page = await ctx.newPage();
  await page.goto(`${server.base}/`);
  await loginCitizen(page, cpr, actingFor);
  return page;
}

async function professionalPage(authorisationId: string): Promise<Page> {
  const ctx = await newContext(browser);
  const page = await ctx.newPage();
  await page.goto(`${server.base}/`);
  await loginProfessional(page, authorisationId);
  return page;
}

/** Checks the page for serious accessibility violations and takes the screenshots. */
async function checkPage(page: Page, name: string): Promise<void> {
  const violations = await seriousViolations(page);
  assert.deepEqual(violations, [], `no serious or critical axe violations on ${name}`);
  const width = await screenshots(page, name);
  assert.ok(width <= 390, `${name} fits 390 px without sideways scrolling (scrollWidth ${width})`);
}

/**
 * Waits until the element's text matches (pages load their data after they open).
 * @returns the text
 */
async function textMatching(locator: Locator, pattern: RegExp, what: string): Promise<string> {
  const until = Date.now() + 15_000;
  let text = '';
  while (Date.now() < until) {
    text = await locator.innerText();
    if (pattern.test(text)) {
      return text;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(text, pattern, what);
  return text;
}

async function openSection(page: Page, title: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Afsnit i MinSundhed' }).getByRole('link', { name: title, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
  await page.locator('.loading').waitFor({ state: 'detached' });
}

describe('start page', () => {
  it('is Danish, offers both logins and passes axe', async () => {
    const page = await (await newContext(browser)).newPage();
    const res = await page.goto(`${server.base}/`);
    assert.equal(res?.status(), 200);
    assert.equal(await page.getAttribute('html', 'lang'), 'da');
    await page.getByRole('button', { name: 'Log ind på MinSundhed' }).waitFor();
    await page.getByRole('button', { name: 'Log ind på Sundhedsjournalen' }).waitFor();
    await checkPage(page, 'start');
    await page.context().close();
  });

  it('English is a choice, kept across reloads, and Danish is one click back', async () => {
    const page = await (await newContext(browser)).newPage();
    await page.goto(`${server.base}/`);
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 1, name: 'Welcome to Digital Sundhed Danmark' }).waitFor();
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await page.getByRole('button', { name: 'Log in to MinSundhed' }).waitFor();
    await checkPage(page, 'start-english');
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Welcome to Digital Sundhed Danmark' }).waitFor();
    await page.getByRole('button', { name: 'Dansk' }).click();
    await page.getByRole('heading', { level: 1, name: 'Velkommen til Digital Sundhed Danmark' }).waitFor();
    assert.equal(await page.getAttribute('html', 'lang'), 'da');
    await page.context().close();
  });
});

describe('MinSundhed: a citizen logs in and reads each section', () => {
  let page: Page;
  before(async () => {
    page = await citizenPage(CPR.louise, 'Louise');
  });
  after(async () => {
    await page.context().close();
  });

  it('the overview shows her own data, with the person she acts for', async () => {
    await page.getByRole('heading', { level: 1, name: 'MinSundhed' }).waitFor();
    await page.getByText('Her er et overblik over dine sundhedsdata').waitFor();
    const header = await page.locator('header').innerText();
    assert.match(header, /Logget ind som\s+Louise Holm Sørensen/);
    assert.doesNotMatch(header, /Du ser data for/, 'she acts for herself');
    const cards = await page.locator('.cards .card h2').allInnerTexts();
    assert.deepEqual(cards.slice(0, 3), ['Prøvesvar', 'Medicinkort', 'Aftaler']);
    await textMatching(page.locator('.cards'), /Metformin/, 'the medicine card lists her medicine from the record');
    await checkPage(page, 'citizen-overview');
  });

  it('lab results: reference ranges and flags, then the HbA1c trend chart', async () => {
    await openSection(page, 'Prøvesvar');
    const row = page.locator('table.results tbody tr', { hasText: 'HbA1c' });
    await row.waitFor();
    const text = await row.innerText();
    assert.match(text, /64 mmol\/mol/, 'the latest HbA1c value');
    assert.match(text, /Over ▲/, 'flagged above the reference range in text, not only colour');
    assert.match(text, /< 48 mmol\/mol/, 'the reference range');
    assert.match(text, /9\. nov\. 2025/, 'a Danish date');
    await checkPage(page, 'citizen-lab-results');
    await row.getByRole('link', { name: 'HbA1c' }).click();
    await page.getByRole('heading', { level: 2, name: 'HbA1c' }).waitFor();
    const chart = page.locator('figure.chart svg[role=img]');
    const label = (await chart.getAttribute('aria-label')) ?? '';
    assert.match(label, /^HbA1c: \d+ målinger fra .* Seneste 64 mmol\/mol, over referenceområdet\.$/);
    const values = await page.locator('table.results tbody tr').count();
    assert.ok(values >= 4, `the table lists every HbA1c value (${values})`);
    assert.equal(await page.locator('figure.chart .band').count(), 1, 'the reference range is drawn');
    await checkPage(page, 'citizen-lab-trend');
    await page.getByRole('link', { name: '← Alle analyser' }).click();
    await page.getByLabel('Periode').selectOption('1');
    const lastYear = await page.locator('table.results tbody tr').count();
    await page.getByLabel('Periode').selectOption('all');
    assert.ok((await page.locator('table.results tbody tr').count()) >= lastYear, 'a shorter period shows no more analyses');
    await page.getByLabel('Efter prøvetagning').check();
    await textMatching(page.locator('ol.list li').first(), /Prøve taget .*Svar fra Klinisk Biokemisk Afdeling/s, 'a sampling with its laboratory');
  });

  it('every other section opens with its data or an empty state that says what to do', async () => {
    const expectations: [string, RegExp][] = [
      ['Sundhedsjournal', /Diagnoser[\s\S]*Type 2-diabetes[\s\S]*Kontakter[\s\S]*Epikriser og notater/],
      ['Medicinkort', /Aktuel medicin[\s\S]*Metformin[\s\S]*1 tablet/],
      ['Vaccinationer', /Alle vaccinationer/],
      ['Aftaler', /Kommende aftaler[\s\S]*Tidligere aftaler[\s\S]*Kontrol efter brud/],
      ['Henvisninger', /Henvisning til [\s\S]*Aktiv – venter/],
      ['Hjemmemålinger', /Ingen hjemmemålinger|Seneste/],
      ['Egen læge', /Lægerne i Aarhus C[\s\S]*Læge: Anne Marie Kjær/],
      ['Min Log', /Min Log/],
      ['Min Spærring', /Opret en spærring/],
    ];
    for (const [title, pattern] of expectations) {
      await openSection(page, title);
      await textMatching(page.locator('main'), pattern, title);
      await checkPage(page, `citizen-${title.toLowerCase().replace(/æ/g, 'ae').replace(/ø/g, 'oe').replace(/å/g, 'aa').replace(/\s+/g, '-')}`);
    }
  });
});

describe('a parent acts for her child and switches back', () => {
  it('Louise chooses Emil, sees his vaccination programme, then logs in again for herself', async () => {
    const page = await citizenPage(CPR.louise, 'Emil');
    await page.getByText('Du ser data for').waitFor();
    await textMatching(page.locator('header .acting'), /Du ser data for\s+Emil Holm Sørensen/, 'the header names the child');
    await textMatching(page.locator('main'), /overblik over sundhedsdata for Emil Holm Sørensen/, 'the overview is the child\'s');
    await openSection(page, 'Vaccinationer');
    const programme = await textMatching(page.locator('section[aria-labelledby=program]'), /MFR, 2\. dosis/, 'the programme table');
    assert.match(programme, /DiTeKiPol\/Hib, 1\. dosis\s+3 måneder\s+Givet 5\. okt\. 2017/);
    assert.match(programme, /MFR, 2\. dosis\s+4 år\s+Mangler/, 'the missing second MFR dose is shown');
    assert.match(programme, /vaccination(er)? mangler efter programmet/);
    await checkPage(page, 'parent-child-vaccinations');
    await page.getByRole('button', { name: 'Skift person' }).click();
    await page.getByRole('link', { name: 'Log ind som borger (MitID)' }).click();
    await page.getByLabel('CPR-nummer').fill(CPR.louise);
    await page.getByRole('button', { name: 'Log ind', exact: true }).click();
    await page.getByLabel('Louise', { exact: false }).check();
    await page.getByRole('button', { name: 'Fortsæt' }).click();
    await page.getByText('Her er et overblik over dine sundhedsdata').waitFor();
    assert.equal(await page.locator('header .acting').count(), 0, 'back to her own data');
    await page.context().close();
  });
});

describe('power of attorney: a citizen acts for someone who gave her fuldmagt', () => {
  it('Poul Erik Jensen gives Louise power of attorney; she chooses him and reads his medicine card', async () => {
    // The power of attorney as the platform holds it: a RelatedPerson on Poul with Louise's CPR number (v3 POWATT).
    await server.repo.create({
      resourceType: 'RelatedPerson',
      active: true,
      patient: { reference: 'Patient/demo-copd' },
      identifier: [{ system: 'urn:oid:1.2.208.176.1.2', value: CPR.louise }],
      relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'POWATT', display: 'power of attorney' }] }],
      name: [{ text: 'Louise Holm Sørensen' }],
    });
    const page = await citizenPage(CPR.louise, 'Poul Erik Jensen');
    await textMatching(page.locator('header .acting'), /Du ser data for\s+Poul Erik Jensen/, 'the header names the person she acts for');
    await openSection(page, 'Medicinkort');
    const own = await textMatching(page.locator('main'), /Aktuel medicin/, 'his medicine card');
    assert.doesNotMatch(own, /Metformin/, 'her own medicine is not on his card');
    await openSection(page, 'Hjemmemålinger');
    await page.getByRole('heading', { level: 2, name: 'Iltmætning' }).waitFor();
    await page.context().close();
  });
});

describe('home measurements: a citizen in telemedicine sees a chart per measurement', () => {
  it('Poul Erik Jensen sees his oxygen saturation, pulse and weight with charts', async () => {
    const page = await citizenPage(CPR.poul);
    await openSection(page, 'Hjemmemålinger');
    const titles = await page.locator('main section.card h2').allInnerTexts();
    assert.ok(titles.includes('Iltmætning'), `oxygen saturation is among ${titles.join(', ')}`);
    const card = page.locator('main section.card', { has: page.getByRole('heading', { name: 'Iltmætning' }) });
    await textMatching(card, /Seneste: \d+ % .*· \d+ målinger/s, 'the latest oxygen saturation');
    assert.match((await card.locator('svg[role=img]').getAttribute('aria-label')) ?? '', /^Iltmætning: \d+ målinger fra /);
    await checkPage(page, 'citizen-home-measurements');
    await page.context().close();
  });
});

describe('spærring → værdispring → Min Log', () => {
  let citizen: Page;
  let gp: Page;
  before(async () => {
    citizen = await citizenPage(CPR.louise, 'Louise');
    gp = await professionalPage(AUTH_ID.gp);
  });
  after(async () => {
    await citizen.context().close();
    await gp.context().close();
  });

  it('Louise blocks her GP in Min Spærring', async () => {
    await openSection(citizen, 'Min Spærring');
    await citizen.getByText('Du har ingen spærringer').waitFor();
    await citizen.getByLabel('En bestemt sundhedsperson').check();
    await citizen.getByLabel('Sundhedsperson', { exact: true }).selectOption({ label: 'Anne Marie Kjær (Lægerne i Aarhus C)' });
    await citizen.getByRole('button', { name: 'Opret spærring' }).click();
    await citizen.getByText('Spærringen er oprettet').waitFor();
    await citizen.getByText('Sundhedsperson: Anne Marie Kjær', { exact: true }).waitFor();
    await checkPage(citizen, 'citizen-block-created');
  });

  it('the GP finds her by CPR, meets the block, and uses værdispring with reason, confirmation and time limit', async () => {
    await gp.getByRole('heading', { level: 1, name: 'Find patient' }).waitFor();
    await gp.getByLabel('CPR-nummer eller navn').fill('140381-0068');
    await gp.getByRole('button', { name: 'Søg' }).click();
    await gp.getByRole('link', { name: 'Louise Holm Sørensen' }).click();
    await gp.getByRole('heading', { level: 2, name: 'Patienten har spærret for nogle data' }).waitFor();
    await textMatching(gp.locator('main'), /Der er ingen data, du kan se/, 'the blocked data is not shown');
    await checkPage(gp, 'professional-blocked');
    await gp.getByRole('button', { name: 'Brug værdispring' }).click();
    await gp.getByRole('button', { name: 'Start værdispring' }).click();
    await gp.getByText('Vælg en begrundelse.').waitFor();
    await gp.getByLabel('Patienten kan ikke give samtykke', { exact: false }).check();
    await gp.getByLabel('Beskriv situationen').fill('Indlagt bevidstløs, skal kende medicin og blodprøver');
    await gp.getByLabel('Hvor længe?').selectOption('30');
    await gp.getByRole('button', { name: 'Start værdispring' }).click();
    await gp.getByText('Bekræft, at du har en behandlingsmæssig grund').waitFor();
    await gp.getByLabel('Jeg bekræfter', { exact: false }).check();
    await gp.getByRole('button', { name: 'Start værdispring' }).click();
    await gp.getByText('Værdispring er aktivt til kl.').waitFor();
    await gp.locator('ol.timeline li').first().waitFor();
    const items = await gp.locator('ol.timeline li').count();
    assert.ok(items > 20, `under værdispring the record is visible (${items} items)`);
    const first = await gp.locator('ol.timeline li .meta').allInnerTexts();
    assert.ok(first.every((m) => /Kilde: /.test(m)), 'every item names its source');
    assert.ok(first.some((m) => /Klinisk Biokemisk Afdeling/.test(m)), 'sources across organisations');
    await checkPage(gp, 'professional-record-vaerdispring');
  });

  it('Louise sees the værdispring highlighted in Min Log, and removes the block', async () => {
    await openSection(citizen, 'Min Log');
    const btg = citizen.locator('ol.log li.btg');
    await btg.first().waitFor();
    await textMatching(btg.first(), /Værdispring[\s\S]*Anne Marie Kjær/, 'the værdispring entry names the GP');
    await textMatching(citizen.locator('main'), /Værdispring:.*opslag nedenfor er sket med værdispring/, 'Min Log explains værdispring');
    assert.ok((await citizen.locator('ol.log li', { hasText: 'Brugte værdispring til at se dine data' }).count()) >= 1);
    await checkPage(citizen, 'citizen-min-log');
    await openSection(citizen, 'Min Spærring');
    await citizen.getByRole('button', { name: /^Fjern spærring.*Sundhedsperson: Anne Marie Kjær$/ }).click();
    await citizen.getByText('Spærringen er fjernet.').waitFor();
    await citizen.getByText('Du har ingen spærringer').waitFor();
  });
});

describe('Sundhedsjournalen: a GP finds a patient by name and reads lab trends', () => {
  it('search by name, the record newest first with sources, the lab portal view and a trend', async () => {
    const page = await professionalPage(AUTH_ID.gp);
    await page.getByLabel('CPR-nummer eller navn').fill('Poul Erik Jensen');
    await page.getByRole('button', { name: 'Søg' }).click();
    await page.getByRole('link', { name: 'Poul Erik Jensen' }).click();
    await page.locator('ol.timeline li').first().waitFor();
    const dates = await page.locator('ol.timeline li').count();
    assert.ok(dates > 20);
    assert.equal(await page.getByRole('heading', { name: 'Patienten har spærret for nogle data' }).count(), 0, 'no blocks, no notice');
    await checkPage(page, 'professional-record');
    await page.getByRole('link', { name: 'Laboratoriesvar' }).click();
    const rows = page.locator('table.results tbody tr');
    await rows.first().waitFor();
    const link = rows.first().getByRole('link');
    const name = (await link.innerText()).trim();
    await link.click();
    await page.getByRole('heading', { level: 2, name }).waitFor();
    assert.match((await page.locator('figure.chart svg').getAttribute('aria-label')) ?? '', new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\d+ målinger`));
    await checkPage(page, 'professional-lab-trend');
    await page.context().close();
  });
});
