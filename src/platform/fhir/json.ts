/**
 * FHIR JSON in and out. JSON.parse would silently accept duplicate keys, lose the precision of
 * decimals (`0.10` → `0.1`, see https://hl7.org/fhir/R4/json.html#primitive) and recurse without
 * a bound; this parser rejects the first two problems with a position and keeps the exact text of
 * every number whose JavaScript value would print differently, so stringify writes it back unchanged.
 */

/** The exact source text of numbers that JavaScript would print differently, per holder object. */
const rawNumbers = new WeakMap<object, Map<string | number, string>>();
/** Roots that hold at least one such number (so stringify can take the fast path for the rest). */
const lossyRoots = new WeakSet<object>();

/** A JSON syntax problem, with where it is. */
export class JsonParseError extends Error {
  readonly position: number;
  constructor(message: string, position: number) {
    super(`${message} at position ${position}`);
    this.position = position;
  }
}

/** Options for parseJson. */
export interface ParseOptions {
  /** Deepest nesting of objects and arrays accepted. */
  readonly maxDepth?: number;
}

/**
 * Parses JSON strictly: duplicate keys, control characters in strings other than the JSON escapes,
 * trailing data and excessive nesting are errors.
 * @param text - the JSON text
 * @param options - limits
 * @returns the value, with exact decimal text remembered for stringify
 */
export function parseJson(text: string, options: ParseOptions = {}): unknown {
  const p = new Parser(text, options.maxDepth ?? 64);
  p.ws();
  const value = p.value(0);
  p.ws();
  if (p.i < text.length) {
    throw new JsonParseError('Unexpected data after the JSON value', p.i);
  }
  if (p.lossy && typeof value === 'object' && value !== null) {
    lossyRoots.add(value);
  }
  return value;
}

class Parser {
  i = 0;
  lossy = false;
  readonly s: string;
  readonly maxDepth: number;
  constructor(s: string, maxDepth: number) {
    this.s = s;
    this.maxDepth = maxDepth;
  }

  ws(): void {
    const s = this.s;
    let c = s.charCodeAt(this.i);
    while (c === 32 || c === 10 || c === 13 || c === 9) {
      c = s.charCodeAt(++this.i);
    }
  }

  value(depth: number): unknown {
    const c = this.s.charCodeAt(this.i);
    if (c === 123) {
      return this.object(depth + 1);
    }
    if (c === 91) {
      return this.array(depth + 1);
    }
    if (c === 34) {
      return this.string();
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      return this.number();
    }
    if (this.s.startsWith('true', this.i)) {
      this.i += 4;
      return true;
    }
    if (this.s.startsWith('false', this.i)) {
      this.i += 5;
      return false;
    }
    if (this.s.startsWith('null', this.i)) {
      this.i += 4;
      return null;
    }
    if (this.i >= this.s.length) {
      throw new JsonParseError('Unexpected end of JSON', this.i);
    }
    throw new JsonParseError(`Unexpected character '${this.s[this.i]}'`, this.i);
  }

