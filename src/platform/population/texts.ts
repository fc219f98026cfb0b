/**
 * Danish clinical text for discharge letters (epikriser), emergency notes (skadekort) and
 * outpatient notes. Templates take the facts of the contact; the wording is written for the
 * synthetic population (no real patient text).
 */

export interface LetterFacts {
  readonly patientName: string;
  readonly birthDate: string;
  readonly department: string;
  readonly hospital: string;
  readonly admitted: string;
  readonly discharged: string;
  readonly doctor: string;
  readonly diagnosis: string;
  readonly diagnosisCode: string;
  /** Free facts used by some templates (CRP, saturation, …). */
  readonly values: Readonly<Record<string, string>>;
}

export type LetterKind =
  | 'pneumonia'
  | 'copdExacerbation'
  | 'heartFailure'
  | 'myocardialInfarction'
  | 'stroke'
  | 'hipFracture'
  | 'hipArthrosis'
  | 'gallstones'
  | 'wristFracture'
  | 'ankleSprain'
  | 'chestPain'
  | 'cancer'
  | 'diabetesOutpatient'
  | 'urinaryInfection';

interface Template {
  readonly title: string;
  readonly reason: string;
  readonly course: string;
  readonly plan: string;
}

const TEMPLATES: Readonly<Record<LetterKind, Template>> = {
  pneumonia: {
    title: 'Epikrise',
    reason: 'Indlagt med feber, hoste og tiltagende åndenød gennem {days} dage.',
    course: 'Ved indlæggelsen temperatur {temp} °C, CRP {crp} mg/L og infiltrat på røntgen af thorax. Behandlet med intravenøs antibiotika og efter 2 døgn overgang til peroral behandling. Hurtigt klinisk bedre og feberfri.',
    plan: 'Fortsætter peroral antibiotika i alt 7 dage. Kontrol hos egen læge om 4–6 uger, evt. med røntgen af thorax efter 6 uger.',
  },
  copdExacerbation: {
    title: 'Epikrise',
    reason: 'Indlagt med forværring af kendt KOL: øget åndenød, hoste og misfarvet ekspektorat.',
    course: 'Saturation {spo2} % på atmosfærisk luft ved ankomst. Behandlet med inhalationer, prednisolon og antibiotika samt ilt i de første døgn. Mobiliseret og udskrevet i habituel tilstand.',
    plan: 'Prednisolon 37,5 mg dagligt i i alt 5 dage. Henvist til KOL-rehabilitering i kommunen. Kontrol hos egen læge om 2 uger. Telemedicinsk opfølgning fortsætter.',
  },
  heartFailure: {
    title: 'Epikrise',
    reason: 'Indlagt med åndenød ved let anstrengelse, ødemer på underbenene og vægtøgning på {kg} kg.',
    course: 'NT-proBNP {ntprobnp} pmol/L. Ekkokardiografi viser nedsat venstre ventrikels uddrivningsfraktion (EF {ef} %). Behandlet med intravenøs diuretika med god effekt; vægttab under indlæggelsen. Opstartet hjertesvigtsbehandling.',
    plan: 'Daglig vejning; ved vægtøgning over 2 kg på 3 dage kontaktes egen læge. Ambulant kontrol i hjertesvigtsklinikken om 4 uger med blodprøver (natrium, kalium, kreatinin).',
  },
  myocardialInfarction: {
    title: 'Epikrise',
    reason: 'Indlagt akut med trykkende brystsmerter med udstråling til venstre arm.',
    course: 'EKG med ST-elevation. Akut koronararteriografi med PCI og stent. Ukompliceret forløb efter indgrebet. Troponin-forløb forenelig med myokardieinfarkt.',
    plan: 'Livslang acetylsalicylsyre og statin. Henvist til hjerterehabilitering i kommunen. Ambulant kontrol på hjertemedicinsk afdeling om 6 uger.',
  },
  stroke: {
    title: 'Epikrise',
    reason: 'Indlagt akut med pludseligt opståede lammelser i højre side og talebesvær.',
    course: 'CT af cerebrum uden blødning; MR-skanning bekræfter iskæmisk apopleksi. Behandlet med trombolyse med delvis effekt. Fysio- og ergoterapeutisk vurdering under indlæggelsen.',
    plan: 'Genoptræning efter sundhedsloven i kommunen, genoptræningsplan sendt. Blodpladehæmmende behandling og statin. Kontrol i neurologisk ambulatorium om 3 måneder.',
  },
  hipFracture: {
    title: 'Epikrise',
    reason: 'Indlagt efter fald i hjemmet med smerter i venstre hofte og manglende gangfunktion.',
    course: 'Røntgen viser brud på lårbenshalsen. Opereret dagen efter indlæggelsen med indsættelse af hofteprotese. Mobiliseret med gangstativ fra 1. postoperative dag.',
    plan: 'Genoptræningsplan sendt til kommunen. Hjemmeplejen er orienteret. Smertestillende efter behov. Stingfjernelse hos egen læge om 14 dage.',
  },
  hipArthrosis: {
    title: 'Epikrise',
    reason: 'Indlagt til planlagt indsættelse af hofteprotese pga. hofteartrose med smerter og nedsat gangdistance.',
    course: 'Ukompliceret operation. Mobiliseret på operationsdagen. Udskrevet efter {days} døgn til eget hjem.',
    plan: 'Genoptræning efter instruktion. Stingfjernelse hos egen læge om 14 dage. Ambulant kontrol med røntgen om 3 måneder.',
  },
  gallstones: {
    title: 'Epikrise',
    reason: 'Indlagt til planlagt kikkertoperation for galdesten efter gentagne smerteanfald.',
    course: 'Laparoskopisk fjernelse af galdeblæren uden komplikationer. Sammedagsforløb.',
    plan: 'Almindelig kost. Må løfte let efter 1 uge. Ingen planlagt kontrol; henvend dig ved feber eller tiltagende smerter.',
  },
  wristFracture: {
    title: 'Skadekort',
    reason: 'Faldet på isglat fortov og taget fra med hånden.',
    course: 'Røntgen viser brud på nedre ende af radius uden væsentlig fejlstilling. Anlagt gipsskinne.',
    plan: 'Gips i 5 uger. Kontrol med røntgen i skadestuens ambulatorium om 1 uge. Paracetamol efter behov.',
  },
  ankleSprain: {
    title: 'Skadekort',
    reason: 'Vred om på foden under sport.',
    course: 'Hævelse og ømhed svarende til ydre ankel. Ingen knoglepunktømhed; røntgen ikke indiceret efter Ottawa-reglerne.',
    plan: 'Ro, is, kompression og elevation. Belastning efter evne. Egen læge ved manglende bedring efter 2 uger.',
  },
  chestPain: {
    title: 'Notat',
    reason: 'Henvendt med brystsmerter gennem 2 timer.',
    course: 'Normalt EKG og normale troponiner ved gentagne målinger. Smerterne vurderes muskuloskeletale.',
    plan: 'Afsluttet fra akutmodtagelsen. Egen læge ved nye symptomer.',
  },
  cancer: {
    title: 'Ambulant notat',
    reason: 'Henvist i pakkeforløb ved mistanke om kræft.',
    course: 'Udredningen har bekræftet diagnosen. Sygdommen er drøftet på multidisciplinær konference, og behandlingsplanen er gennemgået med patienten og pårørende.',
    plan: 'Behandling opstartes som planlagt. Kontaktsygeplejerske er tildelt. Næste samtale om 3 uger.',
  },
  diabetesOutpatient: {
    title: 'Ambulant notat',
    reason: 'Årskontrol for diabetes.',
    course: 'HbA1c {hba1c} mmol/mol. Ingen hypoglykæmier. Fodundersøgelse uden sår. Øjenscreening er ajour.',
    plan: 'Uændret behandling. Næste kontrol om 12 måneder med blodprøver inden.',
  },
  urinaryInfection: {
    title: 'Epikrise',
    reason: 'Indlagt med feber, svie ved vandladning og påvirket almentilstand.',
    course: 'CRP {crp} mg/L. Urindyrkning med E. coli. Behandlet med intravenøs antibiotika og derefter peroral behandling efter resistensbestemmelse.',
    plan: 'Fortsætter antibiotika i i alt 7 dage. Egen læge ved fornyede symptomer.',
  },
};

function fill(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\{(\w+)\}/g, (_, k: string) => values[k] ?? '');
}

/**
 * Writes the letter or note of a contact.
 * @param kind - which template
 * @param f - the facts
 * @returns title and plain text
 */
export function writeLetter(kind: LetterKind, f: LetterFacts): { title: string; text: string } {
  const t = TEMPLATES[kind];
  const period = f.admitted === f.discharged ? `Kontakt ${f.admitted}` : `Indlagt ${f.admitted}, udskrevet ${f.discharged}`;
  const text = [
    `${t.title} – ${f.department}, ${f.hospital}`,
    '',
    `Patient: ${f.patientName}, født ${f.birthDate}`,
    `${period}.`,
    '',
    `Kontaktårsag: ${fill(t.reason, f.values)}`,
    `Diagnose: ${f.diagnosis} (${f.diagnosisCode}).`,
    '',
    `Forløb: ${fill(t.course, f.values)}`,
    '',
    `Plan: ${fill(t.plan, f.values)}`,
    '',
    'Med venlig hilsen',
    `${f.doctor}, ${f.department}`,
  ].join('\n');
  return { title: `${t.title}: ${f.diagnosis}`, text };
}
