import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import { BusMetrics, BusProducer, kafkaLogCreator, OutputSchemaError } from '@mlops/bus';
import { EVENTS } from '@mlops/contracts';
import { createLogger } from '@mlops/observability';
import type { LogSinkInit, LogSinkReply, LogSinkRequest } from './log-sink.messages';
import { lowerThreadPriority } from '../runtime/thread-priority';
import { toWire } from './prediction-log';

/**
 * The prediction log's Kafka producer, in a thread of its own: turning thousands of
 * predictions a second into JSON, validating them and framing record batches (CRC32C in
 * JavaScript) is real CPU, and on the main thread it would stall every request behind it.
 */
if (!isMainThread && parentPort) {
  const port = parentPort;
  const init = workerData as LogSinkInit;
  // Background work: the event loop answering requests goes first on a busy node.
  lowerThreadPriority(init.nice ?? 0);
  const logger = createLogger(`${init.bus.clientId}-prediction-log`, init.logLevel);
  const kafka = new Kafka({
    clientId: `${init.bus.clientId}-prediction-log`,
    brokers: init.bus.brokers,
    ssl: init.bus.ssl,
    sasl: init.bus.sasl,
    connectionTimeout: init.bus.connectionTimeoutMs,
    requestTimeout: init.bus.requestTimeoutMs,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(logger),
  });
  const producer = new BusProducer(
    kafka,
    init.source,
    init.bus.topicPrefix,
    new BusMetrics(new Registry()),
    logger,
  );
  const reply = (m: LogSinkReply) => port.postMessage(m);
  const connected = producer.connect().then(
    () => reply({ type: 'ready' }),
    (err: unknown) => logger.error({ err }, 'prediction log producer could not connect'),
  );
  port.on('message', (m: LogSinkRequest) => {
    if (m.type === 'close') {
      void connected
        .then(() => producer.disconnect())
        .catch(() => {})
        .finally(() => reply({ type: 'closed', id: m.id }));
      return;
    }
    void connected
      .then(() =>
        producer.send(
          m.records.map((r) => ({ event: EVENTS.prediction, ...r, data: toWire(r.data) })),
        ),
      )
      .then(
        () => reply({ type: 'sent', id: m.id }),
        (err: unknown) =>
          reply({
            type: 'failed',
            id: m.id,
            message: (err as Error).message ?? String(err),
            ...(err instanceof OutputSchemaError
              ? { schema: { eventType: err.eventType, issues: err.issues } }
              : {}),
          }),
      );
  });
}
