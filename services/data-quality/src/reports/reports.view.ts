import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Bus, type CompactedTable } from '@mlops/bus';
import { EVENTS, type QualityReportEvent } from '@mlops/contracts';
import { HealthRegistry } from '@mlops/observability';

/**
 * The latest report of every dataset and input partition, read from quality.reports.v1 (from
 * the beginning at start, then as they come): whichever instance owns a partition, every
 * instance answers for the whole dataset.
 */
@Injectable()
export class ReportsView implements OnApplicationBootstrap {
  private readonly latest = new Map<string, Map<number, QualityReportEvent>>();
  private table: CompactedTable<typeof EVENTS.qualityReport> | undefined;
  private ready = false;

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly health: HealthRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.health.addReadiness('quality-reports', () => ({ ok: this.ready }));
    this.table = this.bus.table({
      name: 'quality-reports',
      event: EVENTS.qualityReport,
      onChange: (_key, report) => {
        if (report) this.add(report);
      },
    });
    await this.table.start(60_000);
    this.ready = true;
  }

  /** Keeps the newest report per partition (a replayed older one never wins). */
  add(report: QualityReportEvent): void {
    let byPartition = this.latest.get(report.dataset);
    if (!byPartition) {
      byPartition = new Map<number, QualityReportEvent>();
      this.latest.set(report.dataset, byPartition);
    }
    const prev = byPartition.get(report.partition);
    if (!prev || report.cumulative.records >= prev.cumulative.records) {
      byPartition.set(report.partition, report);
    }
  }

  reports(dataset: string): QualityReportEvent[] {
    return [...(this.latest.get(dataset)?.values() ?? [])];
  }

  /** Waits (bounded) until the view has read every report written so far. */
  async sync(timeoutMs = 5_000): Promise<void> {
    await this.table?.sync(timeoutMs);
  }
}
