import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding } from '@medplum/fhirtypes';
import type { AuditRow } from './store.ts';

/**
 * Renders stored audit rows as FHIR R4 AuditEvents in the IHE BALP shape.
 * See: https://profiles.ihe.net/ITI/BALP/ (Basic Audit Log Patterns, minimal pattern).
 */

/** Options of toAuditEvent. */
export interface RenderOptions {
  /**
   * The citizen's view (Min Log): only this patient's entity is shown, and every other field that
   * names another patient the event touched is left out.
   */
  readonly onlyPatient?: string;
}

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const AUDIT_EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const ROLE_CLASS = 'http://terminology.hl7.org/CodeSystem/v3-RoleClass';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';
const BALP_ENTITY_TYPE = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType';

/** The platform as the observer of every event it records. */
export const AUDIT_OBSERVER = { display: 'Digital Sundhed Danmark FHIR platform', identifier: 'dsd-platform' } as const;

/** Interactions that are FHIR restful-interaction codes (http://hl7.org/fhir/R4/codesystem-restful-interaction.html). */
const RESTFUL = new Set([
  'read',
  'vread',
  'update',
  'patch',
  'delete',
  'history',
  'history-instance',
  'history-type',
  'history-system',
  'create',
  'search',
  'search-type',
  'search-system',
  'search-compartment',
  'capabilities',
  'transaction',
  'batch',
  'operation',
]);

const EMERGENCY_OVERRIDE_STARTED: Coding = { system: DCM, code: '110127', display: 'Emergency Override Started' };
const EMERGENCY_OVERRIDE_STOPPED: Coding = { system: DCM, code: '110138', display: 'Emergency Override Stopped' };

/**
 * Builds the AuditEvent for a stored row.
 * @param row - the stored event
 * @param opts - `onlyPatient` for the citizen's view of their own log
 * @returns a FHIR R4 AuditEvent
 */
export function toAuditEvent(row: AuditRow, opts: RenderOptions = {}): AuditEvent {
  const own = opts.onlyPatient;
  // In the citizen's view any text that names another patient of the event is left out.
  const others = own === undefined ? [] : row.patientIds.filter((p) => p !== own);
  const safe = (s: string | null): s is string => s !== null && s !== '' && !others.some((o) => s.includes(o));

  const { type, subtype } = typeAndSubtype(row);
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    id: row.id,
    type,
    ...(subtype.length > 0 ? { subtype } : {}),
    recorded: row.recorded.toISOString(),
    action: row.action,
    outcome: String(row.outcome) as AuditEvent['outcome'],
    agent: agents(row, safe),
    source: {
      observer: { identifier: { value: AUDIT_OBSERVER.identifier }, display: AUDIT_OBSERVER.display },
      type: [{ system: SOURCE_TYPE, code: '4', display: 'Application Server' }],
    },
  };
  if (safe(row.outcomeText)) {
    event.outcomeDesc = row.outcomeText;
  }
  const purpose = row.breakGlass ? 'BTG' : row.purpose;
  if (purpose !== null && purpose !== '') {
    event.purposeOfEvent = [{ coding: [{ system: ACT_REASON, code: purpose, ...(purpose === 'BTG' ? { display: 'break the glass' } : {}) }] }];
  }
  const entity = entities(row, own, safe);
  if (entity.length > 0) {
    event.entity = entity;
  }
  return event;
}

function typeAndSubtype(row: AuditRow): { type: Coding; subtype: Coding[] } {
  switch (row.interaction) {
    case 'break-glass':
      return { type: { system: DCM, code: '110113', display: 'Security Alert' }, subtype: [EMERGENCY_OVERRIDE_STARTED] };
    case 'break-glass-end':
      return { type: { system: DCM, code: '110113', display: 'Security Alert' }, subtype: [EMERGENCY_OVERRIDE_STOPPED] };
    case 'login':
      return { type: { system: DCM, code: '110114', display: 'User Authentication' }, subtype: [{ system: DCM, code: '110122', display: 'Login' }] };
    case 'notification':
      // Data sent out to a recipient's system (a Subscription notification with the resource).
      return { type: { system: DCM, code: '110106', display: 'Export' }, subtype: [] };
    case 'logout':
      return { type: { system: DCM, code: '110114', display: 'User Authentication' }, subtype: [{ system: DCM, code: '110123', display: 'Logout' }] };
    default: {
      const subtype: Coding[] = RESTFUL.has(row.interaction) ? [{ system: RESTFUL_INTERACTION, code: row.interaction }] : [];
      if (row.breakGlass) {
        subtype.push(EMERGENCY_OVERRIDE_STARTED);
      }
      return { type: { system: AUDIT_EVENT_TYPE, code: 'rest', display: 'RESTful Operation' }, subtype };
    }
  }
}

