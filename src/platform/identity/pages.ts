/**
 * Server-rendered pages of the development identity provider (a stand-in for MitID and MitID
 * Erhverv): Danish, plain HTML forms that work without JavaScript, no external assets, readable
 * on a phone, labels on every field, errors in text (never colour alone).
 */

/**
 * Escapes text for HTML content and attribute values.
 * @param s - the text
 * @returns the escaped text
 */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:1.0625rem;line-height:1.5;color:#1a1a1a;background:#f4f5f7}
main{max-width:40rem;margin:0 auto;padding:1rem}
header{background:#14143c;color:#fff;padding:.75rem 1rem}
header p{margin:0;max-width:40rem;margin:0 auto;font-weight:600}
h1{font-size:1.5rem;line-height:1.25;margin:1rem 0}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
.card{background:#fff;border:1px solid #c8cbd2;border-radius:.5rem;padding:1rem;margin:1rem 0}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
.hint{display:block;font-weight:400;color:#44474f;font-size:.95rem}
input[type=text]{width:100%;font-size:1.0625rem;padding:.6rem;border:2px solid #5b5f69;border-radius:.25rem}
fieldset{border:0;padding:0;margin:.75rem 0}
legend{font-weight:600;margin-bottom:.25rem}
.choice{display:flex;gap:.5rem;align-items:center;margin:.35rem 0}
.choice input{width:1.25rem;height:1.25rem}
.choice label{display:inline;font-weight:400;margin:0}
button,.button{display:inline-block;font-size:1.0625rem;padding:.65rem 1.25rem;border-radius:.25rem;border:2px solid #0b4fd1;background:#0b4fd1;color:#fff;text-decoration:none;cursor:pointer;margin:.5rem .5rem .5rem 0}
button.secondary,.button.secondary{background:#fff;color:#0b4fd1}
button.link{background:none;border:0;color:#0b4fd1;text-decoration:underline;padding:0;margin:0;font-size:inherit;text-align:left}
:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}
.error{border:2px solid #b00020;border-left-width:.5rem;background:#fff;padding:.75rem 1rem;margin:1rem 0}
.error h2{margin:0 0 .25rem;font-size:1.1rem}
ul.scopes{padding-left:1.25rem}
ul.picks{list-style:none;padding:0}
ul.picks li{margin:.4rem 0}
.small{font-size:.95rem;color:#44474f}
`;

/**
 * The page frame.
 * @param title - page title and h1
 * @param body - the inner HTML
 * @returns the full document
 */
export function layout(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="da">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(title)} – Digital Sundhed Danmark</title>
<style>${CSS}</style>
</head>
<body>
<header><p>Digital Sundhed Danmark – log ind (udviklingsmiljø)</p></header>
<main>
<h1>${esc(title)}</h1>
${body}
</main>
</body>
</html>`;
}

/**
 * An error summary placed before the form; it names the problem and what to do.
 * @param message - what went wrong and what to do
 * @returns HTML
 */
export function errorBox(message: string | undefined): string {
  if (message === undefined) {
    return '';
  }
  return `<div class="error" role="alert" id="fejl"><h2>Der er en fejl</h2><p>${esc(message)}</p></div>`;
}

/** A quick-pick demo user on the start page. */
export interface QuickPick {
  readonly label: string;
  readonly action: string;
  readonly field: string;
  readonly value: string;
}

/**
 * The start page: log in as citizen or as professional.
 * @param base - the interaction URL
 * @param clientName - the app that asks
 * @param picks - demo users (empty in production)
 * @returns HTML
 */
export function choicePage(base: string, clientName: string, picks: readonly QuickPick[]): string {
  const pickList =
    picks.length === 0
      ? ''
      : `<section class="card" aria-labelledby="demo"><h2 id="demo">Demo-brugere</h2>
<p class="small">Kun i udviklingsmiljøet: log ind med ét klik som en af de faste demo-brugere.</p>
<ul class="picks">${picks
          .map(
            (p) => `<li><form method="post" action="${esc(p.action)}"><input type="hidden" name="${esc(p.field)}" value="${esc(p.value)}"><button type="submit" class="link">${esc(p.label)}</button></form></li>`,
          )
          .join('')}</ul></section>`;
  return layout(
    'Hvordan vil du logge ind?',
    `<p><strong>${esc(clientName)}</strong> vil have adgang til sundhedsdata. Vælg, hvordan du logger ind.</p>
<ul class="picks">
<li><a class="button" href="${esc(base)}/borger">Log ind som borger (MitID)</a></li>
<li><a class="button" href="${esc(base)}/sundhedsperson">Log ind som sundhedsperson (MitID Erhverv)</a></li>
</ul>
${pickList}
<form method="post" action="${esc(base)}/afbryd"><button type="submit" class="secondary">Afbryd og gå tilbage til appen</button></form>`,
  );
}

/**
 * The citizen login form (stand-in for MitID).
 * @param base - the interaction URL
 * @param values - the values entered so far
 * @param error - what was wrong
 * @returns HTML
 */
export function citizenPage(base: string, values: { cpr?: string; name?: string; assurance?: string }, error?: string): string {
  const assurance = values.assurance ?? 'substantial';
  const radio = (value: string, label: string): string =>
    `<div class="choice"><input type="radio" id="niveau-${value}" name="assurance" value="${value}"${assurance === value ? ' checked' : ''}><label for="niveau-${value}">${label}</label></div>`;
  const described = error === undefined ? '' : ' aria-describedby="fejl" aria-invalid="true"';
  return layout(
    'Log ind som borger',
    `${errorBox(error)}
<form method="post" action="${esc(base)}/borger" class="card">
<label for="cpr">CPR-nummer <span class="hint">10 cifre, fx 1403810068 (uden bindestreg)</span></label>
<input type="text" id="cpr" name="cpr" inputmode="numeric" autocomplete="off" required maxlength="11" value="${esc(values.cpr ?? '')}"${described}>
<label for="navn">Navn <span class="hint">Valgfrit. Tomt felt: navnet fra CPR-registret (demo-data) bruges.</span></label>
<input type="text" id="navn" name="name" autocomplete="name" value="${esc(values.name ?? '')}">
<fieldset><legend>Sikringsniveau</legend>
${radio('low', 'Lav')}${radio('substantial', 'Betydelig')}${radio('high', 'Høj')}
</fieldset>
<button type="submit">Log ind</button>
<a class="button secondary" href="${esc(base)}">Tilbage</a>
</form>`,
  );
}

/**
 * Who the citizen wants to see data for.
 * @param base - the interaction URL
 * @param options - self and the persons the citizen may act for
 * @param error - what was wrong
 * @returns HTML
 */
export function actingForPage(base: string, options: readonly { patientId: string; name: string; relation: string }[], error?: string): string {
  const relation = (r: string): string => (r === 'self' ? 'dig selv' : r === 'child' ? 'dit barn (forældremyndighed)' : 'fuldmagt');
  return layout(
    'Hvem vil du se data for?',
    `${errorBox(error)}
<form method="post" action="${esc(base)}/hvem" class="card">
<fieldset><legend>Vælg person</legend>
${options
  .map(
    (o, i) =>
      `<div class="choice"><input type="radio" id="person-${i}" name="patient" value="${esc(o.patientId)}"${i === 0 ? ' checked' : ''}><label for="person-${i}">${esc(o.name)} – ${relation(o.relation)}</label></div>`,
  )
  .join('\n')}
</fieldset>
<button type="submit">Fortsæt</button>
</form>`,
  );
}

/**
 * The professional login form (stand-in for MitID Erhverv).
 * @param base - the interaction URL
 * @param value - the identifier entered so far
 * @param error - what was wrong
 * @returns HTML
 */
export function professionalPage(base: string, value: string | undefined, error?: string): string {
  const described = error === undefined ? '' : ' aria-describedby="fejl" aria-invalid="true"';
  return layout(
    'Log ind som sundhedsperson',
    `${errorBox(error)}
<form method="post" action="${esc(base)}/sundhedsperson" class="card">
<label for="ident">Autorisations-ID <span class="hint">Fra Styrelsen for Patientsikkerhed, fx 5DTXC. Driftspersonale i Digital Sundhed Danmark bruger medarbejdernummeret, fx OPS-0001.</span></label>
<input type="text" id="ident" name="identifier" autocomplete="off" required maxlength="40" value="${esc(value ?? '')}"${described}>
<button type="submit">Log ind</button>
<a class="button secondary" href="${esc(base)}">Tilbage</a>
</form>`,
  );
}

/**
 * The professional's choice of role and SOR unit.
 * @param base - the interaction URL
 * @param name - the professional's name
 * @param roles - the roles to choose from
 * @param error - what was wrong
 * @returns HTML
 */
export function rolePage(base: string, name: string, roles: readonly { roleId: string; roleDisplay: string; organizationName: string }[], error?: string): string {
  return layout(
    'Vælg rolle og arbejdssted',
    `${errorBox(error)}
<p>Du er logget ind som <strong>${esc(name)}</strong>. Vælg den rolle og enhed, du arbejder i nu.</p>
<form method="post" action="${esc(base)}/rolle" class="card">
<fieldset><legend>Rolle og arbejdssted</legend>
${roles
  .map(
    (r, i) =>
      `<div class="choice"><input type="radio" id="rolle-${i}" name="role" value="${esc(r.roleId)}"${i === 0 ? ' checked' : ''}><label for="rolle-${i}">${esc(r.roleDisplay)} – ${esc(r.organizationName)}</label></div>`,
  )
  .join('\n')}
</fieldset>
<button type="submit">Fortsæt</button>
</form>`,
  );
}

/**
 * The consent page for third-party apps.
 * @param base - the interaction URL
 * @param clientName - the app
 * @param who - whose data (for citizens: the chosen person)
 * @param scopes - the scopes in plain Danish
 * @returns HTML
 */
export function consentPage(base: string, clientName: string, who: string, scopes: readonly string[]): string {
  return layout(
    'Giv appen adgang?',
    `<p>Appen <strong>${esc(clientName)}</strong> er ikke lavet af Digital Sundhed Danmark. Den beder om lov til at gøre følgende${who === '' ? '' : ` (data for <strong>${esc(who)}</strong>)`}:</p>
<ul class="scopes">${scopes.map((s) => `<li>${esc(s)}</li>`).join('')}</ul>
<p class="small">Du kan altid trække adgangen tilbage. Appen ser kun det, du har adgang til.</p>
<form method="post" action="${esc(base)}/samtykke">
<button type="submit" name="decision" value="accept">Giv adgang</button>
<button type="submit" name="decision" value="deny" class="secondary">Afvis</button>
</form>`,
  );
}

/**
 * An error page (when the login cannot go on).
 * @param title - what happened
 * @param message - what to do
 * @returns HTML
 */
export function errorPage(title: string, message: string): string {
  return layout(title, `<div class="error" role="alert"><p>${esc(message)}</p></div>`);
}
