/**
 * Danish regions and municipalities. Codes and names follow DK-core's
 * `http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes` (a test checks every code and
 * name against the package) and ISO 3166-2:DK for the regions. Postal codes are real ones in each
 * municipality; populations are rounded (thousands, 2024) and only weight where citizens live.
 */

/** ISO 3166-2 region code. */
export type RegionIso = 'DK-81' | 'DK-82' | 'DK-83' | 'DK-84' | 'DK-85';

export interface Region {
  /** ISO 3166-2 code (DK-core `Regionskode` slice). */
  readonly iso: RegionIso;
  /** The 4-digit region code used in CPR and LPR (1081–1085). */
  readonly code: string;
  readonly name: string;
  /** Short key used in resource ids. */
  readonly key: string;
  /** Seat of the regional council. */
  readonly seat: { readonly line: string; readonly postalCode: string; readonly city: string; readonly municipality: string };
}

export interface PostalArea {
  readonly postalCode: string;
  readonly city: string;
}

export interface Municipality {
  /** 4-digit municipality code (`0101` København). */
  readonly code: string;
  /** Name as in the DK-core code system (without "Kommune"). */
  readonly name: string;
  readonly region: RegionIso;
  /** Inhabitants, thousands (rounded). */
  readonly population: number;
  /** Postal areas in the municipality; the first is the main town. */
  readonly postal: readonly PostalArea[];
}

export const REGIONS: readonly Region[] = [
  { iso: 'DK-84', code: '1084', name: 'Region Hovedstaden', key: 'h', seat: { line: 'Kongens Vænge 2', postalCode: '3400', city: 'Hillerød', municipality: '0219' } },
  { iso: 'DK-85', code: '1085', name: 'Region Sjælland', key: 's', seat: { line: 'Alleen 15', postalCode: '4180', city: 'Sorø', municipality: '0340' } },
  { iso: 'DK-83', code: '1083', name: 'Region Syddanmark', key: 'sd', seat: { line: 'Damhaven 12', postalCode: '7100', city: 'Vejle', municipality: '0630' } },
  { iso: 'DK-82', code: '1082', name: 'Region Midtjylland', key: 'm', seat: { line: 'Skottenborg 26', postalCode: '8800', city: 'Viborg', municipality: '0791' } },
  { iso: 'DK-81', code: '1081', name: 'Region Nordjylland', key: 'n', seat: { line: 'Niels Bohrs Vej 30', postalCode: '9220', city: 'Aalborg Øst', municipality: '0851' } },
];

const m = (code: string, name: string, region: RegionIso, population: number, ...postal: readonly [string, string][]): Municipality => ({
  code,
  name,
  region,
  population,
  postal: postal.map(([postalCode, city]) => ({ postalCode, city })),
});

