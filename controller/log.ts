// The daemon's logger: pino, JSON lines on stderr. Components and controllers take child loggers
// (`controller`, `key`, `component`) so every line says where it came from.
import { pino, type Level, type Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export function createLogger(level: LogLevel = 'info', destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino({ name: 'slvd', level: level as Level | 'silent' }, destination);
}
