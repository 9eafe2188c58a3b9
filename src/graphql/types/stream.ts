import { validateKey } from '../../queues/validation.ts';
import { queueAction } from '../auth.ts';
import { builder } from '../builder.ts';
import type { StreamEvent } from '../../queues/stream-hub.ts';
import { MessageType, PollResultType } from './message.ts';

export const StreamStartType = builder.enumType('StreamStart', {
  values: {
    EARLIEST: { description: 'The earliest retained message.' },
    LATEST: { description: 'Only messages published after the subscription starts.' },
  } as const,
});

/** CONSUME on the queue, for the messages of the `key` argument (every key when it is absent). */
const consumeKey = queueAction('CONSUME', (args: { queue: string; key?: string | null }) => ({ queue: args.queue, keys: [args.key ?? null] }));

builder.queryFields((t) => ({
  poll: t.field({
    type: PollResultType,
    description:
      'Reads the stream after a cursor (from the earliest retained message when none) without side effects, ' +
      'waiting up to waitSeconds when nothing is there.',
    args: {
      queue: t.arg.string({ required: true }),
      after: t.arg({ type: 'Cursor' }),
      limit: t.arg.int({ defaultValue: 100, required: true }),
      waitSeconds: t.arg.int({ defaultValue: 0, required: true }),
      key: t.arg.string({ description: 'Only messages with this key.' }),
    },
    ...consumeKey,
    resolve: (_root, args, ctx) =>
      ctx.service.poll(args.queue, {
        after: args.after ?? null,
        limit: args.limit,
        waitSeconds: args.waitSeconds,
        key: args.key ?? null,
        signal: ctx.signal(),
      }),
  }),
}));

builder.subscriptionFields((t) => ({
  messages: t.field({
    type: MessageType,
    description:
      'Every message of the queue, to every subscriber, from a cursor or from EARLIEST or LATEST (the default). ' +
      'A cursor older than retention ends the subscription with CURSOR_EXPIRED.',
    args: {
      queue: t.arg.string({ required: true }),
      after: t.arg({ type: 'Cursor' }),
      from: t.arg({ type: StreamStartType }),
      key: t.arg.string({ description: 'Only messages with this key; required when your grant has a key template.' }),
    },
    ...consumeKey,
    subscribe: async (_root, args, ctx) => {
      const key = validateKey(args.key);
      await ctx.service.requireQueue(args.queue);
      const start = ctx.service.parseStart(args.queue, { after: args.after ?? null, from: args.from ?? null }, 'latest');
      const release = ctx.service.trackConsumer(args.queue, 'messages');
      try {
        return await ctx.hub.subscribe(args.queue, start, { key, signal: ctx.signal(), onEnd: release });
      } catch (error) {
        release();
        throw error;
      }
    },
    resolve: (event: StreamEvent, _args, ctx) => {
      if (event.error) throw event.error;
      return ctx.service.view(event.entry.message, event.entry.after);
    },
  }),
}));
