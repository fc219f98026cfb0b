/**
 * Danish given names, surnames and street names for the synthetic population and the staff of the
 * reference organisations. Common names (Danmarks Statistik top lists), grouped roughly by the
 * generation that carries them, plus names of the larger immigrant groups.
 */

/** Given names by sex and by birth cohort. */
export const GIVEN_NAMES = {
  male: {
    /** Born before 1960. */
    old: ['Jens', 'Poul', 'Hans', 'Niels', 'Jørgen', 'Erik', 'Ole', 'Bent', 'Knud', 'Svend', 'Leif', 'Arne', 'Kurt', 'Finn', 'Preben', 'Flemming', 'Henning', 'Kaj', 'Børge', 'Aage', 'Verner', 'Egon', 'Frede', 'Carl', 'Vagn'],
    /** Born 1960–1989. */
    mid: ['Lars', 'Peter', 'Michael', 'Henrik', 'Thomas', 'Søren', 'Jan', 'Martin', 'Morten', 'Anders', 'Jesper', 'Brian', 'Rasmus', 'Kim', 'Torben', 'Claus', 'Allan', 'Carsten', 'Steen', 'Per', 'Christian', 'Jacob', 'Kasper', 'Mads', 'Bo', 'Thorbjørn', 'Dennis', 'René'],
    /** Born 1990 or later. */
    young: ['William', 'Noah', 'Oscar', 'Lucas', 'Carl', 'Victor', 'Malthe', 'Emil', 'Alfred', 'Frederik', 'Oliver', 'Magnus', 'Valdemar', 'Elias', 'August', 'Mikkel', 'Mathias', 'Tobias', 'Sebastian', 'Nikolaj', 'Jonas', 'Aksel', 'Anton', 'Villads', 'Johan', 'Storm'],
  },
  female: {
    old: ['Kirsten', 'Hanne', 'Inge', 'Else', 'Grethe', 'Birthe', 'Lis', 'Ruth', 'Karen', 'Bodil', 'Inger', 'Jytte', 'Ellen', 'Gerda', 'Lone', 'Tove', 'Ingrid', 'Edith', 'Ulla', 'Gudrun', 'Astrid', 'Dorthe', 'Bente', 'Aase', 'Yvonne'],
    mid: ['Susanne', 'Anne', 'Mette', 'Lene', 'Pia', 'Louise', 'Charlotte', 'Maria', 'Tina', 'Camilla', 'Helle', 'Marianne', 'Heidi', 'Rikke', 'Anja', 'Trine', 'Christina', 'Line', 'Maja', 'Sanne', 'Gitte', 'Malene', 'Janni', 'Katrine', 'Stine'],
    young: ['Emma', 'Ida', 'Clara', 'Freja', 'Alma', 'Ella', 'Sofia', 'Karla', 'Anna', 'Laura', 'Agnes', 'Josefine', 'Olivia', 'Lærke', 'Mathilde', 'Nora', 'Ellen', 'Esther', 'Asta', 'Liva', 'Signe', 'Cecilie', 'Frida', 'Luna', 'Vigga', 'Sofie'],
  },
} as const;

/** Middle names that are common in Denmark (most are old surnames). */
export const MIDDLE_NAMES: readonly string[] = ['Holm', 'Lund', 'Skov', 'Bach', 'Dahl', 'Krogh', 'Brix', 'Juul', 'Bech', 'Munk', 'Friis', 'Kjær', 'Bang', 'Toft', 'Winther', 'Lykke', 'Mølgaard', 'Højer'];

