/**
 * The Danish childhood vaccination programme (Børnevaccinationsprogrammet, Sundhedsstyrelsen), used
 * to show which recommended doses a child has had. It is the public schedule, not patient data.
 */
export interface ProgrammeDose {
  readonly name: string;
  /** ATC code prefixes that count as this vaccine. */
  readonly atc: readonly string[];
  readonly dose: number;
  /** Recommended age in months. */
  readonly months: number;
  readonly ageText: string;
  readonly ageTextEn: string;
  /** Only for this sex (FHIR gender), when set. */
  readonly sex?: string;
}

export const CHILDHOOD_PROGRAMME: readonly ProgrammeDose[] = [
  { name: 'DiTeKiPol/Hib', atc: ['J07CA09'], dose: 1, months: 3, ageText: '3 måneder', ageTextEn: '3 months' },
  { name: 'Pneumokok (PCV)', atc: ['J07AL'], dose: 1, months: 3, ageText: '3 måneder', ageTextEn: '3 months' },
  { name: 'DiTeKiPol/Hib', atc: ['J07CA09'], dose: 2, months: 5, ageText: '5 måneder', ageTextEn: '5 months' },
  { name: 'Pneumokok (PCV)', atc: ['J07AL'], dose: 2, months: 5, ageText: '5 måneder', ageTextEn: '5 months' },
  { name: 'DiTeKiPol/Hib', atc: ['J07CA09'], dose: 3, months: 12, ageText: '12 måneder', ageTextEn: '12 months' },
  { name: 'Pneumokok (PCV)', atc: ['J07AL'], dose: 3, months: 12, ageText: '12 måneder', ageTextEn: '12 months' },
  { name: 'MFR', atc: ['J07BD'], dose: 1, months: 15, ageText: '15 måneder', ageTextEn: '15 months' },
  { name: 'MFR', atc: ['J07BD'], dose: 2, months: 48, ageText: '4 år', ageTextEn: '4 years' },
  { name: 'DiTeKiPol (revaccination)', atc: ['J07CA02'], dose: 1, months: 60, ageText: '5 år', ageTextEn: '5 years' },
  { name: 'HPV', atc: ['J07BM'], dose: 1, months: 144, ageText: '12 år', ageTextEn: '12 years' },
];
