import type { OutgoingEvent } from '@mlops/bus';
import {
  EVENTS,
  FeedbackEvent,
  canonicalJson,
  contentEventId,
  entityKey,
  newTraceparent,
} from '@mlops/contracts';
import type { RowOutcome } from './ingest.service';
import type { IncomingRow } from './parse-body';

/**
 * Late labels (`POST /v1/datasets/:dataset/feedback`): each body record checked and turned into
 * a `feedback.v1` event. Pure apart from the traceparent; the controller reads and parses the
 * body and produces the outputs.
 *
 * A record is `{ entityId, label, requestId?, eventTime?, id? }` (and `dataset`, when it is the
 * one of the path). The batch is all or nothing: one invalid record refuses the request, so a
 * client retries the whole body rather than working out which labels already went through.
 */

/** Labels come as plain JSON or NDJSON; CloudEvents bodies are for `/events`. */
export const FEEDBACK_MEDIA_TYPES = [
  'application/json',
  'application/x-ndjson',
  'application/jsonl',
] as const;

/** The fields a feedback record may have; any other one is refused (a typo'd `request_id`). */
export const FEEDBACK_FIELDS = [
  'id',
  'dataset',
  'entityId',
  'requestId',
  'label',
  'eventTime',
] as const;

export const MAX_ENTITY_ID = 512;
export const MAX_REQUEST_ID = 512;
export const MAX_LABEL = 256;
/** As a CloudEvent id on `/events`. */
export const MAX_ID = 256;

export type FeedbackProblemCode =
  | 'not_an_object'
  | 'missing_required'
  | 'wrong_type'
  | 'too_long'
  | 'bad_label'
  | 'bad_timestamp'
  | 'wrong_dataset'
  | 'unknown_field';

export interface FeedbackProblem {
  /** The record's position in the body (0-based; for NDJSON, among the non-blank lines). */
  index: number;
  code: FeedbackProblemCode;
  field?: string;
  message: string;
}

export type FeedbackCheck =
  { ok: true; data: FeedbackEvent; id?: string } | { ok: false; problems: FeedbackProblem[] };

export type FeedbackPlan =
  | { ok: true; outputs: OutgoingEvent<typeof EVENTS.feedback>[]; results: RowOutcome[] }
  | { ok: false; problems: FeedbackProblem[] };

const ISO_TIME = FeedbackEvent.shape.eventTime.unwrap();

