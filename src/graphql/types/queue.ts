import type { QueueConfig, QueueSettings } from '../../engines/engine.ts';
import type { QueueStatsView } from '../../queues/queue-service.ts';
import { canSee } from '../../auth/grants.ts';
import { queueAction, requires } from '../auth.ts';
import { builder } from '../builder.ts';

const QueueStatsType = builder.objectRef<QueueStatsView>('QueueStats').implement({
  description: 'Counts for one consumer group of a queue; `published` counts the whole queue.',
  fields: (t) => ({
    ready: t.exposeInt('ready', { description: 'Messages the group can receive now.' }),
    inFlight: t.exposeInt('inFlight', { description: 'Messages leased and not yet acked.' }),
    delayed: t.exposeInt('delayed', { description: 'Messages waiting for deliverAt or a nack delay.' }),
    deadLettered: t.exposeInt('deadLettered', { description: 'Messages in the dead-letter queue.' }),
    published: t.exposeInt('published', { description: 'Messages stored and not yet removed by retention or purge.' }),
    consumers: t.exposeInt('consumers', { description: 'Open subscriptions on this evq instance.' }),
  }),
});

export const QueueType = builder.objectRef<QueueConfig>('Queue').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    partitions: t.exposeInt('partitions'),
    retentionSeconds: t.exposeInt('retentionSeconds'),
    visibilityTimeoutSeconds: t.exposeInt('visibilityTimeoutSeconds'),
    maxAttempts: t.exposeInt('maxAttempts'),
    requireSignature: t.exposeBoolean('requireSignature'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    stats: t.field({
      type: QueueStatsType,
      args: { group: t.arg.string({ defaultValue: 'default', required: true }) },
      resolve: (queue, args, ctx) => ctx.service.stats(queue.name, args.group),
    }),
  }),
});

const CreateQueueInput = builder.inputType('CreateQueueInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    partitions: t.int({ description: 'Partitions, 1 to 64; fixed after creation. Default 1.' }),
    retentionSeconds: t.int({ description: 'How long messages are kept. Default 604800 (7 days).' }),
    visibilityTimeoutSeconds: t.int({ description: 'Default lease length of receive. Default 30.' }),
    maxAttempts: t.int({ description: 'Deliveries before a message is dead-lettered. Default 5.' }),
    requireSignature: t.boolean({ description: 'Reject unsigned publishes. Default false.' }),
  }),
});

const UpdateQueueInput = builder.inputType('UpdateQueueInput', {
  fields: (t) => ({
    retentionSeconds: t.int(),
    visibilityTimeoutSeconds: t.int(),
    maxAttempts: t.int(),
    requireSignature: t.boolean(),
  }),
});

/** Drops null fields, which GraphQL clients send for "not given". */
function settingsFrom(input: Record<string, unknown>): QueueSettings {
  const settings: Record<string, unknown> = {};
  for (const field of ['partitions', 'retentionSeconds', 'visibilityTimeoutSeconds', 'maxAttempts', 'requireSignature']) {
    if (input[field] != null) settings[field] = input[field];
  }
  return settings as QueueSettings;
}

/** MANAGE on the queue that the `name` argument names. */
const manage = queueAction('MANAGE', (args: { name: string }) => ({ queue: args.name, keys: null }));

builder.queryFields((t) => ({
  queue: t.field({
    type: QueueType,
    nullable: true,
    description: 'The queue, or null when it does not exist or no grant of the caller names it.',
    ...requires('AUTHENTICATED'),
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => (canSee(ctx.principal, args.name) ? ctx.service.getQueue(args.name) : null),
  }),
  queues: t.field({
    type: [QueueType],
    description: 'Queues whose names start with prefix, of those that a grant of the caller names.',
    ...requires('AUTHENTICATED'),
    args: { prefix: t.arg.string() },
    resolve: async (_root, args, ctx) => (await ctx.service.listQueues(args.prefix)).filter((queue) => canSee(ctx.principal, queue.name)),
  }),
}));

builder.mutationFields((t) => ({
  createQueue: t.field({
    type: QueueType,
    args: { input: t.arg({ type: CreateQueueInput, required: true }) },
    ...queueAction('MANAGE', (args: { input: { name: string } }) => ({ queue: args.input.name, keys: null })),
    resolve: (_root, { input }, ctx) => ctx.service.createQueue(input.name, settingsFrom(input)),
  }),
  updateQueue: t.field({
    type: QueueType,
    args: { name: t.arg.string({ required: true }), input: t.arg({ type: UpdateQueueInput, required: true }) },
    ...manage,
    resolve: (_root, args, ctx) => ctx.service.updateQueue(args.name, settingsFrom(args.input)),
  }),
  deleteQueue: t.boolean({
    description: 'Deletes the queue with its messages and revokes its queue keys and signing keys; false when it did not exist.',
    args: { name: t.arg.string({ required: true }) },
    ...manage,
    resolve: async (_root, args, ctx) => {
      const deleted = await ctx.service.deleteQueue(args.name);
      await ctx.access.store.revokeQueueKeys(args.name, ctx.principal);
      await ctx.producerKeys.revokeAll(args.name, ctx.principal);
      return deleted;
    },
  }),
  purgeQueue: t.boolean({
    description: 'Removes every message, lease and dead letter; cursors from before fail with CURSOR_EXPIRED.',
    args: { name: t.arg.string({ required: true }) },
    ...manage,
    resolve: async (_root, args, ctx) => {
      await ctx.service.purgeQueue(args.name);
      return true;
    },
  }),
}));
