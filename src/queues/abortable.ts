/**
 * Wraps an async generator so that `return()` and `throw()` from the consumer abort the signal it
 * was given. A plain generator suspended in an `await` only sees `return()` after that await
 * settles, which would keep an unsubscribed client's long-poll running for up to its full wait.
 */
export function abortable<T>(
  make: (signal: AbortSignal) => AsyncGenerator<T>,
  parent?: AbortSignal,
): AsyncGenerator<T> {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onParentAbort, { once: true });

  const generator = make(controller.signal);
  const stop = () => {
    controller.abort();
    parent?.removeEventListener('abort', onParentAbort);
  };

  const wrapped: AsyncGenerator<T> = {
    next: (...args) => generator.next(...args),
    return: (value) => {
      stop();
      return generator.return(value);
    },
    throw: (error) => {
      stop();
      return generator.throw(error);
    },
    [Symbol.asyncIterator]() {
      return wrapped;
    },
    [Symbol.asyncDispose]: async () => {
      stop();
      await generator.return(undefined);
    },
  };
  return wrapped;
}

/** Resolves after `ms` milliseconds, or at once when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
