import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Bus, type BatchResult, type Outgoing, type Rejection } from '@mlops/bus';
import { EVENTS } from '@mlops/contracts';
import { SpecCatalog } from '@mlops/nest-kit';
import { numericVector } from './numeric-vector';

/** `events.clean.v1` → `features.v1`, exactly once, keeping each event's id. */
@Injectable()
export class FeaturesConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly specs: SpecCatalog,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const sub = this.bus.subscribe({
      name: 'features',
      groupId: 'feature.stream',
      event: EVENTS.cleanEvent,
      delivery: 'exactly-once',
      handler: async (events): Promise<BatchResult> => {
        const outputs: Outgoing[] = [];
        const rejects: Rejection[] = [];
        for (const e of events) {
          const spec = await this.specs.resolve(e.data.dataset);
          if (!spec) {
            rejects.push({
              event: e,
              reasons: [
                { code: 'unknown_dataset', message: `no dataset spec named "${e.data.dataset}"` },
              ],
            });
            continue;
          }
          outputs.push({
            event: EVENTS.featureVector,
            key: e.key ?? `${e.data.dataset}:${e.data.entityId}`,
            data: numericVector(spec, e.data),
            attrs: {
              id: e.attrs.id,
              traceparent: e.attrs.traceparent,
              subject: e.data.dataset,
              time: e.attrs.time,
            },
          });
        }
        return { outputs, rejects };
      },
    });
    await sub.start();
  }
}
