import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The bus's Prometheus metrics; histograms, not summaries, so that they aggregate. */
export class BusMetrics {
  readonly messagesIn: Counter<'consumer' | 'topic'>;
  readonly messagesOut: Counter<'topic'>;
  readonly batchSize: Histogram<'consumer'>;
  readonly handlerSeconds: Histogram<'consumer'>;
  readonly consumerLag: Gauge<'consumer' | 'topic' | 'partition'>;
  readonly deadLetters: Counter<'consumer' | 'reason'>;
  readonly retries: Counter<'consumer'>;
  readonly transactions: Counter<'consumer' | 'outcome'>;
  readonly producerPending: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.messagesIn = new Counter({
      name: 'bus_messages_in_total',
      help: 'Records consumed, by consumer and topic.',
      labelNames: ['consumer', 'topic'],
      registers,
    });
    this.messagesOut = new Counter({
      name: 'bus_messages_out_total',
      help: 'Records produced and acknowledged, by topic.',
      labelNames: ['topic'],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'bus_batch_size',
      help: 'Records per handled batch.',
      labelNames: ['consumer'],
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000],
      registers,
    });
    this.handlerSeconds = new Histogram({
      name: 'bus_handler_duration_seconds',
      help: 'Time to handle one batch, outputs and commit included.',
      labelNames: ['consumer'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.consumerLag = new Gauge({
      name: 'bus_consumer_lag',
      help: 'Records between the last handled offset and the high watermark.',
      labelNames: ['consumer', 'topic', 'partition'],
      registers,
    });
    this.deadLetters = new Counter({
      name: 'bus_dead_letters_total',
      help: 'Records dead-lettered, by reason code.',
      labelNames: ['consumer', 'reason'],
      registers,
    });
    this.retries = new Counter({
      name: 'bus_retries_total',
      help: 'Batch retries after transient failures.',
      labelNames: ['consumer'],
      registers,
    });
    this.transactions = new Counter({
      name: 'bus_transactions_total',
      help: 'Kafka transactions of exactly-once stages, by outcome.',
      labelNames: ['consumer', 'outcome'],
      registers,
    });
    this.producerPending = new Gauge({
      name: 'bus_producer_pending_records',
      help: 'Records waiting in the producer buffer.',
      registers,
    });
  }
}