/** Checks one body record against the feedback contract; every problem, not just the first. */
export function checkFeedback(dataset: string, raw: unknown, index: number): FeedbackCheck {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return {
      ok: false,
      problems: [{ index, code: 'not_an_object', message: 'a feedback record is a JSON object' }],
    };
  }
  const input = raw as Record<string, unknown>;
  const problems: FeedbackProblem[] = [];
  const problem = (code: FeedbackProblemCode, field: string, message: string) =>
    problems.push({ index, code, field, message });
  const has = (field: string) =>
    Object.prototype.hasOwnProperty.call(input, field) &&
    input[field] !== undefined &&
    input[field] !== null;

  for (const key of Object.keys(input)) {
    if (!(FEEDBACK_FIELDS as readonly string[]).includes(key))
      problem(
        'unknown_field',
        key.slice(0, 128),
        `field "${key.slice(0, 64)}" is not one of ${FEEDBACK_FIELDS.join(', ')}`,
      );
  }

  if (has('dataset') && input.dataset !== dataset)
    problem('wrong_dataset', 'dataset', `dataset must be "${dataset}" (the one in the path)`);

  // The entity id as ingestion types it on /events: a non-empty string, or a number as text.
  let entityId = '';
  if (!has('entityId')) problem('missing_required', 'entityId', 'entityId is required');
  else {
    const v = input.entityId;
    const s = typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
    if (typeof s !== 'string' || s.length === 0)
      problem('wrong_type', 'entityId', 'entityId must be a non-empty string or a number');
    else if (s.length > MAX_ENTITY_ID)
      problem('too_long', 'entityId', `entityId is longer than ${MAX_ENTITY_ID}`);
    else entityId = s;
  }

  let requestId: string | null = null;
  if (has('requestId')) {
    const v = input.requestId;
    if (typeof v !== 'string' || v.length === 0)
      problem('wrong_type', 'requestId', 'requestId must be a non-empty string or null');
    else if (v.length > MAX_REQUEST_ID)
      problem('too_long', 'requestId', `requestId is longer than ${MAX_REQUEST_ID}`);
    else requestId = v;
  }

  let label: number | string = 0;
  if (!has('label')) problem('missing_required', 'label', 'label is required');
  else {
    const v = input.label;
    if (typeof v === 'number' && Number.isFinite(v)) label = v;
    else if (typeof v === 'string' && v.trim().length > 0) {
      if (v.length > MAX_LABEL) problem('too_long', 'label', `label is longer than ${MAX_LABEL}`);
      else label = v;
    } else problem('bad_label', 'label', 'label must be a finite number or a non-empty string');
  }

  // Normalised to ISO 8601 UTC, as ingestion writes every timestamp.
  let eventTime: string | null = null;
  if (has('eventTime')) {
    const v = input.eventTime;
    const ms = ISO_TIME.safeParse(v).success ? Date.parse(v as string) : NaN;
    if (Number.isNaN(ms))
      problem(
        'bad_timestamp',
        'eventTime',
        'eventTime must be an ISO 8601 date-time with Z or an offset, or null',
      );
    else eventTime = new Date(ms).toISOString();
  }

  let id: string | undefined;
  if (has('id')) {
    const v = input.id;
    if (typeof v !== 'string' || v.length === 0)
      problem('wrong_type', 'id', 'id must be a non-empty string');
    else if (v.length > MAX_ID) problem('too_long', 'id', `id is longer than ${MAX_ID}`);
    else id = v;
  }

  if (problems.length > 0) return { ok: false, problems };
  const data: FeedbackEvent = { dataset, entityId, requestId, label, eventTime };
  // The contract has the last word: whatever it refuses here the producer would refuse too.
  const parsed = FeedbackEvent.safeParse(data);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.slice(0, 5).map((issue) => ({
        index,
        code: 'wrong_type' as const,
        field: issue.path.join('.') || undefined,
        message: issue.message,
      })),
    };
  }
  return id === undefined ? { ok: true, data: parsed.data } : { ok: true, data: parsed.data, id };
}

/**
 * The event id of a label: the client's `id`, else one derived from the (normalised) content,
 * so that resending the same body gives the same ids either way.
 */
export function feedbackId(data: FeedbackEvent, clientId?: string): string {
  return clientId ?? contentEventId(data.dataset, canonicalJson(data));
}

/**
 * Checks every row and, when all pass, builds one `feedback.v1` event per row keyed
 * `dataset:entityId`. One invalid row refuses the batch, with every row's problems.
 */
export function planFeedback(dataset: string, rows: IncomingRow[]): FeedbackPlan {
  const outputs: OutgoingEvent<typeof EVENTS.feedback>[] = [];
  const results: RowOutcome[] = [];
  const problems: FeedbackProblem[] = [];
  for (let index = 0; index < rows.length; index++) {
    const checked = checkFeedback(dataset, rows[index].record, index);
    if (!checked.ok) {
      problems.push(...checked.problems);
      continue;
    }
    const id = feedbackId(checked.data, checked.id ?? rows[index].id);
    outputs.push({
      event: EVENTS.feedback,
      key: entityKey(dataset, checked.data.entityId),
      data: checked.data,
      attrs: { id, traceparent: rows[index].traceparent ?? newTraceparent(), subject: dataset },
    });
    results.push({ index, id, status: 'accepted' });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, outputs, results };
}
