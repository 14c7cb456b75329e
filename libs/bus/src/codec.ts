import { createHash } from 'node:crypto';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import type { z } from 'zod';
import {
  CE_SPEC_VERSION,
  EVENTS,
  TOPICS,
  JSON_CONTENT_TYPE,
  fromKafkaHeaders,
  headerString,
  newEventId,
  newTraceparent,
  toKafkaHeaders,
  type EnvelopeAttributes,
  type EventDefinition,
  type RejectedEvent,
  type RejectionReason,
} from '@mlops/contracts';

/** One consumed event: its envelope, its validated payload and where it came from. */
export interface BusEvent<T = unknown> {
  readonly attrs: EnvelopeAttributes;
  readonly data: T;
  readonly key: string | null;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** The broker timestamp (ms since epoch, as a string like kafkajs gives it). */
  readonly timestamp: string;
  readonly headers: IHeaders;
  /** The record value as it arrived (dead letters carry it unchanged). */
  readonly value: Buffer;
  /** The size of the record value in bytes. */
  readonly size: number;
}

/** An event to produce: the definition fixes topic, type and schema. */
export interface OutgoingEvent<E extends EventDefinition = EventDefinition> {
  readonly event: E;
  /** Physical topic when it is not the event's own (a `<topic>.dlq`). */
  readonly topic?: string;
  readonly key: string;
  readonly data: z.input<E['schema']>;
  /** Envelope attributes to carry over (keep `id` and `traceparent` when re-emitting). */
  readonly attrs?: Partial<Pick<EnvelopeAttributes, 'id' | 'subject' | 'traceparent' | 'time'>>;
  /** Extra headers beside the CloudEvents ones (never `ce_*`). */
  readonly headers?: Record<string, string>;
}

/** A record outside the event catalogue (state changelogs, tombstones): written as is. */
export interface OutgoingRecord {
  /** Physical topic name. */
  readonly topic: string;
  readonly key: string;
  readonly value: string | Buffer | null;
  readonly headers?: Record<string, string>;
  /** An explicit partition (a state changelog co-partitioned with its input); else by key. */
  readonly partition?: number;
}

export type Outgoing = OutgoingEvent | OutgoingRecord;

export function isOutgoingEvent(o: Outgoing): o is OutgoingEvent {
  return (o as OutgoingEvent).event !== undefined;
}

export type DecodeResult<T> =
  | { ok: true; event: BusEvent<T> }
  | { ok: false; reasons: RejectionReason[]; eventId?: string; dataset?: string };

const eventByType = new Map<string, EventDefinition>(
  Object.values(EVENTS).map((def) => [def.type, def as EventDefinition]),
);

function summariseIssues(error: z.ZodError): RejectionReason[] {
  return error.issues.slice(0, 5).map((issue) => ({
    code: 'schema_mismatch',
    message: issue.message,
    ...(issue.path.length > 0 ? { field: issue.path.join('.') } : {}),
  }));
}

/**
 * Raw Kafka record → validated event, or the reasons it cannot be one (which the caller
 * dead-letters). The order of checks is cheapest first, and a too-large value is never parsed.
 */
