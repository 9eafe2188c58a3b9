import { type ChildProcess, fork } from 'node:child_process';

/** Admin token that the benchmarks give the evq servers they start. */
export const benchToken = 'bench-admin-token-0123456789abcdef';

/**
 * NODE_ENV of the servers: production unless set, as a deployment would run, because graphql-js
 * runs slower development checks otherwise.
 */
export const benchNodeEnv = process.env.NODE_ENV ?? 'production';

/** Starts a server script of bench/servers in a child process and waits for the port it reports. */
export async function startServer(script: string): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(script, {
    env: { ...process.env, NODE_ENV: benchNodeEnv, EVQ_ADMIN_TOKEN: benchToken },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

/** Stops a server started by startServer and waits until it has exited. */
export async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
