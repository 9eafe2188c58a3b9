import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/auth/rate-limiter.ts';
import { EvqError } from '../../src/errors.ts';

const start = 1_700_000_000_000;

/** Runs `action` and returns the EvqError it throws; fails the test when it throws nothing else. */
function thrown(action: () => unknown): EvqError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(EvqError);
    return error as EvqError;
  }
  throw new Error('expected an EvqError, but nothing was thrown');
}

describe('RateLimiter', () => {
  it('allows the burst, then rejects with RATE_LIMITED', () => {
    const limiter = new RateLimiter(5, 5);
    for (let i = 0; i < 5; i++) limiter.take('service:a', 1, start);

    const error = thrown(() => limiter.take('service:a', 1, start));
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.status).toBe(429);
    expect(error.retryable).toBe(true);
    expect(error.message).toBe('Publish rate limit of 5 messages per second (bursts up to 5) reached; retry after 1 s.');
    expect(error.details).toEqual({ principal: 'service:a', limit: 5, burst: 5, requested: 1, retryAfterSeconds: 1 });
  });

  it('rounds retryAfterSeconds up to whole seconds', () => {
    const limiter = new RateLimiter(2, 10);
    limiter.take('service:a', 10, start);

    const error = thrown(() => limiter.take('service:a', 5, start));
    expect(error.details).toEqual({ principal: 'service:a', limit: 2, burst: 10, requested: 5, retryAfterSeconds: 3 });
  });

  it('takes nothing from a rejected request', () => {
    const limiter = new RateLimiter(1, 3);
    limiter.take('service:a', 2, start);

    expect(thrown(() => limiter.take('service:a', 2, start)).code).toBe('RATE_LIMITED');
    expect(() => limiter.take('service:a', 1, start)).not.toThrow();
  });

  it('refills at the rate over time', () => {
    const limiter = new RateLimiter(5, 5);
    limiter.take('service:a', 5, start);

    expect(thrown(() => limiter.take('service:a', 1, start + 100)).code).toBe('RATE_LIMITED');
    // 200 ms at 5 per second adds one token, 100 ms of it already counted by the rejected call.
    expect(() => limiter.take('service:a', 1, start + 200)).not.toThrow();
    expect(thrown(() => limiter.take('service:a', 1, start + 200)).code).toBe('RATE_LIMITED');
    expect(() => limiter.take('service:a', 3, start + 800)).not.toThrow();
  });

  it('refills no further than the burst', () => {
    const limiter = new RateLimiter(5, 5);
    limiter.take('service:a', 1, start);

    expect(() => limiter.take('service:a', 5, start + 60_000)).not.toThrow();
    const error = thrown(() => limiter.take('service:a', 1, start + 60_000));
    expect(error.details.retryAfterSeconds).toBe(1);
  });

  it('is off at rate 0', () => {
    const limiter = new RateLimiter(0, 1);
    for (let i = 0; i < 1000; i++) limiter.take('service:a', 100, start);
  });

  it('keeps a bucket per principal', () => {
    const limiter = new RateLimiter(5, 5);
    limiter.take('service:a', 5, start);

    expect(thrown(() => limiter.take('service:a', 1, start)).details.principal).toBe('service:a');
    expect(() => limiter.take('service:b', 5, start)).not.toThrow();
    expect(thrown(() => limiter.take('service:b', 1, start)).details.principal).toBe('service:b');
  });

  it('keeps buckets of many principals independent', () => {
    const limiter = new RateLimiter(1, 2);
    for (let i = 0; i < 4000; i++) limiter.take(`service:${i}`, 2, start);

    expect(thrown(() => limiter.take('service:0', 1, start)).code).toBe('RATE_LIMITED');
    expect(thrown(() => limiter.take('service:3999', 1, start)).code).toBe('RATE_LIMITED');
  });

  it('drops the earliest buckets past 10000 principals', () => {
    const limiter = new RateLimiter(1, 2);
    for (let i = 0; i < 10_500; i++) limiter.take(`service:${i}`, 2, start);

    expect(() => limiter.take('service:0', 2, start)).not.toThrow();
    expect(thrown(() => limiter.take('service:10499', 1, start)).code).toBe('RATE_LIMITED');
  });

  it('rejects a request larger than the burst as bad input', () => {
    const limiter = new RateLimiter(5, 5);
    const error = thrown(() => limiter.take('service:a', 6, start));

    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.retryable).toBe(false);
    expect(error.details).toEqual({ field: 'messages', value: 6 });
    expect(() => limiter.take('service:a', 5, start)).not.toThrow();
  });
});
