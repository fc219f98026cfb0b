/**
 * FHIR R4 Subscriptions: criteria as searches, rest-hook and websocket channels, notifications
 * through an outbox written in the data's transaction (docs/subscriptions.md).
 */
export type { CheckedSubscription } from './criteria.ts';
export { checkSubscription } from './criteria.ts';
export type { SubscriptionDispatcherOptions } from './dispatcher.ts';
export { SubscriptionDispatcher, retryDeadNotification } from './dispatcher.ts';
export type { NotificationSocket } from './service.ts';
export { SubscriptionService, WEBSOCKET_PATH, describeSubscriptions } from './service.ts';
export type { NotificationDisclosure } from './service.ts';
