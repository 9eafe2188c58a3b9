import { errorCodes } from '../errors.ts';

const errorResponse = {
  description: 'An error with a code from the error registry.',
  content: {
    'application/json': {
      schema: { $ref: '#/components/schemas/Error' },
    },
  },
};

const errorResponses = {
  '400': errorResponse,
  '401': errorResponse,
  '403': errorResponse,
  '404': errorResponse,
  '413': errorResponse,
  '429': { ...errorResponse, description: 'RATE_LIMITED; the Retry-After header gives the seconds to wait.' },
  '500': errorResponse,
  '503': errorResponse,
};

const message = {
  type: 'object',
  required: ['id', 'queue', 'data', 'headers', 'publishedAt', 'partition', 'offset'],
  properties: {
    id: { type: 'string' },
    queue: { type: 'string' },
    key: { type: ['string', 'null'] },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    data: { description: 'The JSON payload as published.' },
    publishedAt: { type: 'string', format: 'date-time' },
    deliverAt: { type: ['string', 'null'], format: 'date-time' },
    producer: { type: ['string', 'null'] },
    partition: { type: 'integer' },
    offset: { type: 'integer' },
  },
};

/** Builds the OpenAPI 3.1 document served at `/openapi.json`. */
export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'evq REST API',
      version,
      description:
        'Publish, receive and acknowledge messages without a GraphQL client. Every route takes a JSON body ' +
        'and `Authorization: Bearer <token>`, and answers errors as `{ error: { code, message, details, requestId } }`.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string', enum: Object.keys(errorCodes) },
                message: { type: 'string' },
                details: { type: 'object' },
                requestId: { type: 'string' },
              },
            },
          },
        },
        Message: message,
        PublishRequest: {
          type: 'object',
          required: ['queue', 'data'],
          properties: {
            queue: { type: 'string' },
            data: { description: 'Any JSON value, at most the payload limit (1 MiB by default) when serialized.' },
            key: { type: 'string', description: 'Messages with the same key keep their order.' },
            headers: { type: 'object', additionalProperties: { type: 'string' } },
            id: { type: 'string', description: 'Idempotency id; a repeat within the dedup window is not stored again.' },
            delaySeconds: { type: 'integer', minimum: 0 },
            deliverAt: { type: 'string', format: 'date-time' },
          },
        },
        PublishResult: {
          type: 'object',
          required: ['id', 'queue', 'cursor', 'duplicate'],
          properties: {
            id: { type: 'string' },
            queue: { type: 'string' },
            cursor: { type: 'string' },
            duplicate: { type: 'boolean' },
            partition: { type: 'integer' },
            offset: { type: 'integer' },
          },
        },
        Delivery: {
          type: 'object',
          required: ['receipt', 'group', 'attempt', 'visibleUntil', 'message'],
          properties: {
            receipt: { type: 'string' },
            group: { type: 'string' },
            attempt: { type: 'integer', minimum: 1 },
            visibleUntil: { type: 'string', format: 'date-time' },
            message: { $ref: '#/components/schemas/Message' },
          },
        },
      },
    },
    security: [{ bearer: [] }],
    paths: {
      '/queue/publish': {
        post: {
          summary: 'Publish one message',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/PublishRequest' } } } },
          responses: {
            '200': { description: 'Stored durably.', content: { 'application/json': { schema: { $ref: '#/components/schemas/PublishResult' } } } },
            ...errorResponses,
          },
        },
      },
      '/queue/receive': {
        post: {
          summary: 'Lease messages of a consumer group',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['queue'],
                  properties: {
                    queue: { type: 'string' },
                    group: { type: 'string', default: 'default' },
                    limit: { type: 'integer', minimum: 1, maximum: 100, default: 1 },
                    waitSeconds: { type: 'integer', minimum: 0, maximum: 20, default: 0 },
                    visibilitySeconds: { type: 'integer', minimum: 1, maximum: 43200 },
                  },
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'Leased deliveries, possibly none.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { deliveries: { type: 'array', items: { $ref: '#/components/schemas/Delivery' } } },
                  },
                },
              },
            },
            ...errorResponses,
          },
        },
      },
      '/queue/ack': {
        post: {
          summary: 'Acknowledge deliveries',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['queue', 'receipts'],
                  properties: { queue: { type: 'string' }, receipts: { type: 'array', items: { type: 'string' } } },
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'One result per receipt.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      results: {
                        type: 'array',
                        items: {
                          type: 'object',
                          properties: {
                            receipt: { type: 'string' },
                            acked: { type: 'boolean' },
                            code: { type: 'string', enum: ['RECEIPT_INVALID'], description: 'Set when acked is false.' },
                            error: { type: 'string', description: 'Why the receipt was not acked.' },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
            ...errorResponses,
          },
        },
      },
      '/queue/nack': {
        post: {
          summary: 'Release a delivery now or after a delay',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['queue', 'receipt'],
                  properties: {
                    queue: { type: 'string' },
                    receipt: { type: 'string' },
                    delaySeconds: { type: 'integer', minimum: 0, default: 0 },
                    error: { type: 'string' },
                  },
                },
              },
            },
          },
          responses: { '200': { description: 'Released.' }, ...errorResponses },
        },
      },
    },
  };
}
