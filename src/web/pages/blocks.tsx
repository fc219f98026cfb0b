import { useState } from 'preact/hooks';
import type { Consent, Organization, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import { personName } from '../api.ts';
import { Async, Empty, PageTitle, useLoad } from '../components.tsx';
import { formatDate } from '../format.ts';
import { loadRecord, useApp } from '../session.tsx';
import { t } from '../i18n.ts';

/** Min Spærring: the citizen blocks a professional, a unit or a period from health professionals, and removes blocks. */

export const SPAERRING_SYSTEM = 'https://dsd.dk/fhir/CodeSystem/spaerring';

type Kind = 'person' | 'unit-and-subunits' | 'period';

function kindOf(c: Consent): string {
  return c.category?.flatMap((x) => x.coding ?? []).find((x) => x.system === SPAERRING_SYSTEM)?.code ?? '';
}

function newBlock(patientId: string, kind: Kind, target: string, period: { start: string; end: string }): Consent {
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [
      { coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] },
      { coding: [{ system: SPAERRING_SYSTEM, code: kind }] },
    ],
    patient: { reference: `Patient/${patientId}` },
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTOUT' }] },
    dateTime: new Date().toISOString(),
    provision: {
      type: 'deny',
      ...(kind === 'period'
        ? { dataPeriod: period }
        : { actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP' }] }, reference: { reference: target } }] }),
    },
  };
}

/**
 * The Min Spærring page.
 * @param props - whose blocks
 * @param props.patientId - the patient
 * @returns the page
 */
export function BlocksPage(props: { patientId: string }): preact.JSX.Element {
  const { client, session } = useApp();
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();
  const [busy, setBusy] = useState(false);
  const [kind, setKind] = useState<Kind>('person');
  const [target, setTarget] = useState('');
  const [start, setStart] = useState('');
  const [end, setEnd] = useState('');
  const [loaded, reload] = useLoad(async () => {
    const [blocks, record] = await Promise.all([client.search<Consent>('Consent', { patient: `Patient/${props.patientId}`, status: 'active', _count: '100' }), loadRecord(client, session.accessToken, props.patientId)]);
    const dir = record.dir;
    const people = dir.all<Practitioner>('Practitioner').map((p) => {
      const role = dir.all<PractitionerRole>('PractitionerRole').find((r) => r.practitioner?.reference === `Practitioner/${p.id ?? ''}`);
      const org = dir.get<Organization>(role?.organization?.reference);
      return { ref: `Practitioner/${p.id ?? ''}`, label: `${personName(p) ?? t('Ukendt', 'Unknown')}${org?.name === undefined ? '' : ` (${org.name})`}` };
    });
    const units = dir.all<Organization>('Organization').map((o) => ({ ref: `Organization/${o.id ?? ''}`, label: o.name ?? t('Ukendt enhed', 'Unknown unit') }));
    const targets = await client.directory(blocks.flatMap((b) => (b.provision?.actor ?? []).map((a) => a.reference)));
    return {
      blocks: blocks.sort((a, b) => (b.dateTime ?? '').localeCompare(a.dateTime ?? '')),
      people: people.sort((a, b) => a.label.localeCompare(b.label, 'da')),
      units: units.sort((a, b) => a.label.localeCompare(b.label, 'da')),
      targets,
    };
  }, [props.patientId]);

  const create = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (kind !== 'period' && target === '') {
      setMessage({ ok: false, text: kind === 'person' ? t('Vælg den sundhedsperson, du vil spærre for.', 'Choose the health professional you want to block.') : t('Vælg det sted, du vil spærre for.', 'Choose the place you want to block.') });
      return;
    }
    if (kind === 'period' && (start === '' || end === '' || end < start)) {
      setMessage({ ok: false, text: t('Vælg en startdato og en slutdato. Slutdatoen skal være samme dag som eller efter startdatoen.', 'Choose a start date and an end date. The end date must be on or after the start date.') });
      return;
    }
    setBusy(true);
    try {
      await client.create(newBlock(props.patientId, kind, target, { start, end }));
      setMessage({ ok: true, text: t('Spærringen er oprettet. Den gælder fra nu.', 'The block is created. It applies from now.') });
      setTarget('');
      reload();
    } catch (err) {
      setMessage({ ok: false, text: err instanceof Error ? err.message : String(err) });
    } finally {
      setBusy(false);
    }
  };

  const remove = async (c: Consent): Promise<void> => {
    setBusy(true);
    try {
      await client.remove('Consent', c.id ?? '');
      setMessage({ ok: true, text: t('Spærringen er fjernet.', 'The block is removed.') });
      reload();
    } catch (err) {
      setMessage({ ok: false, text: err instanceof Error ? err.message : String(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageTitle title={t('Min Spærring', 'My Blocks')}>
        {t(
          'Du kan spærre for, at en bestemt sundhedsperson eller et bestemt sted kan se dine data, eller for data fra en periode. I en akut situation kan en læge bruge værdispring og se data alligevel – det vises altid i Min Log.',
          'You can block a particular health professional or place from seeing your data, or block data from a period. In an emergency a doctor can use værdispring (break-the-glass) and see the data anyway – this is always shown in My Log.',
        )}
      </PageTitle>
      {message === undefined ? null : (
        <div class={message.ok ? 'notice ok' : 'notice error'} role={message.ok ? 'status' : 'alert'}>
          <p>{message.text}</p>
        </div>
      )}
      <Async loaded={loaded} what={t('dine spærringer', 'your blocks')} retry={reload}>
        {(d) => (
          <>
            <h2>{t('Dine spærringer', 'Your blocks')}</h2>
            {d.blocks.length === 0 ? (
              <Empty>{t('Du har ingen spærringer. Alle sundhedspersoner, der behandler dig, kan se dine data.', 'You have no blocks. Every health professional treating you can see your data.')}</Empty>
            ) : (
              <ul class="list">
                {d.blocks.map((c) => {
                  const k = kindOf(c);
                  const who = d.targets.name(c.provision?.actor?.[0]?.reference) ?? c.provision?.actor?.[0]?.reference?.reference ?? '';
                  const text =
                    k === 'period'
                      ? `${t('Data fra', 'Data from')} ${formatDate(c.provision?.dataPeriod?.start)} ${t('til', 'to')} ${formatDate(c.provision?.dataPeriod?.end)}`
                      : k === 'person'
                        ? `${t('Sundhedsperson', 'Health professional')}: ${who}`
                        : `${k === 'unit' ? t('Enhed', 'Unit') : t('Enhed med underafdelinger', 'Unit with sub-units')}: ${who}`;
                  return (
                    <li class="item" key={c.id}>
                      <strong>{text}</strong>
                      <p class="meta">
                        {t('Oprettet', 'Created')} {formatDate(c.dateTime)}
                      </p>
                      <button type="button" class="secondary" disabled={busy} onClick={() => void remove(c)}>
                        {t('Fjern spærring', 'Remove block')}
                        <span class="sr-only">: {text}</span>
                      </button>
                    </li>
                  );
                })}
              </ul>
            )}
            <h2>{t('Opret en spærring', 'Create a block')}</h2>
            <form class="card form" onSubmit={(e) => void create(e)}>
              <fieldset>
                <legend>{t('Hvad vil du spærre for?', 'What do you want to block?')}</legend>
                <label class="choice">
                  <input type="radio" name="kind" value="person" checked={kind === 'person'} onChange={() => setKind('person')} /> {t('En bestemt sundhedsperson', 'A particular health professional')}
                </label>
                <label class="choice">
                  <input type="radio" name="kind" value="unit-and-subunits" checked={kind === 'unit-and-subunits'} onChange={() => setKind('unit-and-subunits')} />{' '}
                  {t('Et sygehus, en afdeling eller en klinik', 'A hospital, a department or a clinic')}
                </label>
                <label class="choice">
                  <input type="radio" name="kind" value="period" checked={kind === 'period'} onChange={() => setKind('period')} /> {t('Data fra en bestemt periode', 'Data from a particular period')}
                </label>
              </fieldset>
              {kind === 'period' ? (
                <div class="row">
                  <div>
                    <label for="fra">{t('Fra dato', 'From date')}</label>
                    <input id="fra" type="date" value={start} onInput={(e) => setStart((e.currentTarget).value)} />
                  </div>
                  <div>
                    <label for="til">{t('Til dato', 'To date')}</label>
                    <input id="til" type="date" value={end} onInput={(e) => setEnd((e.currentTarget).value)} />
                  </div>
                </div>
              ) : (
                <div>
                  <label for="target">{kind === 'person' ? t('Sundhedsperson', 'Health professional') : t('Sted', 'Place')}</label>
                  <span class="hint" id="target-hint">
                    {t('Listen viser dem, der findes i dine data.', 'The list shows those found in your data.')}
                  </span>
                  <select id="target" aria-describedby="target-hint" value={target} onChange={(e) => setTarget((e.currentTarget).value)}>
                    <option value="">{t('Vælg …', 'Choose …')}</option>
                    {(kind === 'person' ? d.people : d.units).map((o) => (
                      <option key={o.ref} value={o.ref}>
                        {o.label}
                      </option>
                    ))}
                  </select>
                </div>
              )}
              <button type="submit" class="primary" disabled={busy}>
                {t('Opret spærring', 'Create block')}
              </button>
            </form>
          </>
        )}
      </Async>
    </>
  );
}
