/**
 * Local terminology: value-set expansion from the CodeSystem and ValueSet resources we hold (FHIR
 * core, v2, v3 and package-defined ones), used to enforce `required` bindings. A value set that
 * cannot be expanded locally (it draws on SNOMED CT, LOINC, UCUM, BCP-47, or uses a filter we do
 * not implement) is reported as unknown and the binding is then not enforced.
 */

/** Result of checking a code against a value set. */
export type CodeCheck = 'valid' | 'invalid' | 'unknown';

interface Concept {
  readonly code?: unknown;
  readonly concept?: readonly Concept[];
  readonly property?: readonly ConceptProperty[];
}

interface ConceptProperty {
  readonly code?: unknown;
  readonly valueCode?: unknown;
  readonly valueString?: unknown;
  readonly valueBoolean?: unknown;
  readonly valueInteger?: unknown;
}

export interface CodeSystemLike {
  readonly url?: unknown;
  readonly content?: unknown;
  readonly caseSensitive?: unknown;
  readonly valueSet?: unknown;
  readonly concept?: readonly Concept[];
}

interface ValueSetInclude {
  readonly system?: unknown;
  readonly concept?: readonly { readonly code?: unknown }[];
  readonly filter?: readonly { readonly property?: unknown; readonly op?: unknown; readonly value?: unknown }[];
  readonly valueSet?: readonly unknown[];
}

interface ExpansionContains {
  readonly system?: unknown;
  readonly code?: unknown;
  readonly contains?: readonly ExpansionContains[];
}

export interface ValueSetLike {
  readonly url?: unknown;
  readonly compose?: { readonly include?: readonly ValueSetInclude[]; readonly exclude?: readonly ValueSetInclude[] };
  readonly expansion?: { readonly total?: unknown; readonly offset?: unknown; readonly contains?: readonly ExpansionContains[] };
}

/** An expanded value set: codes by system. */
interface Expansion {
  readonly bySystem: Map<string, Set<string>>;
  /** All codes, regardless of system (for bindings on `code`-typed elements). */
  readonly codes: Set<string>;
}

/** Flattened view of one CodeSystem. */
interface CodeSystemIndex {
  readonly complete: boolean;
  readonly caseSensitive: boolean;
  readonly codes: Set<string>;
  readonly children: Map<string, string[]>;
  readonly properties: Map<string, readonly ConceptProperty[]>;
}

const CANNOT_EXPAND = null;

