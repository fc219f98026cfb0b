/**
 * Danish municipality codes (kommunekoder) and region codes (regionskoder), as used by DK-core 3.8.0.
 *
 * - Municipalities: `CodeSystem-dk-core-municipality-codes.json` (99 codes: the 98 municipalities and Christiansø 0411)
 *   and `CodeSystem-dk-core-municipality-codes-greenland.json` (5 codes). The Organization slice `Kommunekode` fixes
 *   the system to the Danish code system and binds the value (required) to `dk-core-MunicipalityCodes`, which includes
 *   both code systems; so a Greenland code is accepted under the Danish system too.
 * - Regions: ISO 3166-2 codes, system `urn:iso:std:iso:3166:-2`; `ValueSet-dk-core-RegionalSubDivisionCodes.json`
 *   lists DK-81 to DK-85. The Organization slice `Regionskode` does not bind the value, so other well-formed ISO
 *   3166-2 codes are accepted with a warning.
 */
import type { Checked } from './checked.ts';
import { failed, passed, show } from './checked.ts';
import { IdentifierSystem } from './systems.ts';

/** Danish municipality code → name, from DK-core's municipality CodeSystem. */
export const DANISH_MUNICIPALITIES: ReadonlyMap<string, string> = new Map([
  ['0101', 'København'], ['0147', 'Frederiksberg'], ['0151', 'Ballerup'], ['0153', 'Brøndby'], ['0155', 'Dragør'],
  ['0157', 'Gentofte'], ['0159', 'Gladsaxe'], ['0161', 'Glostrup'], ['0163', 'Herlev'], ['0165', 'Albertslund'],
  ['0167', 'Hvidovre'], ['0169', 'Høje-Taastrup'], ['0173', 'Lyngby-Taarbæk'], ['0175', 'Rødovre'],
  ['0183', 'Ishøj'], ['0185', 'Tårnby'], ['0187', 'Vallensbæk'], ['0190', 'Furesø'], ['0201', 'Allerød'],
  ['0210', 'Fredensborg'], ['0217', 'Helsingør'], ['0219', 'Hillerød'], ['0223', 'Hørsholm'], ['0230', 'Rudersdal'],
  ['0240', 'Egedal'], ['0250', 'Frederikssund'], ['0253', 'Greve'], ['0259', 'Køge'], ['0260', 'Halsnæs'],
  ['0265', 'Roskilde'], ['0269', 'Solrød'], ['0270', 'Gribskov'], ['0306', 'Odsherred'], ['0316', 'Holbæk'],
  ['0320', 'Faxe'], ['0326', 'Kalundborg'], ['0329', 'Ringsted'], ['0330', 'Slagelse'], ['0336', 'Stevns'],
  ['0340', 'Sorø'], ['0350', 'Lejre'], ['0360', 'Lolland'], ['0370', 'Næstved'], ['0376', 'Guldborgsund'],
  ['0390', 'Vordingborg'], ['0400', 'Bornholm'], ['0410', 'Middelfart'], ['0411', 'Christiansø'], ['0420', 'Assens'],
  ['0430', 'Faaborg-Midtfyn'], ['0440', 'Kerteminde'], ['0450', 'Nyborg'], ['0461', 'Odense'], ['0479', 'Svendborg'],
  ['0480', 'Nordfyns'], ['0482', 'Langeland'], ['0492', 'Ærø'], ['0510', 'Haderslev'], ['0530', 'Billund'],
  ['0540', 'Sønderborg'], ['0550', 'Tønder'], ['0561', 'Esbjerg'], ['0563', 'Fanø'], ['0573', 'Varde'],
  ['0575', 'Vejen'], ['0580', 'Aabenraa'], ['0607', 'Fredericia'], ['0615', 'Horsens'], ['0621', 'Kolding'],
  ['0630', 'Vejle'], ['0657', 'Herning'], ['0661', 'Holstebro'], ['0665', 'Lemvig'], ['0671', 'Struer'],
  ['0706', 'Syddjurs'], ['0707', 'Norddjurs'], ['0710', 'Favrskov'], ['0727', 'Odder'], ['0730', 'Randers'],
  ['0740', 'Silkeborg'], ['0741', 'Samsø'], ['0746', 'Skanderborg'], ['0751', 'Aarhus'], ['0756', 'Ikast-Brande'],
  ['0760', 'Ringkøbing-Skjern'], ['0766', 'Hedensted'], ['0773', 'Morsø'], ['0779', 'Skive'], ['0787', 'Thisted'],
  ['0791', 'Viborg'], ['0810', 'Brønderslev'], ['0813', 'Frederikshavn'], ['0820', 'Vesthimmerland'],
  ['0825', 'Læsø'], ['0840', 'Rebild'], ['0846', 'Mariagerfjord'], ['0849', 'Jammerbugt'], ['0851', 'Aalborg'],
  ['0860', 'Hjørring'],
]);

