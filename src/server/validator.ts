import type { Config } from '../config/load.ts';
import type { ResourceValidator } from '../platform/fhir/platform.ts';
import { createValidator, loadPackageDirs } from '../platform/fhir/validation/index.ts';

/**
 * Builds the write validator: base R4 plus the FHIR packages configured (DK-core, MedCom, FUT).
 * @param config - where the packages are
 * @returns the validator
 */
export async function loadValidator(config: Pick<Config, 'fhirPackagesRoot'>): Promise<ResourceValidator> {
  const packageDirs = config.fhirPackagesRoot === undefined ? [] : loadPackageDirs(config.fhirPackagesRoot);
  return await createValidator({ packageDirs });
}
