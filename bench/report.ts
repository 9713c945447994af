// One machine-readable line per figure: {"bench","metric","value","unit",...extra}.
export function report(bench: string, metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ bench, metric, value: Number(value.toFixed(3)), unit, ...extra })}\n`);
}