function agents(row: AuditRow, safe: (s: string | null) => s is string): AuditEventAgent[] {
  // BALP: the user is the information recipient of reads and queries, the author of writes.
  const writes = row.action === 'C' || row.action === 'U' || row.action === 'D';
  const user: AuditEventAgent = {
    type: { coding: [writes ? { system: PARTICIPATION, code: 'AUT', display: 'author (originator)' } : { system: PARTICIPATION, code: 'IRCP', display: 'information recipient' }] },
    requestor: true,
  };
  const role = roleOf(row.agentKind);
  if (role !== undefined) {
    user.role = [{ coding: [role] }];
  }
  const who: NonNullable<AuditEventAgent['who']> = {};
  if (safe(row.agentRef) && !row.agentRef.startsWith('Device/')) {
    who.reference = row.agentRef;
  }
  if (safe(row.agentIdentifier)) {
    who.identifier = { value: row.agentIdentifier };
  }
  const display = [row.agentName, row.organizationName].filter(safe);
  if (display.length > 0) {
    who.display = display.join(', ');
  } else if (row.agentKind === 'anonymous') {
    who.display = 'anonymous';
  }
  if (Object.keys(who).length > 0) {
    user.who = who;
  }
  if (safe(row.tokenJti)) {
    // BALP minimal OAuth pattern: the token's jti as the user agent's policy.
    user.policy = [row.tokenJti];
  }
  if (safe(row.sourceAddress) && row.clientId === null) {
    user.network = { address: row.sourceAddress, type: '2' };
  }
  const out: AuditEventAgent[] = [user];
  if (safe(row.organizationRef)) {
    out.push({
      type: { coding: [{ system: PARTICIPATION, code: 'RESP', display: 'responsible party' }] },
      who: { reference: row.organizationRef, ...(safe(row.organizationName) ? { display: row.organizationName } : {}) },
      requestor: false,
    });
  }
  if (safe(row.clientId)) {
    const client: AuditEventAgent = {
      type: { coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] },
      who: { identifier: { value: row.clientId } },
      requestor: false,
    };
    if (safe(row.sourceAddress)) {
      client.network = { address: row.sourceAddress, type: '2' };
    }
    out.push(client);
  }
  // The server that received the request (BALP: Destination Role ID).
  out.push({
    type: { coding: [{ system: DCM, code: '110152', display: 'Destination Role ID' }] },
    who: { identifier: { value: AUDIT_OBSERVER.identifier }, display: AUDIT_OBSERVER.display },
    requestor: false,
  });
  return out;
}

function roleOf(kind: AuditRow['agentKind']): Coding | undefined {
  switch (kind) {
    case 'citizen':
      return { system: ROLE_CLASS, code: 'PAT', display: 'patient' };
    case 'professional':
      return { system: ROLE_CLASS, code: 'PROV', display: 'healthcare provider' };
    case 'system':
    case 'anonymous':
      return undefined;
    default:
      kind satisfies never;
      return undefined;
  }
}

function entities(row: AuditRow, own: string | undefined, safe: (s: string | null) => s is string): AuditEventEntity[] {
  const out: AuditEventEntity[] = [];
  const patients = own === undefined ? row.patientIds : row.patientIds.filter((p) => p === own);
  for (const p of patients) {
    out.push({
      what: { reference: `Patient/${p}` },
      type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
      role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
    });
  }
  const patientRefs = new Set(patients.map((p) => `Patient/${p}`));
  for (const ref of row.resourceRefs) {
    if (patientRefs.has(ref) || !safe(ref)) {
      continue;
    }
    // The citizen sees no Patient resources other than their own.
    if (own !== undefined && ref.startsWith('Patient/')) {
      continue;
    }
    out.push({
      what: { reference: ref },
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
    });
  }
  if (safe(row.query)) {
    out.push({
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '24', display: 'Query' },
      query: Buffer.from(row.query, 'utf8').toString('base64'),
    });
  }
  if (safe(row.requestId)) {
    out.push({
      what: { identifier: { value: row.requestId } },
      type: { system: BALP_ENTITY_TYPE, code: 'XrequestId', display: 'HTTP X-Request-Id' },
    });
  }
  return out;
}
