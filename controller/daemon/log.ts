// The daemon's logger: pino, JSON lines on stderr. Components and controllers take child loggers
// (`controller`, `key`, `component`) so every line says where it came from.
import { pino, type Logger } from 'pino';
import type { LogLevel } from '../../schemas/config.js';

export { LOG_LEVELS, type LogLevel } from '../../schemas/config.js';

export function createLogger(level: LogLevel): Logger {
  return pino({ name: 'slvd', level }, process.stderr);
}
