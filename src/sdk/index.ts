export {
  type ApiError,
  type ApiErrorCode,
  type ClientOptions,
  createClient,
  type Result,
  type TenantgraphClient,
  type TypedSdk,
} from './create-client.js';
export type * from './generated.js';
