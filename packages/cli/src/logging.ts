import { createRequire } from 'node:module';
import type { Logger as PinoLogger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

type Method = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
const METHODS: readonly Method[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** What commands log through: pino's level methods. */
export type Logger = Pick<PinoLogger, Method>;

/**
 * Logs go to stderr so stdout carries only results (and stays parseable with --json).
 * pino (~30 CommonJS files) loads on the first message at an enabled level: at the default
 * level (warn) most commands never log, and should not pay for loading it. Calls below the
 * level do nothing, as pino's own would.
 */
export function createLogger(level: LogLevel): Logger {
  let pinoLogger: PinoLogger | undefined;
  const real = (): PinoLogger => {
    if (!pinoLogger) {
      const { pino } = createRequire(import.meta.url)('pino') as typeof import('pino');
      pinoLogger = pino({ level, base: undefined }, pino.destination({ fd: 2, sync: true }));
    }
    return pinoLogger;
  };
  const rank = LOG_LEVELS.indexOf(level);
  const noop = () => {};
  const logger = {} as Record<Method, (...args: unknown[]) => void>;
  for (const m of METHODS) {
    logger[m] =
      LOG_LEVELS.indexOf(m) >= rank
        ? (...args: unknown[]) => {
            const l = real();
            (l[m] as (...a: unknown[]) => void).apply(l, args);
          }
        : noop;
  }
  return logger as unknown as Logger;
}
