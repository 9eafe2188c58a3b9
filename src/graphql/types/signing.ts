import type { QuarantinedRecord } from '../../engines/engine.ts';
import type { ProducerKey } from '../../signing/producer-keys.ts';
import { validateInteger } from '../../queues/validation.ts';
import { queueAction, requires } from '../auth.ts';
import { builder } from '../builder.ts';
import type { Context } from '../context.ts';
import { MessageType } from './message.ts';

const SigningKeyType = builder.objectRef<ProducerKey>('SigningKey').implement({
  description: 'An Ed25519 public key that signs messages for one queue (`v1a` signatures).',
  fields: (t) => ({
    id: t.exposeString('id', { description: 'The keyId of signatures made with this key.' }),
    queue: t.exposeString('queue'),
    publicKey: t.exposeString('publicKey', { description: 'The 32 raw key bytes in standard base64.' }),
    createdAt: t.field({ type: 'DateTime', resolve: (key) => new Date(key.createdAt) }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (key) => (key.revokedAt === null ? null : new Date(key.revokedAt)) }),
  }),
});

const QuarantinedRecordType = builder.objectRef<QuarantinedRecord>('QuarantinedRecord').implement({
  description: 'A stored record whose evq signature failed, so evq never delivered it.',
  fields: (t) => ({
    partition: t.exposeInt('partition'),
    offset: t.exposeInt('offset'),
    reason: t.exposeString('reason'),
    quarantinedAt: t.expose('quarantinedAt', { type: 'DateTime' }),
    message: t.field({ type: MessageType, resolve: (record, _args, ctx) => ctx.service.view(record.message, null) }),
  }),
});

/** MANAGE on the queue of a signing key; '' for an unknown key, which no grant names. */
function queueOfSigningKey(args: { id: string }, ctx: Context) {
  return { queue: ctx.producerKeys.get(args.id)?.queue ?? '', keys: null };
}

builder.queryFields((t) => ({
  signingKeys: t.field({
    type: [SigningKeyType],
    description: 'The Ed25519 keys registered for a queue, revoked ones included.',
    args: { queue: t.arg.string({ required: true }) },
    ...queueAction('MANAGE', (args: { queue: string }) => ({ queue: args.queue, keys: null })),
    resolve: (_root, args, ctx) => ctx.producerKeys.list(args.queue),
  }),
  quarantine: t.field({
    type: [QuarantinedRecordType],
    description: 'Records of the queue that failed their evq signature check, oldest first.',
    args: { queue: t.arg.string({ required: true }), limit: t.arg.int({ defaultValue: 100, required: true }) },
    ...queueAction('MANAGE', (args: { queue: string }) => ({ queue: args.queue, keys: null })),
    resolve: async (_root, args, ctx) => {
      await ctx.service.requireQueue(args.queue);
      return ctx.service.engine.quarantine.list(args.queue, validateInteger('limit', args.limit, 1, ctx.service.limits.maxPollLimit));
    },
  }),
}));

builder.mutationFields((t) => ({
  registerSigningKey: t.field({
    type: SigningKeyType,
    description: 'Registers an Ed25519 public key (PEM, or 32 bytes in base64) whose v1a signatures the queue accepts.',
    args: { queue: t.arg.string({ required: true }), publicKey: t.arg.string({ required: true }) },
    ...queueAction('MANAGE', (args: { queue: string }) => ({ queue: args.queue, keys: null })),
    resolve: async (_root, args, ctx) => {
      await ctx.service.requireQueue(args.queue);
      // The holder of the private key can publish, so registering it needs PUBLISH as well.
      ctx.access.authorize(ctx.principal, { action: 'PUBLISH', queue: args.queue, keys: null });
      return ctx.producerKeys.register(args.queue, args.publicKey, ctx.principal);
    },
  }),
  revokeSigningKey: t.boolean({
    description: 'Revokes a signing key at once; false when it was already revoked.',
    args: { id: t.arg.string({ required: true }) },
    ...queueAction('MANAGE', queueOfSigningKey),
    resolve: (_root, args, ctx) => ctx.producerKeys.revoke(args.id, ctx.principal),
  }),
  rotateEvqSigningKey: t.string({
    description: "Makes evq's next signing key current and publishes a new next key; returns the new current key id.",
    ...requires('ADMIN'),
    resolve: async (_root, _args, ctx) => {
      const kid = await ctx.evqKeys.rotate();
      ctx.access.audit.changed('rotated', 'evq signing key', kid, ctx.principal, {});
      return kid;
    },
  }),
}));
