import type { SearchParameter } from '@medplum/fhirtypes';
import type { Definitions } from '../definitions.ts';

/** The search parameter types of https://hl7.org/fhir/R4/search.html#ptypes. */
export const ParamType = {
  number: 'number',
  date: 'date',
  string: 'string',
  token: 'token',
  reference: 'reference',
  composite: 'composite',
  quantity: 'quantity',
  uri: 'uri',
  special: 'special',
} as const;
export type ParamType = (typeof ParamType)[keyof typeof ParamType];

/** A search parameter as it applies to one resource type. */
export interface SearchParam {
  readonly code: string;
  readonly type: ParamType;
  readonly url: string;
  readonly resourceType: string;
  /** The FHIRPath expression restricted to this resource type ('' when none applies). */
  readonly expression: string;
  readonly target: readonly string[];
  readonly components: readonly { readonly definition: string; readonly expression: string }[];
  /** Where it came from: the base specification, a package, or a SearchParameter created on the server. */
  readonly source: 'base' | 'package' | 'server';
}

/** Parameters that apply to every resource type and are handled outside the index tables. */
export const RESULT_PARAMS = new Set([
  '_sort', '_count', '_include', '_revinclude', '_summary', '_total', '_elements', '_contained', '_containedType', '_format', '_pretty', '_offset', '_cursor', '_since', '_at', '_type',
]);

/**
 * The search parameters known to the server, by resource type and code.
 * Base parameters come from the R4 definitions; packages and SearchParameter resources add more.
 */
export class SearchRegistry {
  private readonly byType = new Map<string, Map<string, SearchParam>>();
  private readonly byUrl = new Map<string, SearchParameter>();
  private readonly defs: Definitions;

  constructor(defs: Definitions) {
    this.defs = defs;
    for (const sp of defs.searchParameters) {
      this.add(sp, 'base');
    }
  }

  /**
   * Registers a SearchParameter for each of its base types.
   * @param sp - the SearchParameter resource
   * @param source - where it came from
   * @returns the resource types it now applies to
   */
  add(sp: SearchParameter, source: SearchParam['source']): string[] {
    if (sp.code === undefined || sp.type === undefined) {
      return [];
    }
    if (sp.url !== undefined) {
      this.byUrl.set(sp.url, sp);
    }
    const bases = (sp.base ?? []).flatMap((b: string) => (b === 'Resource' || b === 'DomainResource' ? [...this.defs.resourceTypes] : [b]));
    const applied: string[] = [];
    for (const rt of bases) {
      if (!this.defs.resourceTypes.has(rt)) {
        continue;
      }
      const existing = this.byType.get(rt)?.get(sp.code);
      // A package or server parameter never replaces a base one with the same code.
      if (existing !== undefined && existing.source === 'base' && source !== 'base') {
        continue;
      }
      const param: SearchParam = {
        code: sp.code,
        type: sp.type,
        url: sp.url ?? '',
        resourceType: rt,
        expression: restrictExpression(sp.expression ?? '', rt, sp.base ?? []),
        target: sp.target ?? [],
        components: (sp.component ?? []).map((c) => ({ definition: c.definition ?? '', expression: c.expression ?? '' })),
        source,
      };
      let m = this.byType.get(rt);
      if (m === undefined) {
        m = new Map();
        this.byType.set(rt, m);
      }
      m.set(sp.code, param);
      applied.push(rt);
    }
    return applied;
  }

  /**
   * @param resourceType - the type searched
   * @param code - the parameter code
   * @returns the parameter, if known
   */
  get(resourceType: string, code: string): SearchParam | undefined {
    return this.byType.get(resourceType)?.get(code);
  }

  /**
   * @param resourceType - a resource type
   * @returns all parameters of the type
   */
  forType(resourceType: string): SearchParam[] {
    return [...(this.byType.get(resourceType)?.values() ?? [])];
  }

  /**
   * @param url - canonical URL of a SearchParameter
   * @returns the definition
   */
  byCanonical(url: string): SearchParameter | undefined {
    return this.byUrl.get(url);
  }
}

/**
 * Keeps the parts of a union expression that apply to `rt` (base parameters such as
 * `clinical-patient` list one path per resource type).
 */
function restrictExpression(expression: string, rt: string, bases: readonly string[]): string {
  if (expression === '') {
    return '';
  }
  const parts = splitUnion(expression);
  const kept = parts.filter((p) => {
    const root = /^\(*([A-Z][A-Za-z]*)/.exec(p.trim())?.[1];
    return root === undefined || root === rt || root === 'Resource' || root === 'DomainResource' || (bases.length === 1 && !/^[A-Z]/.test(p.trim().replace(/^\(+/, '')));
  });
  return kept.join(' | ');
}

/**
 * Splits a FHIRPath union at top-level `|`.
 * @param expression - the expression
 * @returns the parts
 */
export function splitUnion(expression: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = false;
  let current = '';
  for (const c of expression) {
    if (c === "'") {
      quote = !quote;
    } else if (!quote && c === '(') {
      depth++;
    } else if (!quote && c === ')') {
      depth--;
    } else if (!quote && depth === 0 && c === '|') {
      parts.push(current.trim());
      current = '';
      continue;
    }
    current += c;
  }
  if (current.trim() !== '') {
    parts.push(current.trim());
  }
  return parts;
}
