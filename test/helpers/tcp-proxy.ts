import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a loopback server. `cut()` resets every open connection and
 * every new one until `restore()`, as a network outage would, so HTTP keep-alive connections and
 * WebSockets through it drop at once.
 */
export interface TcpProxy {
  /** http://127.0.0.1:<port> of the proxy. */
  url: string;
  /** Connections accepted and forwarded so far. */
  readonly connections: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  if (target.hostname !== '127.0.0.1' && target.hostname !== '[::1]') throw new Error(`The proxy forwards only to loopback, not to ${target.hostname}.`);
  const open = new Set<Socket>();
  let down = false;
  let connections = 0;

  const server: Server = createServer((client) => {
    if (down) {
      client.resetAndDestroy();
      return;
    }
    connections++;
    const upstream = createConnection({ host: target.hostname.replace(/^\[|\]$/g, ''), port: Number(target.port) });
    open.add(client);
    open.add(upstream);
    const end = () => {
      open.delete(client);
      open.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    cut() {
      down = true;
      for (const socket of open) socket.resetAndDestroy();
      open.clear();
    },
    restore() {
      down = false;
    },
    async close() {
      for (const socket of open) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
