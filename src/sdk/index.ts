export type { ApiError, ApiErrorCode, Result } from './api-error.js';
export { type ClientOptions, createClient, type TenantgraphClient, type TypedSdk } from './create-client.js';
export type * from './generated.js';
export type {
  SubscriptionData,
  SubscriptionName,
  SubscriptionSink,
  SubscriptionVariables,
  TypedSubscription,
} from './subscribe.js';
