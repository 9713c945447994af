// The daemon's logger: pino. Components and controllers take child loggers (`controller`,
// `component`, `key`) so every line says where it came from. On a terminal the lines are for
// people (time, level, where, message, fields); otherwise, or with --log-format json, one JSON
// object per line for journald and log shippers. Errors a user made (a bad config file, a bad
// request) are logged with their message only; a stack trace is for bugs.
import { pino, stdSerializers, type Logger } from 'pino';
import { SlvError, UsageError } from '../../resources/errors.js';
import type { LogFormat, LogLevel } from '../../schemas/config.js';

export { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../../schemas/config.js';

/** pino's numeric levels, as the readable lines name them. */
const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const LEVEL_COLOURS: Record<number, number> = { 10: 90, 20: 90, 30: 32, 40: 33, 50: 31, 60: 31 };
/** Fields every line has, or that the readable line shows in its own place. */
const SHOWN_ELSEWHERE = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'component', 'controller', 'err']);

interface SerializedError {
  type?: string;
  message?: string;
  stack?: string;
}

/** A user's mistake is its message; anything else keeps pino's full serialization, stack included. */
export function serializeError(error: unknown): unknown {
  if (error instanceof UsageError || error instanceof SlvError) return { type: error.name, message: error.message };
  return error instanceof Error ? stdSerializers.err(error) : error;
}

function fieldText(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

/** One pino JSON line as a line for people: `12:00:01.123 INFO  [plc] synced created=2`. */
export function readableLine(json: string, colour: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json; // not ours to reformat
  }
  const paint = (code: number, text: string) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  const level = Number(entry.level);
  const time = new Date(Number(entry.time)).toISOString().slice(11, 23);
  const where = [entry.component, entry.controller].filter((w) => typeof w === 'string').join('/');
  const fields = Object.entries(entry)
    .filter(([key]) => !SHOWN_ELSEWHERE.has(key))
    .map(([key, value]) => `${paint(90, `${key}=`)}${fieldText(value)}`);
  const error = entry.err as SerializedError | undefined;
  const errorText = error ? ` ${paint(31, `error: ${error.message ?? ''}`)}${error.stack ? `\n${error.stack.split('\n').slice(1).join('\n')}` : ''}` : '';
  const levelName = (LEVEL_NAMES[level] ?? String(level)).padEnd(5);
  return `${paint(90, time)} ${paint(LEVEL_COLOURS[level] ?? 0, levelName)} ${where ? `${paint(36, `[${where}]`)} ` : ''}${String(entry.msg ?? '')}${fields.length ? ` ${fields.join(' ')}` : ''}${errorText}\n`;
}

interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** `auto`: readable on a terminal, JSON otherwise. */
export function resolveLogFormat(format: LogFormat, output: Output = process.stderr): 'pretty' | 'json' {
  if (format !== 'auto') return format;
  return output.isTTY ? 'pretty' : 'json';
}

export function createLogger(level: LogLevel, format: LogFormat = 'auto', output: Output = process.stderr): Logger {
  const options = { name: 'slvd', level, serializers: { err: serializeError } };
  if (resolveLogFormat(format, output) === 'json') return pino(options, output as NodeJS.WritableStream);
  const colour = Boolean(output.isTTY) && !process.env.NO_COLOR;
  // pino writes each line whole and synchronously to this destination: reformatting costs no ordering.
  return pino(options, { write: (line: string) => output.write(readableLine(line, colour)) });
}