function stripVersion(url: string): string {
  const bar = url.indexOf('|');
  return bar < 0 ? url : url.slice(0, bar);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A set of code systems and value sets with cached, lazily computed expansions. */
export class Terminology {
  private readonly codeSystems = new Map<string, CodeSystemLike>();
  private readonly codeSystemIndex = new Map<string, CodeSystemIndex>();
  private readonly valueSets = new Map<string, ValueSetLike>();
  /** Implicit "all codes of this system" value sets, by CodeSystem.valueSet. */
  private readonly implicitValueSets = new Map<string, string>();
  private readonly expansions = new Map<string, Expansion | typeof CANNOT_EXPAND>();

  /**
   * Registers a CodeSystem. Supplements are ignored (they add designations, not codes).
   * @param cs - the CodeSystem resource.
   */
  addCodeSystem(cs: CodeSystemLike): void {
    const url = str(cs.url);
    if (!url || cs.content === 'supplement') {
      return;
    }
    this.codeSystems.set(url, cs);
    this.codeSystemIndex.delete(url);
    const vs = str(cs.valueSet);
    if (vs) {
      this.implicitValueSets.set(stripVersion(vs), url);
    }
    this.expansions.clear();
  }

  /**
   * Registers a ValueSet.
   * @param vs - the ValueSet resource.
   */
  addValueSet(vs: ValueSetLike): void {
    const url = str(vs.url);
    if (!url) {
      return;
    }
    this.valueSets.set(url, vs);
    this.expansions.clear();
  }

  /**
   * Checks whether a code is in a value set.
   * @param valueSetUrl - canonical URL of the value set, possibly with `|version` (ignored).
   * @param system - the code system, or undefined for `code`-typed elements (any system matches).
   * @param code - the code.
   * @returns 'valid', 'invalid', or 'unknown' when the value set cannot be expanded locally.
   */
  checkCode(valueSetUrl: string, system: string | undefined, code: string): CodeCheck {
    const expansion = this.expand(valueSetUrl);
    if (!expansion) {
      return 'unknown';
    }
    if (system === undefined ? expansion.codes.has(code) : expansion.bySystem.get(system)?.has(code) === true) {
      return 'valid';
    }
    // Code systems that declare caseSensitive = false match codes regardless of case.
    const lower = code.toLowerCase();
    for (const [sys, codes] of expansion.bySystem) {
      if ((system === undefined || sys === system) && this.index(sys)?.caseSensitive === false) {
        for (const c of codes) {
          if (c.toLowerCase() === lower) {
            return 'valid';
          }
        }
      }
    }
    return 'invalid';
  }

  /**
   * True when the value set is known and can be expanded locally.
   * @param valueSetUrl - canonical URL of the value set.
   * @returns whether {@link checkCode} can give a definite answer.
   */
  canExpand(valueSetUrl: string): boolean {
    return this.expand(valueSetUrl) !== undefined;
  }

  /**
   * Lists the codes of an expandable value set (for messages); undefined when it cannot be expanded.
   * @param valueSetUrl - canonical URL of the value set.
   * @param limit - maximum number of codes returned.
   * @returns some codes of the value set.
   */
  sampleCodes(valueSetUrl: string, limit: number): string[] | undefined {
    const expansion = this.expand(valueSetUrl);
    return expansion ? [...expansion.codes].slice(0, limit) : undefined;
  }

  private expand(valueSetUrl: string): Expansion | undefined {
    const direct = this.expansions.get(valueSetUrl);
    if (direct !== undefined) {
      return direct ?? undefined;
    }
    const result = this.expandUncached(valueSetUrl);
    this.expansions.set(valueSetUrl, result ?? CANNOT_EXPAND);
    return result;
  }

  private expandUncached(valueSetUrl: string): Expansion | undefined {
    const url = stripVersion(valueSetUrl);
    const cached = this.expansions.get(url);
    if (cached !== undefined) {
      return cached ?? undefined;
    }
    // Mark as in progress (cannot expand) to break include cycles.
    this.expansions.set(url, CANNOT_EXPAND);
    const result = this.computeExpansion(url);
    this.expansions.set(url, result ?? CANNOT_EXPAND);
    return result;
  }

  private computeExpansion(url: string): Expansion | undefined {
    const vs = this.valueSets.get(url);
    if (!vs) {
      const system = this.implicitValueSets.get(url);
      return system ? this.wholeSystem(system) : undefined;
    }
    const compose = vs.compose;
    if (compose?.include) {
      const result = newExpansion();
      for (const inc of compose.include) {
        const part = this.expandInclude(inc);
        if (!part) {
          return this.fromExpansionElement(vs);
        }
        mergeInto(result, part);
      }
      for (const exc of compose.exclude ?? []) {
        const part = this.expandInclude(exc);
        if (!part) {
          return this.fromExpansionElement(vs);
        }
        subtract(result, part);
      }
      return result;
    }
    return this.fromExpansionElement(vs);
  }

  /** Uses a stored `ValueSet.expansion`, when it is present and complete. */
  private fromExpansionElement(vs: ValueSetLike): Expansion | undefined {
    const exp = vs.expansion;
    if (!exp?.contains || exp.offset !== undefined) {
      return undefined;
    }
    const result = newExpansion();
    let count = 0;
    const walk = (items: readonly ExpansionContains[]): void => {
      for (const item of items) {
        const system = str(item.system);
        const code = str(item.code);
        if (system && code) {
          addCode(result, system, code);
          count++;
        }
        if (item.contains) {
          walk(item.contains);
        }
      }
    };
    walk(exp.contains);
    if (typeof exp.total === 'number' && exp.total > count) {
      return undefined; // truncated expansion
    }
    return result;
  }

  private expandInclude(inc: ValueSetInclude): Expansion | undefined {
    let result: Expansion | undefined;
    const system = str(inc.system);
    if (system) {
      if (inc.concept && inc.concept.length > 0) {
        result = newExpansion();
        for (const c of inc.concept) {
          const code = str(c.code);
          if (code) {
            addCode(result, system, code);
          }
        }
      } else if (inc.filter && inc.filter.length > 0) {
        result = this.filterSystem(system, inc.filter);
      } else {
        result = this.wholeSystem(system);
      }
      if (!result) {
        return undefined;
      }
    }
    for (const ref of inc.valueSet ?? []) {
      const refUrl = str(ref);
      if (!refUrl) {
        continue;
      }
      const other = this.expand(refUrl);
      if (!other) {
        return undefined;
      }
      result = result ? intersect(result, other) : copyExpansion(other);
    }
    return result;
  }

  private index(system: string): CodeSystemIndex | undefined {
    const cached = this.codeSystemIndex.get(system);
    if (cached) {
      return cached;
    }
    const cs = this.codeSystems.get(system);
    if (!cs) {
      return undefined;
    }
    const codes = new Set<string>();
    const children = new Map<string, string[]>();
    const properties = new Map<string, readonly ConceptProperty[]>();
    const walk = (concepts: readonly Concept[], parent: string | undefined): void => {
      for (const c of concepts) {
        const code = str(c.code);
        if (!code) {
          continue;
        }
        codes.add(code);
        if (c.property) {
          properties.set(code, c.property);
        }
        if (parent !== undefined) {
          addChild(children, parent, code);
        }
        for (const p of c.property ?? []) {
          // v3 code systems also state parents as a `subsumedBy` / `parent` property.
          const pc = str(p.code);
          const pv = str(p.valueCode);
          if (pv && (pc === 'subsumedBy' || pc === 'parent')) {
            addChild(children, pv, code);
          }
        }
        if (c.concept) {
          walk(c.concept, code);
        }
      }
    };
    walk(cs.concept ?? [], undefined);
    const index: CodeSystemIndex = {
      complete: cs.content === undefined || cs.content === 'complete',
      caseSensitive: cs.caseSensitive !== false,
      codes,
      children,
      properties,
    };
    this.codeSystemIndex.set(system, index);
    return index;
  }

  private wholeSystem(system: string): Expansion | undefined {
    const index = this.index(system);
    if (!index?.complete) {
      return undefined;
    }
    const result = newExpansion();
    for (const code of index.codes) {
      addCode(result, system, code);
    }
    return result;
  }

  private filterSystem(system: string, filters: NonNullable<ValueSetInclude['filter']>): Expansion | undefined {
    const index = this.index(system);
    if (!index?.complete) {
      return undefined;
    }
    let selected: Set<string> | undefined;
    for (const f of filters) {
      const property = str(f.property);
      const op = str(f.op);
      const value = str(f.value);
      if (!property || !op || value === undefined) {
        return undefined;
      }
      let codes: Set<string>;
      if (property === 'concept' && (op === 'is-a' || op === 'descendent-of' || op === 'is-not-a')) {
        const descendants = this.descendants(index, value);
        if (op === 'is-a') {
          descendants.add(value);
          codes = descendants;
        } else if (op === 'descendent-of') {
          codes = descendants;
        } else {
          descendants.add(value);
          codes = new Set([...index.codes].filter((c) => !descendants.has(c)));
        }
      } else if (op === '=') {
        codes = new Set();
        for (const [code, props] of index.properties) {
          if (props.some((p) => p.code === property && propertyValueString(p) === value)) {
            codes.add(code);
          }
        }
      } else {
        return undefined; // regex, in, not-in, generalizes, exists filters: the value set is treated as not expandable, so its binding is not checked
      }
      selected = selected ? new Set([...selected].filter((c) => codes.has(c))) : codes;
    }
    const result = newExpansion();
    for (const code of selected ?? []) {
      if (index.codes.has(code)) {
        addCode(result, system, code);
      }
    }
    return result;
  }

  private descendants(index: CodeSystemIndex, code: string): Set<string> {
    const out = new Set<string>();
    const stack = [...(index.children.get(code) ?? [])];
    while (stack.length > 0) {
      const c = stack.pop()!;
      if (!out.has(c)) {
        out.add(c);
        stack.push(...(index.children.get(c) ?? []));
      }
    }
    return out;
  }
}

function propertyValueString(p: ConceptProperty): string | undefined {
  for (const v of [p.valueCode, p.valueString, p.valueBoolean, p.valueInteger]) {
    if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') {
      return String(v);
    }
  }
  return undefined;
}