/** Surnames with rough weights (the -sen names dominate). */
export const SURNAMES: readonly (readonly [string, number])[] = [
  ['Nielsen', 240], ['Jensen', 240], ['Hansen', 200], ['Andersen', 160], ['Pedersen', 160], ['Christensen', 110], ['Larsen', 110], ['Sørensen', 100],
  ['Rasmussen', 85], ['Jørgensen', 80], ['Petersen', 75], ['Madsen', 60], ['Kristensen', 60], ['Olsen', 55], ['Thomsen', 45], ['Christiansen', 43],
  ['Poulsen', 38], ['Johansen', 37], ['Møller', 36], ['Mortensen', 35], ['Knudsen', 28], ['Jakobsen', 28], ['Mikkelsen', 24], ['Olesen', 24],
  ['Frederiksen', 22], ['Laursen', 22], ['Henriksen', 21], ['Lund', 21], ['Schmidt', 18], ['Holm', 17], ['Eriksen', 17], ['Kristiansen', 16],
  ['Nissen', 15], ['Clausen', 15], ['Simonsen', 15], ['Svendsen', 14], ['Andreasen', 13], ['Jeppesen', 12], ['Iversen', 12], ['Østergaard', 12],
  ['Vestergaard', 12], ['Lauridsen', 11], ['Kjær', 11], ['Mogensen', 10], ['Dam', 10], ['Bach', 9], ['Thygesen', 8], ['Hedegaard', 8],
  ['Bruun', 8], ['Nørgaard', 8], ['Dahl', 8], ['Friis', 7], ['Skov', 7], ['Søndergaard', 7], ['Kjeldsen', 6], ['Krogh', 6],
  // larger immigrant groups
  ['Yilmaz', 4], ['Ali', 4], ['Hussein', 4], ['Nguyen', 3], ['Mohammad', 3], ['Kowalski', 2], ['Nowak', 2], ['Ahmed', 3], ['Demir', 2], ['Hassan', 3],
];

/** Given names that go with the immigrant surnames above (so names stay plausible). */
export const IMMIGRANT_GIVEN_NAMES: Readonly<Record<string, { readonly male: readonly string[]; readonly female: readonly string[] }>> = {
  Yilmaz: { male: ['Mehmet', 'Emre', 'Ali', 'Murat'], female: ['Ayşe', 'Elif', 'Zeynep', 'Fatma'] },
  Demir: { male: ['Hasan', 'Mustafa', 'Can', 'Yusuf'], female: ['Emine', 'Meryem', 'Selin', 'Hatice'] },
  Ali: { male: ['Omar', 'Ahmad', 'Bilal', 'Yusuf'], female: ['Fatima', 'Aisha', 'Sara', 'Amina'] },
  Hussein: { male: ['Ibrahim', 'Mahmoud', 'Karim', 'Adam'], female: ['Zainab', 'Maryam', 'Noor', 'Huda'] },
  Mohammad: { male: ['Ahmad', 'Hamza', 'Zakaria', 'Ismail'], female: ['Layla', 'Hiba', 'Rania', 'Yasmin'] },
  Ahmed: { male: ['Abdi', 'Hassan', 'Mahad', 'Omar'], female: ['Hodan', 'Sahra', 'Ifrah', 'Asha'] },
  Hassan: { male: ['Ali', 'Mustafa', 'Said', 'Rami'], female: ['Dalia', 'Lina', 'Maya', 'Nadia'] },
  Nguyen: { male: ['Minh', 'Duc', 'Tuan', 'Long'], female: ['Linh', 'Mai', 'Lan', 'Thu'] },
  Kowalski: { male: ['Piotr', 'Tomasz', 'Krzysztof', 'Marek'], female: ['Anna', 'Katarzyna', 'Agnieszka', 'Magdalena'] },
  Nowak: { male: ['Jakub', 'Paweł', 'Michał', 'Adam'], female: ['Zofia', 'Joanna', 'Ewa', 'Natalia'] },
};

/** Street names found in most Danish towns. */
export const STREETS: readonly string[] = [
  'Vestergade', 'Østergade', 'Nørregade', 'Søndergade', 'Algade', 'Skolevej', 'Kirkevej', 'Møllevej', 'Birkevej', 'Egevej', 'Bøgevej',
  'Ahornvej', 'Lindevej', 'Stationsvej', 'Havnegade', 'Strandvejen', 'Engvej', 'Parkvej', 'Rosenvænget', 'Kongevejen', 'Bakkevej',
  'Grønnegade', 'Toftevej', 'Skovvej', 'Solvej', 'Fasanvej', 'Hybenvej', 'Syrenvej', 'Kastanievej', 'Violvej', 'Mejsevej',
  'Lærkevej', 'Granvej', 'Bygaden', 'Industrivej', 'Jernbanegade', 'Torvet', 'Åboulevarden', 'Fjordvej', 'Banegårdsgade',
  'Tværgade', 'Krogen', 'Agerhønevej', 'Hasselvej', 'Elmevej', 'Rønnebærvej', 'Præstevej', 'Gl. Kongevej', 'Ved Søen', 'Bellisvej',
];
