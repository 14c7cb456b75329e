import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@mlops/observability';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * The serving metrics: where a request's time goes (queue, compute, total), how large the
 * batches are, and outcomes per model and version. The Prometheus rule shipped with the
 * Kubernetes manifests alerts on the p99 of `inference_request_duration_seconds` > 500 ms.
 */
/** Sampling interval of the event-loop monitor, ms. */
const LAG_RESOLUTION_MS = 2;

@Injectable()
export class InferenceMetrics implements OnModuleDestroy {
  private readonly loop = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  readonly queueSeconds: Histogram<'model' | 'version'>;
  readonly computeSeconds: Histogram<'model' | 'version'>;
  readonly requestSeconds: Histogram<'model' | 'version' | 'alias'>;
  readonly batchSize: Histogram<'model' | 'version'>;
  readonly requests: Counter<'model' | 'version' | 'alias' | 'mode' | 'status'>;
  readonly rows: Counter<'model' | 'version' | 'mode'>;
  readonly loadFailures: Counter<'model'>;
  readonly loadedVersions: Gauge;
  readonly streamSkipped: Counter<'dataset' | 'reason'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    const registers = [registry];
    this.queueSeconds = new Histogram({
      name: 'inference_queue_duration_seconds',
      help: 'Time a request waited in its batcher queue.',
      labelNames: ['model', 'version'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.computeSeconds = new Histogram({
      name: 'inference_compute_duration_seconds',
      help: 'onnxruntime time per batch, measured in the worker.',
      labelNames: ['model', 'version'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'inference_request_duration_seconds',
      help: 'Server time of a prediction request: parse, cache, queue, compute and response.',
      labelNames: ['model', 'version', 'alias'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.batchSize = new Histogram({
      name: 'inference_batch_size',
      help: 'Rows per batch run.',
      labelNames: ['model', 'version'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers,
    });
    this.requests = new Counter({
      name: 'inference_requests_total',
      help: 'Prediction requests by model, version, alias, mode (online, shadow, stream) and status.',
      labelNames: ['model', 'version', 'alias', 'mode', 'status'],
      registers,
    });
    this.rows = new Counter({
      name: 'inference_rows_total',
      help: 'Rows scored.',
      labelNames: ['model', 'version', 'mode'],
      registers,
    });
    this.loadFailures = new Counter({
      name: 'inference_model_load_failures_total',
      help: 'Model versions that could not be loaded.',
      labelNames: ['model'],
      registers,
    });
    this.loadedVersions = new Gauge({
      name: 'inference_loaded_versions',
      help: 'Model versions loaded in the workers (serving or draining).',
      registers,
    });
    // Node's histogram records the time between two ticks of a timer that should fire every
    // `resolution` ms, so an idle loop reads `resolution`; the lag is what exceeds it.
    // (prom-client's nodejs_eventloop_lag_* report the raw values, 10 ms at rest.)
    const loop = this.loop;
    loop.enable();
    new Gauge({
      name: 'inference_event_loop_lag_seconds',
      help: 'How late the main thread ran a timer since the last scrape (p50, p99, max); reset at every scrape.',
      labelNames: ['quantile'],
      registers,
      collect() {
        const lag = (ns: number) => Math.max(0, ns / 1e6 - LAG_RESOLUTION_MS) / 1000;
        if (loop.count > 0) {
          this.set({ quantile: '0.5' }, lag(loop.percentile(50)));
          this.set({ quantile: '0.99' }, lag(loop.percentile(99)));
          this.set({ quantile: '1' }, lag(loop.max));
        }
        loop.reset();
      },
    });
    this.streamSkipped = new Counter({
      name: 'inference_stream_skipped_total',
      help: 'features.v1 records not stream-scored, by reason.',
      labelNames: ['dataset', 'reason'],
      registers,
    });
  }

  onModuleDestroy(): void {
    this.loop.disable();
  }
}