function addChild(children: Map<string, string[]>, parent: string, child: string): void {
  const list = children.get(parent);
  if (list) {
    list.push(child);
  } else {
    children.set(parent, [child]);
  }
}

function newExpansion(): Expansion {
  return { bySystem: new Map(), codes: new Set() };
}

function addCode(e: Expansion, system: string, code: string): void {
  let set = e.bySystem.get(system);
  if (!set) {
    set = new Set();
    e.bySystem.set(system, set);
  }
  set.add(code);
  e.codes.add(code);
}

function mergeInto(target: Expansion, source: Expansion): void {
  for (const [system, codes] of source.bySystem) {
    for (const code of codes) {
      addCode(target, system, code);
    }
  }
}

function copyExpansion(e: Expansion): Expansion {
  const out = newExpansion();
  mergeInto(out, e);
  return out;
}

function intersect(a: Expansion, b: Expansion): Expansion {
  const out = newExpansion();
  for (const [system, codes] of a.bySystem) {
    const other = b.bySystem.get(system);
    if (!other) {
      continue;
    }
    for (const code of codes) {
      if (other.has(code)) {
        addCode(out, system, code);
      }
    }
  }
  return out;
}

function subtract(target: Expansion, remove: Expansion): void {
  for (const [system, codes] of remove.bySystem) {
    const set = target.bySystem.get(system);
    if (set) {
      for (const code of codes) {
        set.delete(code);
      }
    }
  }
  target.codes.clear();
  for (const set of target.bySystem.values()) {
    for (const code of set) {
      target.codes.add(code);
    }
  }
}
