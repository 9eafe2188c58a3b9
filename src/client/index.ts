/**
 * A browser-safe evq client: typed GraphQL requests over fetch, subscriptions over graphql-ws with
 * the platform's WebSocket, and producer signing and message verification with WebCrypto.
 * Operations for `request` come typed from `npm run codegen`.
 */
export { type BackoffOptions, backoffDelay } from './backoff.ts';
export { canonicalJson, canonicalString, dataDigest, type SignedFields, type StoredFields, storageCanonicalString } from './canonical.ts';
export { DedupCache } from './dedup-cache.ts';
export { EvqClientError, EvqConnectionError, isRetryable, MessageVerificationError, type VerificationFailure } from './errors.ts';
export { EvqClient, type EvqClientOptions, type PublishOptions, type RequestOptions } from './evq-client.ts';
export {
  type MerkleProof,
  merkleLeafHash,
  merkleRootFromPath,
  merkleRootFromProof,
  parseMerkleProof,
  signedRootText,
} from './merkle.ts';
export { MessageVerifier, type MessageVerifierOptions, type VerifiableMessage } from './message-verifier.ts';
export type { AckResult, Delivery, Message, PublishInput, PublishResult } from './operations.ts';
export {
  exportEd25519PublicKey,
  importEd25519PrivateKey,
  importEd25519PublicKey,
  type MessageSignature,
  type SigningKey,
  type SignMessageOptions,
  signMessage,
  signV1,
  signV1a,
  type StorageSignature,
  verifyV1a,
  verifyV1m,
} from './signing.ts';
export type { SubscribeMessagesOptions } from './subscriber.ts';
export type { DeliveryContext, MessageHandler, WorkErrorInfo, WorkOperation, WorkOptions, WorkStats } from './worker.ts';
