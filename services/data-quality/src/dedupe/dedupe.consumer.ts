import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { Bus, type BatchResult, type Outgoing } from '@mlops/bus';
import { EVENTS, topicName, type CleanEvent } from '@mlops/contracts';
import { HealthRegistry, LOGGER } from '@mlops/observability';
import { DQ_CONFIG, type DataQualityConfig } from '../config';
import { DedupeWindow } from './dedupe-window';

/** Changelog key of an id in the window. */
const entryKey = (dataset: string, id: string) => `${dataset}:${id}`;

/**
 * `events.validated.v1` → `events.clean.v1` without exact duplicates (same `ce_id`), exactly
 * once. The window's changes go to a compacted changelog in the same transaction as the clean
 * events and the input offsets; at start the window is read back from it, so a crash neither
 * lets a duplicate through nor drops an event.
 *
 * The window is one per process, read back at start: right for one instance. Several
 * instances need it scoped to input partitions and restored on assignment (the full
 * data-quality stage does that).
 */
@Injectable()
export class DedupeConsumer implements OnApplicationBootstrap {
  private readonly window: DedupeWindow;
  private restored = false;

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(DQ_CONFIG) config: DataQualityConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly health: HealthRegistry,
  ) {
    this.window = new DedupeWindow(config.DQ_DEDUPE_WINDOW);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.health.addReadiness('dedupe-window', () => ({
      ok: this.restored,
      details: { ids: this.window.size },
    }));
    const changelog = topicName('dataQualityDedupe', this.bus.prefix);
    const sub = this.bus.subscribe({
      name: 'dedupe',
      groupId: 'data-quality.dedupe',
      event: EVENTS.validatedEvent,
      delivery: 'exactly-once',
      handler: async (events): Promise<BatchResult> => {
        const outputs: Outgoing[] = [];
        const staged = new Map<string, { id: string; seenAt: string; dataset: string }>();
        const now = new Date().toISOString();
        for (const e of events) {
          const key = entryKey(e.data.dataset, e.attrs.id);
          if (this.window.has(key) || staged.has(key)) continue;
          staged.set(key, { id: key, seenAt: now, dataset: e.data.dataset });
          const clean: CleanEvent = { ...e.data, quality: { flags: [] } };
          outputs.push({
            event: EVENTS.cleanEvent,
            key: e.key ?? key,
            data: clean,
            attrs: {
              id: e.attrs.id,
              traceparent: e.attrs.traceparent,
              subject: e.data.dataset,
              time: e.attrs.time,
            },
          });
          outputs.push({
            event: EVENTS.dedupeEntry,
            key,
            data: { dataset: e.data.dataset, eventId: e.attrs.id, seenAt: now },
            attrs: { id: `dedupe:${key}` },
          });
        }
        // Ids leaving the window are deleted from the changelog in the same transaction.
        for (const evicted of this.window.wouldEvict([...staged.keys()])) {
          outputs.push({ topic: changelog, key: evicted, value: null });
        }
        return {
          outputs,
          onCommitted: () => {
            this.window.commit([...staged.values()]);
          },
        };
      },
    });
    // Fence first: a transaction the previous process left open would otherwise hide, from the
    // read back, the changelog records that other partitions' transactions committed after it.
    await sub.fence();
    await this.restore();
    await sub.start();
  }

  /** Reads the changelog to its end (committed records only) into the window. */
  private async restore(): Promise<void> {
    const started = Date.now();
    const table = this.bus.table({ name: 'dedupe-changelog', event: EVENTS.dedupeEntry });
    await table.start(120_000);
    const entries = [...table.entries()].sort((a, b) => a[1].seenAt.localeCompare(b[1].seenAt));
    for (const [key, entry] of entries) this.window.restore(key, entry.seenAt);
    this.window.commit([]);
    await table.stop();
    this.restored = true;
    this.logger.info({ ids: this.window.size, ms: Date.now() - started }, 'dedupe window restored');
  }
}
