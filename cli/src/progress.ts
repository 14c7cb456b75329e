import { formatNumber, formatRate } from './format';

/** What a produce run has done so far. */
export interface ProgressState {
  sent: number;
  rejected: number;
  elapsedMs: number;
  /** Share of the input read (bytes), when the input's size is known. */
  fraction?: number;
  /** Waiting for the service (429): how long. */
  waitingMs?: number;
}

/**
 * One progress line: "[██████░░░░░░░░░░]  38%  12,000 sent  4,166/s  12 rejected". Without a
 * known size the bar is left out. Pure: the caller writes it after "\r" on a TTY.
 */
export function formatProgress(p: ProgressState, barWidth = 24): string {
  const parts: string[] = [];
  if (p.fraction !== undefined && Number.isFinite(p.fraction)) {
    const f = Math.min(1, Math.max(0, p.fraction));
    const filled = Math.round(f * barWidth);
    parts.push(
      `[${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}] ${String(Math.floor(f * 100)).padStart(3)}%`,
    );
  }
  parts.push(`${formatNumber(p.sent)} sent`);
  parts.push(formatRate(p.sent, p.elapsedMs));
  parts.push(`${formatNumber(p.rejected)} rejected`);
  if (p.waitingMs !== undefined && p.waitingMs > 0)
    parts.push(`(backpressure: retrying in ${(p.waitingMs / 1000).toFixed(1)} s)`);
  return parts.join('  ');
}

/** Writes progress lines in place on a TTY, at most every `intervalMs`. */
export class ProgressLine {
  private last = 0;
  private shown = false;

  constructor(
    private readonly write: (s: string) => void,
    private readonly now: () => number,
    private readonly columns: () => number,
    private readonly intervalMs = 100,
  ) {}

  update(p: ProgressState, force = false): void {
    const t = this.now();
    if (!force && t - this.last < this.intervalMs) return;
    this.last = t;
    const cols = this.columns();
    const width = (cols > 0 ? cols : 80) - 1;
    let line = formatProgress(p);
    // Narrow terminal: the bar goes first, then the line is cut (a wrapped line cannot be redrawn).
    if (line.length > width) line = formatProgress({ ...p, fraction: undefined });
    this.write(`\r${line.slice(0, Math.max(10, width))}\x1b[K`);
    this.shown = true;
  }

  /** Clears the line so that what follows starts at column 0. */
  done(): void {
    if (this.shown) this.write('\r\x1b[K');
    this.shown = false;
  }
}
