import type { MessageView, PollResult, PublishResult } from '../../queues/queue-service.ts';
import type { MessageSignature } from '../../signing/message-seal.ts';
import { builder } from '../builder.ts';

const MessageSignatureType = builder.objectRef<MessageSignature>('MessageSignature').implement({
  description: "evq's Ed25519 signature of a stored message; verify it with the keys at /.well-known/jwks.json.",
  fields: (t) => ({
    keyId: t.exposeString('keyId'),
    timestamp: t.exposeInt('timestamp', { description: 'Unix time in seconds when evq signed the message.' }),
    nonce: t.exposeString('nonce', { description: "Empty in evq's signatures." }),
    value: t.exposeString('value', { description: '`v1m=` and the standard base64 signature of the Merkle root (`v1a=` over the message itself).' }),
    proof: t.exposeString('proof', {
      nullable: true,
      description: '`<index>:<size>:<base64 audit path>` from this message to the signed Merkle root; null with `v1a`.',
    }),
  }),
});

export const MessageType = builder.objectRef<MessageView>('Message').implement({
  fields: (t) => ({
    id: t.exposeString('id'),
    queue: t.exposeString('queue'),
    key: t.exposeString('key', { nullable: true }),
    headers: t.field({ type: 'JSON', resolve: (message) => message.headers }),
    data: t.field({ type: 'JSON', resolve: (message) => JSON.parse(message.data) as unknown }),
    publishedAt: t.expose('publishedAt', { type: 'DateTime' }),
    deliverAt: t.expose('deliverAt', { type: 'DateTime', nullable: true }),
    producer: t.exposeString('producer', { nullable: true }),
    signature: t.field({
      type: MessageSignatureType,
      nullable: true,
      description: "evq's signature: a signed Merkle root over the storage canonical strings of a batch, with this message's proof (docs/signatures.md).",
      resolve: (message) => message.signature,
    }),
    partition: t.exposeInt('partition'),
    offset: t.exposeInt('offset'),
    cursor: t.expose('cursor', {
      type: 'Cursor',
      nullable: true,
      description: 'The stream position right after this message; null in work-queue deliveries.',
    }),
  }),
});

export const PublishResultType = builder.objectRef<PublishResult>('PublishResult').implement({
  fields: (t) => ({
    id: t.exposeString('id'),
    queue: t.exposeString('queue'),
    cursor: t.expose('cursor', { type: 'Cursor', description: 'The stream position right after this message.' }),
    duplicate: t.exposeBoolean('duplicate', {
      description: 'True when this id was published within the dedup window; nothing new was stored.',
    }),
    partition: t.exposeInt('partition'),
    offset: t.exposeInt('offset'),
  }),
});

export const PollResultType = builder.objectRef<PollResult>('PollResult').implement({
  fields: (t) => ({
    messages: t.field({ type: [MessageType], resolve: (result) => result.messages }),
    cursor: t.expose('cursor', { type: 'Cursor', description: 'Pass this as `after` in the next poll.' }),
  }),
});
