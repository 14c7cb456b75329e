import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Bus, type BatchResult, type Outgoing, type Rejection } from '@mlops/bus';
import { EVENTS, type DatasetSpec, type FeatureVectorEvent } from '@mlops/contracts';
import { transform, type Featureset } from '@mlops/features';
import { SpecCatalog } from '@mlops/nest-kit';
import { LOGGER } from '@mlops/observability';
import type { Logger } from 'pino';
import { FeaturesetCatalog } from '../featuresets/featureset.catalog';
import { ONLINE_STORE } from '../online/online.tokens';
import type { OnlineFeatures, OnlineStore } from '../online/online-store';
import { numericVector } from './numeric-vector';

/**
 * `events.clean.v1` → `features.v1`, exactly once, keeping each event's id: each record goes
 * through its dataset's current featureset (the same `transform` inference applies), or, until
 * one is fitted, the spec's raw numeric fields. After the transaction commits, the vectors
 * become the entities' latest in the online store.
 */
@Injectable()
export class FeaturesConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly specs: SpecCatalog,
    private readonly featuresets: FeaturesetCatalog,
    @Inject(ONLINE_STORE) private readonly online: OnlineStore,
    @Inject(LOGGER) private readonly logger: Logger,
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
        const latest = new Map<string, Map<string, OnlineFeatures>>();
        const now = new Date().toISOString();
        // Spec and featureset once per dataset and batch, not per event.
        const context = new Map<
          string,
          { spec: DatasetSpec | undefined; fs: Featureset | undefined; timeField?: string }
        >();
        for (const dataset of new Set(events.map((e) => e.data.dataset))) {
          const spec = await this.specs.resolve(dataset);
          const fs = spec ? await this.featuresets.current(dataset) : undefined;
          const timeField = spec?.fields.find((f) => f.type === 'timestamp')?.name;
          context.set(dataset, { spec, fs, timeField });
        }
        for (const e of events) {
          const { dataset } = e.data;
          const { spec, fs, timeField } = context.get(dataset)!;
          if (!spec) {
            rejects.push({
              event: e,
              reasons: [{ code: 'unknown_dataset', message: `no dataset spec named "${dataset}"` }],
            });
            continue;
          }
          let data: FeatureVectorEvent;
          if (fs) {
            const label = fs.spec.labelField ? e.data.record[fs.spec.labelField] : null;
            const time = timeField ? e.data.record[timeField] : null;
            data = {
              dataset,
              entityId: e.data.entityId,
              featuresetVersion: fs.version,
              vector: transform(fs, e.data.record),
              label: typeof label === 'number' || typeof label === 'string' ? label : null,
              eventTime: typeof time === 'string' ? time : null,
            };
          } else {
            data = numericVector(spec, e.data);
          }
          outputs.push({
            event: EVENTS.featureVector,
            key: e.key ?? `${dataset}:${e.data.entityId}`,
            data,
            attrs: {
              id: e.attrs.id,
              traceparent: e.attrs.traceparent,
              subject: dataset,
              time: e.attrs.time,
            },
          });
          let rows = latest.get(dataset);
          if (!rows) latest.set(dataset, (rows = new Map<string, OnlineFeatures>()));
          rows.set(e.data.entityId, {
            featuresetVersion: data.featuresetVersion,
            vector: data.vector,
            label: data.label,
            eventTime: data.eventTime,
            eventId: e.attrs.id,
            updatedAt: now,
          });
        }
        return {
          outputs,
          rejects,
          onCommitted: () => {
            for (const [dataset, rows] of latest) {
              // On failure the store lags until the entity's next event; Kafka holds the truth.
              this.online.putMany(dataset, rows).catch((err: unknown) => {
                this.logger.warn({ err, dataset, rows: rows.size }, 'online store write failed');
              });
            }
          },
        };
      },
    });
    await sub.start();
  }
}
