import type { BusConfig } from '@mlops/bus';
import type { RejectionReason } from '@mlops/contracts';
import type { LoggedPrediction } from './prediction-log';

/** What the prediction-log worker is started with. */
export interface LogSinkInit {
  bus: BusConfig;
  /** CloudEvents `source` of the predictions (the inference service's). */
  source: string;
  logLevel: string;
  /** The thread's nice value (lowerThreadPriority); 0 keeps the process's. */
  nice?: number;
}

/** One prediction as it crosses to the worker: the payload, its key and envelope attributes. */
export interface LogRecord {
  key: string;
  /** Features may still be a typed row: the worker makes them an array. */
  data: LoggedPrediction;
  attrs?: { id?: string; subject?: string; time?: string; traceparent?: string };
}

export type LogSinkRequest =
  { type: 'send'; id: number; records: LogRecord[] } | { type: 'close'; id: number };

export type LogSinkReply =
  | { type: 'ready' }
  | { type: 'sent'; id: number }
  | {
      type: 'failed';
      id: number;
      message: string;
      schema?: { eventType: string; issues: RejectionReason[] };
    }
  | { type: 'closed'; id: number };
