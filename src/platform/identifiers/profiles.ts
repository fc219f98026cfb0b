/**
 * The value constraints of DK-core 3.8.0's identifier profiles, copied verbatim from the `Identifier.value`
 * invariants of `hl7.fhir.dk.core#3.8.0/package/StructureDefinition-dk-core-*-identifier.json` (the FHIRPath
 * `matches('…')` argument). The checks in this folder test these exact expressions, so "ok" here means "the
 * profile invariant passes" unless a check documents that it is stricter.
 *
 * FHIRPath `matches()` is a partial match (as in fhirpath.js, which this platform's validator uses); every
 * pattern below except KOMBIT's is anchored with `^…$`, so partial and full matching agree for them.
 */

/** dk-core-cpr-identifier, invariant `cpr` (day/month plausibility only; no leap years, no century, no mod-11); maxLength 10. */
export const DK_CORE_CPR_PATTERN = /^((((0[1-9]|1[0-9]|2[0-9]|3[0-1])(01|03|05|07|08|10|12))|((0[1-9]|1[0-9]|2[0-9]|30)(04|06|09|11))|((0[1-9]|1[0-9]|2[0-9])(02)))[0-9]{6})$/;

/** dk-core-x-ecpr-identifier, invariant `x-ecpr`: DDMM YY [17] [A-Z]{2} digit; maxLength 10. */
export const DK_CORE_X_ECPR_PATTERN = /^((((0[1-9]|1[0-9]|2[0-9]|3[0-1])(01|03|05|07|08|10|12))|((0[1-9]|1[0-9]|2[0-9]|30)(04|06|09|11))|((0[1-9]|1[0-9]|2[0-9])(02)))([0-9]{2})((1|7){1})([A-Z]{2})([0-9]{1}))$/;

/** dk-core-d-ecpr-identifier, invariant `d-ecpr`: DDMM YY [056] [A-Z]{2} digit; maxLength 10. */
export const DK_CORE_D_ECPR_PATTERN = /^((((0[1-9]|1[0-9]|2[0-9]|3[0-1])(01|03|05|07|08|10|12))|((0[1-9]|1[0-9]|2[0-9]|30)(04|06|09|11))|((0[1-9]|1[0-9]|2[0-9])(02)))([0-9]{2})((0|5|6){1})([A-Z]{2})([0-9]{1}))$/;

/** dk-core-sor-identifier, invariant `min-digits-sor`. */
export const DK_CORE_SOR_PATTERN = /^([0-9]){11,}$/;

/** dk-core-cvr-identifier, invariant `CVR-length` (plus `CVR-modulus-11`, weights 2,7,6,5,4,3,2,1). */
export const DK_CORE_CVR_PATTERN = /^[0-9]{8}$/;

/** dk-core-gln-identifier, invariant `gln-length` (plus `gln-modulus-10`, GS1 weights 1,3,1,3,… from the left). */
export const DK_CORE_GLN_PATTERN = /^[0-9]{13}$/;

/** dk-core-authorization-identifier, invariant `authorization-id-format` (consonants incl. y, either case, and digits); maxLength 5. */
export const DK_CORE_AUTHORIZATION_PATTERN = /^([b-df-hj-np-tv-zB-DF-HJ-NP-TV-Z0-9]){5}$/;

/** dk-core-kombit-org-identifier, invariant `uuid`. Not anchored in the profile, so FHIRPath `matches()` accepts surrounding text. */
export const DK_CORE_KOMBIT_ORG_PATTERN = /urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
