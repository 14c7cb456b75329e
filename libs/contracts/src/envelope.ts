import { createHash, randomBytes, randomUUID } from 'node:crypto';

/**
 * CloudEvents 1.0 over Kafka in binary content mode: the payload (JSON) is the record value,
 * the context attributes are `ce_`-prefixed headers. `ce_id` is the idempotency key of the
 * whole platform: a stage that re-emits an event keeps its id.
 */
export const CE_SPEC_VERSION = '1.0';
export const JSON_CONTENT_TYPE = 'application/json';

export interface EnvelopeAttributes {
  /** Unique per (source, id): the idempotency key. */
  id: string;
  /** The event type, e.g. `dev.mlops.events.validated.v1`. */
  type: string;
  /** Who emitted it, a URI reference such as `/services/ingestion`. */
  source: string;
  /** RFC 3339 time of the occurrence. */
  time: string;
  specversion: typeof CE_SPEC_VERSION;
  /** The dataset or model the event is about. */
  subject?: string;
  datacontenttype: string;
  /** W3C trace context; carried unchanged through every stage of one event. */
  traceparent?: string;
}

export type KafkaHeaderValue = Buffer | string | (Buffer | string)[] | undefined;
export type KafkaHeaders = Record<string, KafkaHeaderValue>;

export const CE_HEADERS = {
  id: 'ce_id',
  type: 'ce_type',
  source: 'ce_source',
  time: 'ce_time',
  specversion: 'ce_specversion',
  subject: 'ce_subject',
  contentType: 'content-type',
  traceparent: 'traceparent',
} as const;

/** Reads one header as a string (kafkajs hands Buffers; other clients may repeat a header). */
export function headerString(headers: KafkaHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : value.toString('utf8');
}

/** Attributes → Kafka headers (binary mode). */
export function toKafkaHeaders(attrs: EnvelopeAttributes): Record<string, string> {
  const headers: Record<string, string> = {
    [CE_HEADERS.id]: attrs.id,
    [CE_HEADERS.type]: attrs.type,
    [CE_HEADERS.source]: attrs.source,
    [CE_HEADERS.time]: attrs.time,
    [CE_HEADERS.specversion]: attrs.specversion,
    [CE_HEADERS.contentType]: attrs.datacontenttype,
  };
  if (attrs.subject !== undefined) headers[CE_HEADERS.subject] = attrs.subject;
  if (attrs.traceparent !== undefined) headers[CE_HEADERS.traceparent] = attrs.traceparent;
  return headers;
}

export type EnvelopeProblem =
  | { code: 'missing_header'; header: string }
  | { code: 'bad_specversion'; value: string }
  | { code: 'bad_time'; value: string }
  | { code: 'bad_content_type'; value: string };

/**
 * Kafka headers → attributes. Returns the first problem instead when a required attribute is
 * missing or malformed, so that the caller can dead-letter the record with that reason.
 */
export function fromKafkaHeaders(
  headers: KafkaHeaders | undefined,
): { ok: true; attrs: EnvelopeAttributes } | { ok: false; problem: EnvelopeProblem } {
  const get = (name: string) => headerString(headers, name);
  for (const name of [CE_HEADERS.id, CE_HEADERS.type, CE_HEADERS.source, CE_HEADERS.specversion]) {
    const value = get(name);
    if (value === undefined || value === '')
      return { ok: false, problem: { code: 'missing_header', header: name } };
  }
  const specversion = get(CE_HEADERS.specversion)!;
  if (specversion !== CE_SPEC_VERSION)
    return { ok: false, problem: { code: 'bad_specversion', value: specversion } };
  const time = get(CE_HEADERS.time) ?? new Date(0).toISOString();
  if (Number.isNaN(Date.parse(time)))
    return { ok: false, problem: { code: 'bad_time', value: time } };
  const contentType = get(CE_HEADERS.contentType) ?? JSON_CONTENT_TYPE;
  if (!contentType.startsWith(JSON_CONTENT_TYPE)) {
    return { ok: false, problem: { code: 'bad_content_type', value: contentType } };
  }
  const attrs: EnvelopeAttributes = {
    id: get(CE_HEADERS.id)!,
    type: get(CE_HEADERS.type)!,
    source: get(CE_HEADERS.source)!,
    time,
    specversion: CE_SPEC_VERSION,
    datacontenttype: contentType,
  };
  const subject = get(CE_HEADERS.subject);
  if (subject !== undefined) attrs.subject = subject;
  const traceparent = get(CE_HEADERS.traceparent);
  if (traceparent !== undefined) attrs.traceparent = traceparent;
  return { ok: true, attrs };
}

/** A new W3C traceparent (version 00, sampled) for an event that arrives without one. */
export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

/** The trace id part of a traceparent, for log correlation. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  const m =
    traceparent && /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent);
  return m ? m[1] : undefined;
}

export function newEventId(): string {
  return randomUUID();
}

/**
 * A deterministic event id from content, for producers that send none: a retried send of the
 * same record gets the same id and is de-duplicated downstream.
 */
export function contentEventId(dataset: string, canonicalJson: string): string {
  return `sha256:${createHash('sha256').update(dataset).update('\0').update(canonicalJson).digest('hex').slice(0, 40)}`;
}

/** JSON with object keys sorted at every depth: equal content, equal text. */
export function canonicalJson(value: unknown): string {
  // JSON.stringify gives undefined (not a string) for undefined: write it as JSON's null.
  return JSON.stringify(sortKeys(value)) ?? 'null';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort())
      out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}
