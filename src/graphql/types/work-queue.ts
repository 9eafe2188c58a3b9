import type { AckOutcome, DeadLetter } from '../../engines/engine.ts';
import { streamDeliveries } from '../../queues/deliveries.ts';
import type { DeliveryView } from '../../queues/queue-service.ts';
import { validateInteger, validateName } from '../../queues/validation.ts';
import { queueAction } from '../auth.ts';
import { builder } from '../builder.ts';
import { MessageType } from './message.ts';

const DeliveryType = builder.objectRef<DeliveryView>('Delivery').implement({
  description: 'A message leased to one receiver; ack it with its receipt before visibleUntil.',
  fields: (t) => ({
    receipt: t.exposeString('receipt'),
    group: t.exposeString('group'),
    attempt: t.exposeInt('attempt', { description: '1 on the first delivery, then 1 more for each redelivery.' }),
    visibleUntil: t.expose('visibleUntil', { type: 'DateTime' }),
    message: t.field({ type: MessageType, resolve: (delivery) => delivery.message }),
  }),
});

const AckResultType = builder.objectRef<AckOutcome>('AckResult').implement({
  fields: (t) => ({
    receipt: t.exposeString('receipt'),
    acked: t.exposeBoolean('acked'),
    code: t.string({
      nullable: true,
      description: 'RECEIPT_INVALID when the receipt was not acked, otherwise null.',
      resolve: (outcome) => (outcome.acked ? null : 'RECEIPT_INVALID'),
    }),
    error: t.exposeString('error', { nullable: true, description: 'Why the receipt was not acked.' }),
  }),
});

const DeadLetterType = builder.objectRef<DeadLetter>('DeadLetter').implement({
  fields: (t) => ({
    message: t.field({ type: MessageType, resolve: (entry, _args, ctx) => ctx.service.view(entry.message, null) }),
    group: t.exposeString('group'),
    attempts: t.exposeInt('attempts'),
    lastError: t.exposeString('lastError', { nullable: true }),
    deadLetteredAt: t.expose('deadLetteredAt', { type: 'DateTime' }),
    cursor: t.string({ resolve: (entry) => String(entry.sequence), description: 'Pass as `after` for the next page.' }),
  }),
});

/**
 * CONSUME on the queue for any message key: a work-queue consumer can be handed a message of any
 * key, which a grant with a key template does not allow.
 */
const consume = queueAction('CONSUME', (args: { queue: string }) => ({ queue: args.queue, keys: null }));

builder.queryFields((t) => ({
  deadLetters: t.field({
    type: [DeadLetterType],
    args: {
      queue: t.arg.string({ required: true }),
      after: t.arg.string(),
      limit: t.arg.int({ defaultValue: 100, required: true }),
    },
    ...consume,
    resolve: async (_root, args, ctx) => (await ctx.service.deadLetters(args.queue, args.after, args.limit)).entries,
  }),
}));

builder.mutationFields((t) => ({
  receive: t.field({
    type: [DeliveryType],
    args: {
      queue: t.arg.string({ required: true }),
      group: t.arg.string({ defaultValue: 'default', required: true }),
      limit: t.arg.int({ defaultValue: 1, required: true }),
      waitSeconds: t.arg.int({ defaultValue: 0, required: true }),
      visibilitySeconds: t.arg.int({ description: "Lease length; the queue's visibilityTimeoutSeconds when omitted." }),
    },
    ...consume,
    resolve: (_root, args, ctx) =>
      ctx.service.receive(args.queue, {
        group: args.group,
        limit: args.limit,
        waitSeconds: args.waitSeconds,
        visibilitySeconds: args.visibilitySeconds ?? null,
        signal: ctx.signal(),
      }),
  }),
  ack: t.field({
    type: [AckResultType],
    args: { queue: t.arg.string({ required: true }), receipts: t.arg.stringList({ required: true }) },
    ...consume,
    resolve: (_root, args, ctx) => ctx.service.ack(args.queue, args.receipts),
  }),
  nack: t.boolean({
    description: 'Releases a delivery now, or after delaySeconds, recording error as its last error.',
    args: {
      queue: t.arg.string({ required: true }),
      receipt: t.arg.string({ required: true }),
      delaySeconds: t.arg.int({ defaultValue: 0, required: true }),
      error: t.arg.string(),
    },
    ...consume,
    resolve: async (_root, args, ctx) => {
      await ctx.service.nack(args.queue, args.receipt, args.delaySeconds, args.error ?? null);
      return true;
    },
  }),
  extendVisibility: t.field({
    type: 'DateTime',
    description: 'Sets the lease to end seconds from now; returns the new visibleUntil.',
    args: {
      queue: t.arg.string({ required: true }),
      receipt: t.arg.string({ required: true }),
      seconds: t.arg.int({ required: true }),
    },
    ...consume,
    resolve: (_root, args, ctx) => ctx.service.extendVisibility(args.queue, args.receipt, args.seconds),
  }),
  redrive: t.int({
    description: 'Moves up to limit dead letters back to the queue; returns how many moved.',
    args: { queue: t.arg.string({ required: true }), limit: t.arg.int({ defaultValue: 100, required: true }) },
    ...queueAction('MANAGE', (args: { queue: string }) => ({ queue: args.queue, keys: null })),
    resolve: (_root, args, ctx) => ctx.service.redrive(args.queue, args.limit),
  }),
}));

builder.subscriptionFields((t) => ({
  deliveries: t.field({
    type: DeliveryType,
    description: 'Work-queue push: at most maxInFlight unacked deliveries at a time; ack with the ack mutation.',
    args: {
      queue: t.arg.string({ required: true }),
      group: t.arg.string({ defaultValue: 'default', required: true }),
      maxInFlight: t.arg.int({ defaultValue: 10, required: true }),
      visibilitySeconds: t.arg.int(),
    },
    ...consume,
    subscribe: async (_root, args, ctx) => {
      validateName('group', args.group);
      const maxInFlight = validateInteger('maxInFlight', args.maxInFlight, 1, ctx.service.limits.maxInFlight);
      const config = await ctx.service.requireQueue(args.queue);
      const visibilitySeconds = ctx.service.validateVisibility(args.visibilitySeconds ?? config.visibilityTimeoutSeconds);
      return streamDeliveries(ctx.service, {
        queue: args.queue,
        group: args.group,
        maxInFlight,
        visibilitySeconds,
        signal: ctx.signal(),
      });
    },
    resolve: (event: DeliveryView | Error) => {
      if (event instanceof Error) throw event;
      return event;
    },
  }),
}));
