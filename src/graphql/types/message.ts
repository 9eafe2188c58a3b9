import type { MessageView, PollResult, PublishResult } from '../../queues/queue-service.ts';
import { builder } from '../builder.ts';

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
