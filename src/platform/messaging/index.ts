/**
 * MedCom messaging hub: `$process-message`, the outbox dispatcher and the inboxes
 * (docs/messaging.md).
 */
export type { Party } from './acknowledgement.ts';
export { buildAcknowledgement } from './acknowledgement.ts';
export type { CareCommunicationLimits } from './care-communication.ts';
export { CARE_COMMUNICATION_CATEGORIES, CareCommunicationService, careCommunicationOperation, careCommunicationThreadsOperation } from './care-communication.ts';
export type { Claim, DispatchResult, DispatcherOptions } from './dispatcher.ts';
export { MessageDispatcher, listDeadLetters, readInbox, retryDeadLetter } from './dispatcher.ts';
export type { HttpResult } from './http-delivery.ts';
export { allowDeliveryHost, checkDeliveryHost, disallowDeliveryHost, postDelivery, registerDeliveryUrl, unregisterDeliveryUrl } from './http-delivery.ts';
export type { Destination, OrganizationAddress, ParsedMessage } from './message.ts';
export { ACKNOWLEDGEMENT_EVENT, AckError, MEDCOM_EVENT_SYSTEM, MESSAGE_GLN_SYSTEM, MESSAGE_PROFILES, parseMessage } from './message.ts';
export type { InboxRow, OutboxRow } from './messaging.store.ts';
export type { AcceptHook } from './service.ts';
export { MessagingService, endpointAccepts, inboxOperation, processMessageOperation, registerMessagingSender } from './service.ts';
export type { NotificationInput, Transition, UnroutableNotification } from './workflow-events.ts';
export { HOSPITAL_NOTIFICATION_EVENT, NotificationActivity, buildHospitalNotification, listUnroutableNotifications, municipalityCode, notificationFor, registerWorkflowEvents, resendWorkflowNotification } from './workflow-events.ts';
