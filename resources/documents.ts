// Documents users and peers send (YAML and JSON manifests, request bodies): how their parse errors read.
import { YAMLError } from 'yaml';

/** ` at line L, column C: what is wrong` for a YAML parse error (the library's own text repeats the place). */
export function describeYamlError(error: Error): string {
  const what = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const place = error instanceof YAMLError && error.linePos ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}` : '';
  return `${place}: ${what}`;
}
