import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import type { AccessControl } from '../auth/access-control.ts';
import type { Principal } from '../auth/principal.ts';
import type { Logger } from '../observability/logger.ts';
import { maskError } from './errors.ts';

/**
 * Authenticates each GraphQL request that arrives over HTTP or SSE before its document is
 * validated, so validation rules can depend on the caller (introspection is for admins in
 * production). A request without a valid credential gets UNAUTHENTICATED with status 401.
 * graphql-ws operations arrive with the principal that onConnect authenticated.
 */
export function useAuthentication(access: AccessControl, logger: Logger): Plugin<{ principal?: Principal }> {
  return {
    async onParams({ request, context, setResult }) {
      // `req` is the node:http request that Yoga's node adapter puts in the server context.
      const transport = context as { principal?: Principal; req?: IncomingMessage };
      if (transport.principal) return;
      const requestId = request.headers.get('x-request-id') ?? undefined;
      const remote = transport.req?.socket.remoteAddress;
      try {
        transport.principal = await access.authenticate(request.headers.get('authorization'), { transport: 'http', requestId, remote });
      } catch (error) {
        setResult({ errors: [maskError(error, logger, requestId)] });
      }
    },
  };
}