export const MUNICIPALITIES: readonly Municipality[] = [
  // Region Hovedstaden (29)
  m('0101', 'København', 'DK-84', 660, ['2100', 'København Ø'], ['2200', 'København N'], ['2300', 'København S'], ['2400', 'København NV'], ['2450', 'København SV'], ['2500', 'Valby'], ['2700', 'Brønshøj'], ['2720', 'Vanløse'], ['1620', 'København V']),
  m('0147', 'Frederiksberg', 'DK-84', 104, ['2000', 'Frederiksberg']),
  m('0151', 'Ballerup', 'DK-84', 52, ['2750', 'Ballerup'], ['2740', 'Skovlunde']),
  m('0153', 'Brøndby', 'DK-84', 35, ['2605', 'Brøndby'], ['2660', 'Brøndby Strand']),
  m('0155', 'Dragør', 'DK-84', 14, ['2791', 'Dragør']),
  m('0157', 'Gentofte', 'DK-84', 75, ['2820', 'Gentofte'], ['2900', 'Hellerup'], ['2920', 'Charlottenlund']),
  m('0159', 'Gladsaxe', 'DK-84', 70, ['2860', 'Søborg'], ['2880', 'Bagsværd']),
  m('0161', 'Glostrup', 'DK-84', 24, ['2600', 'Glostrup']),
  m('0163', 'Herlev', 'DK-84', 30, ['2730', 'Herlev']),
  m('0165', 'Albertslund', 'DK-84', 28, ['2620', 'Albertslund']),
  m('0167', 'Hvidovre', 'DK-84', 54, ['2650', 'Hvidovre']),
  m('0169', 'Høje-Taastrup', 'DK-84', 52, ['2630', 'Taastrup']),
  m('0173', 'Lyngby-Taarbæk', 'DK-84', 56, ['2800', 'Kongens Lyngby']),
  m('0175', 'Rødovre', 'DK-84', 41, ['2610', 'Rødovre']),
  m('0183', 'Ishøj', 'DK-84', 23, ['2635', 'Ishøj']),
  m('0185', 'Tårnby', 'DK-84', 43, ['2770', 'Kastrup']),
  m('0187', 'Vallensbæk', 'DK-84', 17, ['2625', 'Vallensbæk']),
  m('0190', 'Furesø', 'DK-84', 41, ['3520', 'Farum'], ['3500', 'Værløse']),
  m('0201', 'Allerød', 'DK-84', 26, ['3450', 'Allerød']),
  m('0210', 'Fredensborg', 'DK-84', 41, ['3480', 'Fredensborg'], ['2990', 'Nivå']),
  m('0217', 'Helsingør', 'DK-84', 63, ['3000', 'Helsingør']),
  m('0219', 'Hillerød', 'DK-84', 52, ['3400', 'Hillerød']),
  m('0223', 'Hørsholm', 'DK-84', 25, ['2970', 'Hørsholm']),
  m('0230', 'Rudersdal', 'DK-84', 57, ['2840', 'Holte'], ['3460', 'Birkerød']),
  m('0240', 'Egedal', 'DK-84', 44, ['3660', 'Stenløse'], ['2765', 'Smørum']),
  m('0250', 'Frederikssund', 'DK-84', 45, ['3600', 'Frederikssund']),
  m('0260', 'Halsnæs', 'DK-84', 31, ['3300', 'Frederiksværk']),
  m('0270', 'Gribskov', 'DK-84', 41, ['3200', 'Helsinge']),
  m('0400', 'Bornholm', 'DK-84', 39, ['3700', 'Rønne'], ['3730', 'Nexø']),
  // Region Sjælland (17)
  m('0253', 'Greve', 'DK-85', 50, ['2670', 'Greve']),
  m('0259', 'Køge', 'DK-85', 62, ['4600', 'Køge']),
  m('0265', 'Roskilde', 'DK-85', 90, ['4000', 'Roskilde']),
  m('0269', 'Solrød', 'DK-85', 24, ['2680', 'Solrød Strand']),
  m('0306', 'Odsherred', 'DK-85', 33, ['4500', 'Nykøbing Sj']),
  m('0316', 'Holbæk', 'DK-85', 73, ['4300', 'Holbæk']),
  m('0320', 'Faxe', 'DK-85', 37, ['4640', 'Faxe'], ['4690', 'Haslev']),
  m('0326', 'Kalundborg', 'DK-85', 48, ['4400', 'Kalundborg']),
  m('0329', 'Ringsted', 'DK-85', 36, ['4100', 'Ringsted']),
  m('0330', 'Slagelse', 'DK-85', 80, ['4200', 'Slagelse'], ['4220', 'Korsør']),
  m('0336', 'Stevns', 'DK-85', 23, ['4660', 'Store Heddinge']),
  m('0340', 'Sorø', 'DK-85', 30, ['4180', 'Sorø']),
  m('0350', 'Lejre', 'DK-85', 28, ['4320', 'Lejre']),
  m('0360', 'Lolland', 'DK-85', 40, ['4900', 'Nakskov'], ['4930', 'Maribo']),
  m('0370', 'Næstved', 'DK-85', 84, ['4700', 'Næstved']),
  m('0376', 'Guldborgsund', 'DK-85', 60, ['4800', 'Nykøbing F']),
  m('0390', 'Vordingborg', 'DK-85', 45, ['4760', 'Vordingborg']),
  // Region Syddanmark (22)
  m('0410', 'Middelfart', 'DK-83', 39, ['5500', 'Middelfart']),
  m('0420', 'Assens', 'DK-83', 41, ['5610', 'Assens']),
  m('0430', 'Faaborg-Midtfyn', 'DK-83', 51, ['5600', 'Faaborg'], ['5750', 'Ringe']),
  m('0440', 'Kerteminde', 'DK-83', 24, ['5300', 'Kerteminde']),
  m('0450', 'Nyborg', 'DK-83', 32, ['5800', 'Nyborg']),
  m('0461', 'Odense', 'DK-83', 207, ['5000', 'Odense C'], ['5200', 'Odense V'], ['5230', 'Odense M'], ['5210', 'Odense NV']),
  m('0479', 'Svendborg', 'DK-83', 59, ['5700', 'Svendborg']),
  m('0480', 'Nordfyns', 'DK-83', 29, ['5400', 'Bogense']),
  m('0482', 'Langeland', 'DK-83', 12, ['5900', 'Rudkøbing']),
  m('0492', 'Ærø', 'DK-83', 6, ['5970', 'Ærøskøbing']),
  m('0510', 'Haderslev', 'DK-83', 56, ['6100', 'Haderslev']),
  m('0530', 'Billund', 'DK-83', 27, ['7190', 'Billund'], ['7200', 'Grindsted']),
  m('0540', 'Sønderborg', 'DK-83', 73, ['6400', 'Sønderborg']),
  m('0550', 'Tønder', 'DK-83', 37, ['6270', 'Tønder']),
  m('0561', 'Esbjerg', 'DK-83', 115, ['6700', 'Esbjerg'], ['6705', 'Esbjerg Ø']),
  m('0563', 'Fanø', 'DK-83', 3.5, ['6720', 'Fanø']),
  m('0573', 'Varde', 'DK-83', 50, ['6800', 'Varde']),
  m('0575', 'Vejen', 'DK-83', 43, ['6600', 'Vejen']),
  m('0580', 'Aabenraa', 'DK-83', 58, ['6200', 'Aabenraa']),
  m('0607', 'Fredericia', 'DK-83', 52, ['7000', 'Fredericia']),
  m('0621', 'Kolding', 'DK-83', 95, ['6000', 'Kolding']),
  m('0630', 'Vejle', 'DK-83', 121, ['7100', 'Vejle']),
  // Region Midtjylland (19)
  m('0615', 'Horsens', 'DK-82', 96, ['8700', 'Horsens']),
  m('0657', 'Herning', 'DK-82', 90, ['7400', 'Herning']),
  m('0661', 'Holstebro', 'DK-82', 59, ['7500', 'Holstebro']),
  m('0665', 'Lemvig', 'DK-82', 19, ['7620', 'Lemvig']),
  m('0671', 'Struer', 'DK-82', 21, ['7600', 'Struer']),
  m('0706', 'Syddjurs', 'DK-82', 43, ['8400', 'Ebeltoft'], ['8410', 'Rønde']),
  m('0707', 'Norddjurs', 'DK-82', 37, ['8500', 'Grenaa']),
  m('0710', 'Favrskov', 'DK-82', 49, ['8450', 'Hammel'], ['8382', 'Hinnerup']),
  m('0727', 'Odder', 'DK-82', 23, ['8300', 'Odder']),
  m('0730', 'Randers', 'DK-82', 99, ['8900', 'Randers C']),
  m('0740', 'Silkeborg', 'DK-82', 99, ['8600', 'Silkeborg']),
  m('0741', 'Samsø', 'DK-82', 3.7, ['8305', 'Samsø']),
  m('0746', 'Skanderborg', 'DK-82', 64, ['8660', 'Skanderborg']),
  m('0751', 'Aarhus', 'DK-82', 367, ['8000', 'Aarhus C'], ['8200', 'Aarhus N'], ['8210', 'Aarhus V'], ['8260', 'Viby J'], ['8270', 'Højbjerg']),
  m('0756', 'Ikast-Brande', 'DK-82', 41, ['7430', 'Ikast'], ['7330', 'Brande']),
  m('0760', 'Ringkøbing-Skjern', 'DK-82', 56, ['6950', 'Ringkøbing'], ['6900', 'Skjern']),
  m('0766', 'Hedensted', 'DK-82', 47, ['8722', 'Hedensted']),
  m('0779', 'Skive', 'DK-82', 46, ['7800', 'Skive']),
  m('0791', 'Viborg', 'DK-82', 98, ['8800', 'Viborg']),
  // Region Nordjylland (11)
  m('0773', 'Morsø', 'DK-81', 20, ['7900', 'Nykøbing M']),
  m('0787', 'Thisted', 'DK-81', 43, ['7700', 'Thisted']),
  m('0810', 'Brønderslev', 'DK-81', 36, ['9700', 'Brønderslev']),
  m('0813', 'Frederikshavn', 'DK-81', 59, ['9900', 'Frederikshavn'], ['9990', 'Skagen']),
  m('0820', 'Vesthimmerland', 'DK-81', 36, ['9600', 'Aars']),
  m('0825', 'Læsø', 'DK-81', 1.8, ['9940', 'Læsø']),
  m('0840', 'Rebild', 'DK-81', 30, ['9530', 'Støvring']),
  m('0846', 'Mariagerfjord', 'DK-81', 42, ['9500', 'Hobro']),
  m('0849', 'Jammerbugt', 'DK-81', 38, ['9440', 'Aabybro']),
  m('0851', 'Aalborg', 'DK-81', 222, ['9000', 'Aalborg'], ['9200', 'Aalborg SV'], ['9210', 'Aalborg SØ'], ['9220', 'Aalborg Øst']),
  m('0860', 'Hjørring', 'DK-81', 64, ['9800', 'Hjørring']),
];

const byCode = new Map(MUNICIPALITIES.map((x) => [x.code, x]));
const regionByIso = new Map(REGIONS.map((r) => [r.iso, r]));

/**
 * Looks up a municipality by its 4-digit code.
 * @param code - e.g. `0751`
 * @returns the municipality
 */
export function municipality(code: string): Municipality {
  const x = byCode.get(code);
  if (x === undefined) {
    throw new Error(`Unknown municipality code ${code}`);
  }
  return x;
}

/**
 * Looks up a region by its ISO 3166-2 code.
 * @param iso - e.g. `DK-82`
 * @returns the region
 */
export function region(iso: RegionIso): Region {
  return regionByIso.get(iso)!;
}