  object(depth: number): Record<string, unknown> {
    if (depth > this.maxDepth) {
      throw new JsonParseError(`JSON nested deeper than ${this.maxDepth} levels`, this.i);
    }
    this.i++;
    const obj: Record<string, unknown> = {};
    this.ws();
    if (this.s.charCodeAt(this.i) === 125) {
      this.i++;
      return obj;
    }
    for (;;) {
      if (this.s.charCodeAt(this.i) !== 34) {
        throw new JsonParseError('Expected a property name in double quotes', this.i);
      }
      const keyPos = this.i;
      const key = this.string();
      if (Object.prototype.hasOwnProperty.call(obj, key)) {
        throw new JsonParseError(`Duplicate property "${key}"`, keyPos);
      }
      this.ws();
      if (this.s.charCodeAt(this.i) !== 58) {
        throw new JsonParseError("Expected ':'", this.i);
      }
      this.i++;
      this.ws();
      const start = this.i;
      const v = this.value(depth);
      if (typeof v === 'number') {
        this.rememberRaw(obj, key, start, v);
      }
      if (key === '__proto__') {
        Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
      } else {
        obj[key] = v;
      }
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === 44) {
        this.i++;
        this.ws();
        continue;
      }
      if (c === 125) {
        this.i++;
        return obj;
      }
      throw new JsonParseError("Expected ',' or '}'", this.i);
    }
  }

  array(depth: number): unknown[] {
    if (depth > this.maxDepth) {
      throw new JsonParseError(`JSON nested deeper than ${this.maxDepth} levels`, this.i);
    }
    this.i++;
    const arr: unknown[] = [];
    this.ws();
    if (this.s.charCodeAt(this.i) === 93) {
      this.i++;
      return arr;
    }
    for (;;) {
      const start = this.i;
      const v = this.value(depth);
      if (typeof v === 'number') {
        this.rememberRaw(arr, arr.length, start, v);
      }
      arr.push(v);
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === 44) {
        this.i++;
        this.ws();
        continue;
      }
      if (c === 93) {
        this.i++;
        return arr;
      }
      throw new JsonParseError("Expected ',' or ']'", this.i);
    }
  }

  rememberRaw(holder: object, key: string | number, start: number, v: number): void {
    const raw = this.s.slice(start, this.i);
    if (raw.length < 16 && String(v) === raw) {
      return;
    }
    if (String(v) === raw) {
      return;
    }
    let m = rawNumbers.get(holder);
    if (m === undefined) {
      m = new Map();
      rawNumbers.set(holder, m);
    }
    m.set(key, raw);
    this.lossy = true;
  }

  string(): string {
    const s = this.s;
    const start = ++this.i;
    // Fast path: no escapes.
    for (;;) {
      const c = s.charCodeAt(this.i);
      if (c === 34) {
        const out = s.slice(start, this.i);
        this.i++;
        return out;
      }
      if (c === 92) {
        break;
      }
      if (c < 32 || Number.isNaN(c)) {
        if (Number.isNaN(c)) {
          throw new JsonParseError('Unterminated string', start - 1);
        }
        throw new JsonParseError('Unescaped control character in string', this.i);
      }
      this.i++;
    }
    let out = s.slice(start, this.i);
    for (;;) {
      const c = s.charCodeAt(this.i);
      if (Number.isNaN(c)) {
        throw new JsonParseError('Unterminated string', start - 1);
      }
      if (c === 34) {
        this.i++;
        return out;
      }
      if (c < 32) {
        throw new JsonParseError('Unescaped control character in string', this.i);
      }
      if (c === 92) {
        const e = s[this.i + 1];
        this.i += 2;
        switch (e) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            const hex = s.slice(this.i, this.i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
              throw new JsonParseError('Bad \\u escape', this.i - 2);
            }
            const code = parseInt(hex, 16);
            this.i += 4;
            if (code >= 0xdc00 && code <= 0xdfff) {
              throw new JsonParseError('Unpaired surrogate in \\u escape', this.i - 6);
            }
            if (code >= 0xd800 && code <= 0xdbff) {
              // A high surrogate must be followed by an escaped low surrogate (PostgreSQL rejects lone ones).
              const low = /^\\u(d[c-f][0-9a-f]{2})/i.exec(s.slice(this.i, this.i + 6));
              if (low === null) {
                throw new JsonParseError('Unpaired surrogate in \\u escape', this.i - 6);
              }
              out += String.fromCharCode(code, parseInt(low[1]!, 16));
              this.i += 6;
              break;
            }
            out += String.fromCharCode(code);
            break;
          }
          default:
            throw new JsonParseError('Bad escape in string', this.i - 2);
        }
        continue;
      }
      out += s.charAt(this.i);
      this.i++;
    }
  }

  number(): number {
    const s = this.s;
    const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    m.lastIndex = this.i;
    const r = m.exec(s);
    if (r === null) {
      throw new JsonParseError('Malformed number', this.i);
    }
    this.i += r[0].length;
    const n = Number(r[0]);
    if (!Number.isFinite(n)) {
      throw new JsonParseError('Number out of range', this.i);
    }
    return n;
  }
}

const MARK = '\u0000dec:';

/**
 * Serialises a value parsed by parseJson (or built in code) back to JSON, writing remembered
 * decimals exactly as they were received.
 * @param value - the value
 * @returns JSON text
 */
export function stringifyJson(value: unknown): string {
  if (typeof value !== 'object' || value === null || !lossyRoots.has(value)) {
    return JSON.stringify(value);
  }
  const text = JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
    if (typeof v === 'number' && typeof this === 'object' && this !== null) {
      const m = rawNumbers.get(this);
      const raw = m?.get(Array.isArray(this) ? Number(key) : key);
      if (raw !== undefined && Number(raw) === v) {
        return MARK + raw;
      }
    }
    return v;
  });
  return text.replace(/"\\u0000dec:([-+.eE0-9]+)"/g, '$1');
}

/**
 * Marks `target` as holding remembered decimals when `source` did (after a copy or a rewrap).
 * @param target - the new root
 * @param source - the root it was derived from
 */
export function carryDecimals(target: object, source: object): void {
  if (lossyRoots.has(source)) {
    lossyRoots.add(target);
  }
}

/**
 * Marks a parsed sub-object (e.g. a Bundle entry's resource) as a root of its own for stringify.
 * @param value - a value inside a parsed document
 */
export function markDecimalRoot(value: object): void {
  lossyRoots.add(value);
}
