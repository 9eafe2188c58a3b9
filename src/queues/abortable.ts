/**
 * Wraps an async generator so that `return()` and `throw()` from the consumer abort the signal it
 * was given. A plain generator suspended in an `await` only handles `return()` after that await
 * settles, which would keep an unsubscribed client's long-poll running for up to its full wait.
 * `onEnd` runs once when the generator completes or the consumer stops it, even before the first
 * `next()`, when the generator's own `finally` blocks never run.
 */
export function abortable<T>(
  make: (signal: AbortSignal) => AsyncGenerator<T>,
  parent?: AbortSignal,
  onEnd: () => void = () => {},
): AsyncGenerator<T> {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onParentAbort, { once: true });

  const generator = make(controller.signal);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    parent?.removeEventListener('abort', onParentAbort);
    onEnd();
  };
  const stop = async <R>(result: Promise<IteratorResult<T, R>>): Promise<IteratorResult<T, R>> => {
    controller.abort();
    try {
      return await result;
    } finally {
      end();
    }
  };

  const wrapped: AsyncGenerator<T> = {
    next: async (...args) => {
      const result = await generator.next(...args);
      if (result.done) end();
      return result;
    },
    return: (value) => stop(generator.return(value)),
    throw: (error) => stop(generator.throw(error)),
    [Symbol.asyncIterator]() {
      return wrapped;
    },
    [Symbol.asyncDispose]: async () => {
      await stop(generator.return(undefined));
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