/** Greenland municipality code → name, from DK-core's Greenland municipality CodeSystem. */
export const GREENLAND_MUNICIPALITIES: ReadonlyMap<string, string> = new Map([
  ['0955', 'Kujalleq'], ['0956', 'Sermersooq'], ['0957', 'Qeqqata'], ['0959', 'Qeqertalik'], ['0960', 'Avannaata'],
]);

/** Danish region code (ISO 3166-2) → name. */
export const DANISH_REGIONS: ReadonlyMap<string, string> = new Map([
  ['DK-81', 'Region Nordjylland'],
  ['DK-82', 'Region Midtjylland'],
  ['DK-83', 'Region Syddanmark'],
  ['DK-84', 'Region Hovedstaden'],
  ['DK-85', 'Region Sjælland'],
]);

/** A code found in one of the code systems above. */
export interface CodeInfo {
  readonly code: string;
  readonly name: string;
  /** The code system the code is defined in. */
  readonly system: string;
}

/**
 * Checks a municipality code against DK-core's `dk-core-MunicipalityCodes` value set (Danish and Greenland codes).
 *
 * @param value - four digits, e.g. `0101`
 * @param greenlandOnly - true to accept only the Greenland code system's codes (when the identifier's system is it)
 * @returns the code, its name and defining code system, or an error saying what is wrong
 */
export function checkMunicipalityCode(value: string, greenlandOnly = false): Checked<CodeInfo> {
  if (typeof value !== 'string') {
    return failed(`A municipality code must be a string of 4 digits, e.g. 0101 (København); got ${show(value)}.`);
  }
  const gl = GREENLAND_MUNICIPALITIES.get(value);
  if (gl !== undefined) {
    return passed({ code: value, name: gl, system: IdentifierSystem.municipalityCodeGreenland });
  }
  const dk = DANISH_MUNICIPALITIES.get(value);
  if (dk !== undefined && !greenlandOnly) {
    return passed({ code: value, name: dk, system: IdentifierSystem.municipalityCode });
  }
  if (dk !== undefined) {
    return failed(`${show(value)} (${dk}) is a Danish municipality code, not a Greenland one; use system ${IdentifierSystem.municipalityCode}. Greenland codes are 0955–0960.`);
  }
  const hint = /^[0-9]{3}$/.test(value) && DANISH_MUNICIPALITIES.has(`0${value}`) ? ` Did you mean 0${value} (the leading zero is part of the code)?` : '';
  return failed(`${show(value)} is not a municipality code in DK-core's value set: codes are 4 digits, e.g. 0101 (København), 0751 (Aarhus) or 0956 (Sermersooq).${hint}`);
}

/**
 * Checks a region code. DK-81 to DK-85 are ok; another well-formed ISO 3166-2 subdivision code is ok with a warning.
 *
 * @param value - e.g. `DK-84`
 * @returns the code and its name (empty for non-Danish codes), or an error saying what is wrong
 */
export function checkRegionCode(value: string): Checked<CodeInfo> {
  if (typeof value !== 'string') {
    return failed(`A region code must be a string such as DK-84 (Region Hovedstaden); got ${show(value)}.`);
  }
  const name = DANISH_REGIONS.get(value);
  if (name !== undefined) {
    return passed({ code: value, name, system: IdentifierSystem.regionCode });
  }
  if (/^[A-Z]{2}-[A-Z0-9]{1,3}$/.test(value)) {
    return passed({ code: value, name: '', system: IdentifierSystem.regionCode }, [
      `${show(value)} is an ISO 3166-2 code but not a Danish region; DK-core's region value set has DK-81 to DK-85.`,
    ]);
  }
  const hint = /^8[1-5]$/.test(value) ? ` Did you mean DK-${value}?` : '';
  return failed(`${show(value)} is not a region code: Danish regions are DK-81 (Nordjylland), DK-82 (Midtjylland), DK-83 (Syddanmark), DK-84 (Hovedstaden) and DK-85 (Sjælland).${hint}`);
}
