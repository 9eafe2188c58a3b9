import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';

/** The logger type every component takes; components add their ids with `logger.child({...})`. */
export type Logger = PinoLogger;

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Destination of the JSON lines; standard output when omitted. */
  destination?: NodeJS.WritableStream;
}

/** Creates the root JSON logger. Secrets and payloads must never be passed to it. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'evq' },
      redact: { paths: ['authorization', 'token', 'apiKey', 'secret', '*.authorization'], remove: true },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}

/** Creates a logger that drops everything, for tests and embedded use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
