import type { PublishInput } from '../../queues/validation.ts';
import { queueAction } from '../auth.ts';
import { builder } from '../builder.ts';
import { PublishResultType } from './message.ts';

const SignatureInput = builder.inputType('SignatureInput', {
  fields: (t) => ({
    keyId: t.string({ required: true }),
    timestamp: t.int({ required: true, description: 'Unix time in seconds.' }),
    nonce: t.string({ required: true }),
    value: t.string({ required: true, description: '`v1=<base64>` (HMAC-SHA256) or `v1a=<base64>` (Ed25519).' }),
  }),
});

export const PublishInputType = builder.inputType('PublishInput', {
  fields: (t) => ({
    data: t.field({ type: 'JSON', required: true }),
    key: t.string({ description: 'Messages with the same key keep their order.' }),
    headers: t.field({ type: 'JSON', description: 'An object of string values.' }),
    id: t.string({ description: 'Idempotency id; a repeat within the dedup window is not stored again.' }),
    delaySeconds: t.int({ description: 'Hide the message from receivers for this long.' }),
    deliverAt: t.field({ type: 'DateTime', description: 'Hide the message from receivers until then.' }),
    signature: t.field({ type: SignatureInput }),
  }),
});

builder.mutationFields((t) => ({
  publish: t.field({
    type: PublishResultType,
    args: {
      queue: t.arg.string({ required: true }),
      message: t.arg({ type: PublishInputType, required: true }),
    },
    ...queueAction('PUBLISH', (args: { queue: string; message: { key?: string | null } }) => ({
      queue: args.queue,
      keys: [args.message.key ?? null],
    })),
    resolve: (_root, args, ctx) => {
      ctx.access.takePublishQuota(ctx.principal, 1);
      return ctx.service.publish(args.queue, args.message as PublishInput, ctx.principal.id);
    },
  }),
  publishBatch: t.field({
    type: [PublishResultType],
    description: 'Publishes messages in order; if any message is invalid, none is stored.',
    args: {
      queue: t.arg.string({ required: true }),
      messages: t.arg({ type: [PublishInputType], required: true }),
    },
    ...queueAction('PUBLISH', (args: { queue: string; messages: { key?: string | null }[] }) => ({
      queue: args.queue,
      keys: args.messages.map((message) => message.key ?? null),
    })),
    resolve: (_root, args, ctx) => {
      ctx.access.takePublishQuota(ctx.principal, args.messages.length);
      return ctx.service.publishBatch(args.queue, args.messages as PublishInput[], ctx.principal.id);
    },
  }),
}));
