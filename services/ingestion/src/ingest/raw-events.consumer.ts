import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Bus, type BatchResult, type Outgoing, type Rejection } from '@mlops/bus';
import { EVENTS, type RawEvent } from '@mlops/contracts';
import { SpecCatalog } from '@mlops/nest-kit';
import { planIngest } from './ingest.service';

/**
 * `ingest.raw.v1` → `events.validated.v1` / `events.rejected.v1`, exactly once: the outputs and
 * the input offsets commit in one transaction, so a crash re-validates nothing twice.
 */
@Injectable()
export class RawEventsConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly specs: SpecCatalog,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const sub = this.bus.subscribe({
      name: 'raw-events',
      groupId: 'ingestion.raw',
      event: EVENTS.rawEvent,
      delivery: 'exactly-once',
      handler: async (events): Promise<BatchResult> => {
        const outputs: Outgoing[] = [];
        const rejects: Rejection[] = [];
        const byDataset = new Map<string, typeof events>();
        for (const e of events) {
          const list = byDataset.get(e.data.dataset) ?? [];
          list.push(e);
          byDataset.set(e.data.dataset, list);
        }
        for (const [dataset, list] of byDataset) {
          const spec = await this.specs.resolve(dataset);
          if (!spec) {
            for (const event of list) {
              rejects.push({
                event,
                dataset,
                reasons: [
                  { code: 'unknown_dataset', message: `no dataset spec named "${dataset}"` },
                ],
              });
            }
            continue;
          }
          const rows = list.map(
            (e: {
              data: RawEvent;
              attrs: { id: string; traceparent?: string; source: string };
            }) => ({
              record: e.data.record,
              id: e.attrs.id,
              source: e.attrs.source,
              ...(e.attrs.traceparent ? { traceparent: e.attrs.traceparent } : {}),
            }),
          );
          const origin = this.bus.prefix + 'ingest.raw.v1';
          const plan = planIngest(spec, rows, 'kafka', origin, `kafka:${origin}`);
          // Dead letters of the Kafka path carry the original record's coordinates.
          plan.results.forEach((r, i) => {
            if (r.status === 'rejected')
              rejects.push({ event: list[i], dataset, reasons: r.reasons! });
          });
          outputs.push(
            ...plan.outputs.filter((o) => 'event' in o && o.event === EVENTS.validatedEvent),
          );
        }
        return { outputs, rejects };
      },
    });
    await sub.start();
  }
}