export function decode<E extends EventDefinition>(
  def: E,
  topic: string,
  partition: number,
  message: KafkaMessage,
  maxValueBytes: number,
): DecodeResult<z.output<E['schema']>> {
  const value = message.value;
  const size = value?.length ?? 0;
  const eventId = headerString(message.headers, 'ce_id');
  if (size > maxValueBytes) {
    return {
      ok: false,
      eventId,
      reasons: [
        {
          code: 'payload_too_large',
          message: `value of ${size} bytes exceeds the limit of ${maxValueBytes}`,
        },
      ],
    };
  }
  if (value === null || size === 0) {
    return {
      ok: false,
      eventId,
      reasons: [{ code: 'not_json', message: 'empty value (a tombstone is not an event here)' }],
    };
  }
  let attrs: EnvelopeAttributes;
  const envelope = fromKafkaHeaders(message.headers);
  if (envelope.ok) {
    attrs = envelope.attrs;
    if (attrs.type !== def.type) {
      const known = eventByType.has(attrs.type);
      return {
        ok: false,
        eventId,
        reasons: [
          {
            code: 'unknown_event_type',
            message: known
              ? `event type ${attrs.type} does not belong on this topic (expected ${def.type})`
              : `unknown event type ${attrs.type.slice(0, 200)}`,
          },
        ],
      };
    }
  } else if (def.envelope === 'optional' && eventId === undefined) {
    // A plain Kafka producer: the id comes from the content, so that a retried send of the
    // same record is the same event downstream.
    attrs = {
      id: `sha256:${createHash('sha256')
        .update(message.key ?? '')
        .update('\0')
        .update(value)
        .digest('hex')
        .slice(0, 40)}`,
      type: def.type,
      source: `kafka://${topic}`,
      time: new Date(Number(message.timestamp)).toISOString(),
      specversion: CE_SPEC_VERSION,
      datacontenttype: JSON_CONTENT_TYPE,
      traceparent: headerString(message.headers, 'traceparent') ?? newTraceparent(),
    };
  } else {
    const p = envelope.problem;
    const detail =
      p.code === 'missing_header'
        ? `missing header ${p.header}`
        : `${p.code}: ${p.value.slice(0, 100)}`;
    return {
      ok: false,
      eventId,
      reasons: [{ code: 'envelope_invalid', message: `CloudEvents envelope: ${detail}` }],
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return {
      ok: false,
      eventId: attrs.id,
      reasons: [
        { code: 'not_json', message: `value is not JSON: ${(err as Error).message.slice(0, 200)}` },
      ],
    };
  }
  const result = def.schema.safeParse(parsed);
  if (!result.success) {
    const dataset = (parsed as { dataset?: unknown } | null)?.dataset;
    return {
      ok: false,
      eventId: attrs.id,
      ...(typeof dataset === 'string' ? { dataset: dataset.slice(0, 100) } : {}),
      reasons: summariseIssues(result.error),
    };
  }
  return {
    ok: true,
    event: {
      attrs,
      data: result.data as z.output<E['schema']>,
      key: message.key?.toString('utf8') ?? null,
      topic,
      partition,
      offset: message.offset,
      timestamp: message.timestamp,
      headers: message.headers ?? {},
      value,
      size,
    },
  };
}

/** Thrown when our own code builds an event its schema refuses: a defect, never sent. */
export class OutputSchemaError extends Error {
  constructor(
    readonly eventType: string,
    readonly issues: RejectionReason[],
  ) {
    super(
      `refusing to produce an invalid ${eventType}: ${issues.map((i) => `${i.field ?? ''} ${i.message}`).join('; ')}`,
    );
    this.name = 'OutputSchemaError';
  }
}

/**
 * Event → Kafka message (binary-mode CloudEvent), validating the payload against its schema
 * first. The physical topic name is returned with it.
 */
export function encode(
  out: Outgoing,
  source: string,
  prefix: string,
  validate = true,
): { topic: string; message: Message } {
  if (!isOutgoingEvent(out)) {
    const message: Message = { key: out.key, value: out.value, headers: out.headers };
    if (out.partition !== undefined) message.partition = out.partition;
    return { topic: out.topic, message };
  }
  const def = out.event;
  let data: unknown = out.data;
  if (validate) {
    const result = def.schema.safeParse(out.data);
    if (!result.success) throw new OutputSchemaError(def.type, summariseIssues(result.error));
    data = result.data;
  }
  const attrs: EnvelopeAttributes = {
    id: out.attrs?.id ?? newEventId(),
    type: def.type,
    source,
    time: out.attrs?.time ?? new Date().toISOString(),
    specversion: CE_SPEC_VERSION,
    datacontenttype: JSON_CONTENT_TYPE,
    traceparent: out.attrs?.traceparent ?? newTraceparent(),
    ...(out.attrs?.subject !== undefined ? { subject: out.attrs.subject } : {}),
  };
  return {
    topic: out.topic ?? `${prefix}${topicOf(def)}`,
    message: {
      key: out.key,
      value: JSON.stringify(data),
      headers: out.headers ? { ...out.headers, ...toKafkaHeaders(attrs) } : toKafkaHeaders(attrs),
    },
  };
}

function topicOf(def: EventDefinition): string {
  return TOPICS[def.topic].name;
}

function headersAsStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const s = headerString(headers, name);
    if (s !== undefined && value !== undefined) out[name] = s;
  }
  return out;
}

function isValidUtf8(buf: Buffer): boolean {
  // Buffer#toString replaces invalid sequences with U+FFFD; round-tripping detects them.
  return Buffer.from(buf.toString('utf8'), 'utf8').equals(buf);
}

/** The dead-letter payload for a record: reasons, plus the original value, key and headers. */
export function deadLetterPayload(
  stage: string,
  reasons: RejectionReason[],
  original: {
    topic: string;
    partition?: number;
    offset?: string;
    key: Buffer | string | null;
    headers?: IHeaders;
    value: Buffer | null;
  },
  maxValueBytes: number,
  context: { eventId?: string; dataset?: string } = {},
): RejectedEvent {
  const value = original.value;
  const truncated = value !== null && value.length > maxValueBytes;
  const kept = value === null ? null : truncated ? value.subarray(0, maxValueBytes) : value;
  const utf8 = kept === null || isValidUtf8(kept);
  return {
    stage,
    reasons,
    ...(context.dataset !== undefined ? { dataset: context.dataset } : {}),
    ...(context.eventId !== undefined ? { eventId: context.eventId } : {}),
    rejectedAt: new Date().toISOString(),
    original: {
      topic: original.topic,
      ...(original.partition !== undefined ? { partition: original.partition } : {}),
      ...(original.offset !== undefined ? { offset: original.offset } : {}),
      key: original.key === null ? null : original.key.toString(),
      headers: headersAsStrings(original.headers),
      value: kept === null ? null : kept.toString(utf8 ? 'utf8' : 'base64'),
      valueEncoding: utf8 ? 'utf8' : 'base64',
      valueBytes: value?.length ?? 0,
      truncated,
    },
  };
}
