import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './paths';

/** One figure over the measured runs (warm-up excluded). */
export interface Summary {
  median: number;
  min: number;
  max: number;
}

/** An issue's target for a ratio: the value must be ≥ min and ≤ max where given. */
export interface Target {
  min?: number;
  max?: number;
}

/** `bench/results/<name>.json`, in the shape of /work/shared/BENCH.md. */
export interface BenchResult {
  name: string;
  machine: { cpus: number; node: string };
  runs: number;
  figures: Record<string, Summary>;
  ratios: Record<string, number>;
  targets: Record<string, Target>;
  /** What a reader needs to interpret the figures (subsets, what the timer covers). */
  notes?: string[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Rounds to a number of significant digits that a 2-core shared machine can justify. */
export function round(value: number, digits = 4): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const scale = 10 ** Math.max(0, digits - 1 - magnitude);
  return Math.round(value * scale) / scale;
}

export function summarise(values: readonly number[]): Summary {
  return {
    median: round(median(values)),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
  };
}

export function machine(): BenchResult['machine'] {
  return { cpus: os.availableParallelism?.() ?? os.cpus().length, node: process.version };
}

export function targetHeld(value: number, target: Target): boolean {
  return (
    (target.min === undefined || value >= target.min) &&
    (target.max === undefined || value <= target.max)
  );
}

/**
 * Collects the measurements of one benchmark: raw values per figure over the measured runs,
 * then ratios of medians (candidate ÷ baseline, both from this run) and the targets.
 */
export class Recorder {
  private readonly values = new Map<string, number[]>();
  private readonly ratioDefs: { name: string; candidate: string; baseline: string }[] = [];
  private readonly derived: {
    name: string;
    compute: (median: (figure: string) => number) => number;
  }[] = [];
  private readonly targets: Record<string, Target> = {};
  private readonly notes: string[] = [];

  constructor(readonly name: string) {}

  /** Fixes the order in which figures are reported (else: order of the first `add`). */
  declare(...figures: string[]): void {
    for (const f of figures) if (!this.values.has(f)) this.values.set(f, []);
  }

  /** One measured value of a figure (call once per run; warm-ups are not recorded). */
  add(figure: string, value: number): void {
    let list = this.values.get(figure);
    if (!list) this.values.set(figure, (list = []));
    list.push(value);
  }

  /** `name` = median(candidate) ÷ median(baseline). */
  ratio(name: string, candidate: string, baseline: string, target?: Target): void {
    this.ratioDefs.push({ name, candidate, baseline });
    if (target) this.targets[name] = target;
  }

  /**
   * A tracked value that is not a quotient of two figures (a difference, say), computed from
   * the figures' medians.
   */
  derive(
    name: string,
    compute: (median: (figure: string) => number) => number,
    target?: Target,
  ): void {
    this.derived.push({ name, compute });
    if (target) this.targets[name] = target;
  }

  note(text: string): void {
    this.notes.push(text);
  }

  result(): BenchResult {
    const figures: Record<string, Summary> = {};
    for (const [name, list] of this.values) if (list.length > 0) figures[name] = summarise(list);
    const ratios: Record<string, number> = {};
    for (const r of this.ratioDefs) {
      const c = this.values.get(r.candidate);
      const b = this.values.get(r.baseline);
      if (!c?.length || !b?.length) continue; // a pipeline left out of this run (profiling)
      ratios[r.name] = round(median(c) / median(b), 3);
    }
    for (const d of this.derived) {
      const value = d.compute((figure) => {
        const list = this.values.get(figure);
        if (!list?.length) throw new Error(`${d.name}: no values of ${figure}`);
        return median(list);
      });
      ratios[d.name] = round(value, 3);
    }
    const runs = Math.min(
      ...[...this.values.values()].filter((v) => v.length > 0).map((v) => v.length),
    );
    return {
      name: this.name,
      machine: machine(),
      runs: Number.isFinite(runs) ? runs : 0,
      figures,
      ratios,
      targets: { ...this.targets },
      ...(this.notes.length > 0 ? { notes: [...this.notes] } : {}),
    };
  }
}

export function resultPath(name: string): string {
  return path.join(repoRoot(), 'bench', 'results', `${name}.json`);
}

export function writeResult(result: BenchResult): string {
  const file = resultPath(result.name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

const num = (v: number) =>
  Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : String(v);

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The same figures as the JSON file, as a readable table. */
export function formatResult(result: BenchResult): string {
  const out: string[] = [];
  out.push(
    `${result.name}: ${result.runs} measured runs after a warm-up · ${result.machine.cpus} cpus · node ${result.machine.node}`,
    '',
  );
  out.push(
    table(
      ['figure', 'median', 'min', 'max'],
      Object.entries(result.figures).map(([name, s]) => [
        name,
        num(s.median),
        num(s.min),
        num(s.max),
      ]),
    ),
  );
  const ratioNames = new Set([...Object.keys(result.ratios), ...Object.keys(result.targets)]);
  if (ratioNames.size > 0) {
    out.push('');
    out.push(
      table(
        ['ratio', 'value', 'target', 'status'],
        [...ratioNames].map((name) => {
          const value = result.ratios[name];
          const t = result.targets[name];
          const target = t
            ? [t.min !== undefined ? `≥ ${t.min}` : '', t.max !== undefined ? `≤ ${t.max}` : '']
                .filter(Boolean)
                .join(', ')
            : '';
          const status = !t
            ? ''
            : value === undefined
              ? 'not measured'
              : targetHeld(value, t)
                ? 'held'
                : 'FAILED';
          return [name, value === undefined ? '-' : String(value), target, status];
        }),
      ),
    );
  }
  if (result.notes?.length) {
    out.push('', ...result.notes.map((n) => `note: ${n}`));
  }
  return out.join('\n');
}

/** Writes `bench/results/<name>.json` and prints the same figures. */
export function report(result: BenchResult): void {
  const file = writeResult(result);
  process.stdout.write(
    `\n${formatResult(result)}\n\nwrote ${path.relative(process.cwd(), file) || file}\n`,
  );
}
