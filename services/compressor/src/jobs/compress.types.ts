import type { DatasetSpec, ModelCompressedEvent } from '@mlops/contracts';
import type { RegisteredVersion } from '@mlops/registry-client';

/** What one compression job needs (plain data: it crosses into a worker thread). */
export interface CompressJobInput {
  jobId: string;
  /** The registered trained version to compress. */
  parent: RegisteredVersion;
  /** The dataset spec whose `compression` section says what to make. */
  spec: DatasetSpec;
  registry: { url: string; apiKey?: string };
}

/** One variant's outcome: the event to publish (accepted or rejected by the gate). */
export interface VariantOutcome {
  event: ModelCompressedEvent;
}

export interface CompressJobResult {
  parentMetric: { name: string; value: number };
  variants: VariantOutcome[];
  /** Variants that could not be built at all (an error, not a gate decision). */
  errors: { variant: string; message: string }[];
  durationMs: number;
}

export class CompressJobError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CompressJobError';
  }
}

export type CompressWorkerMessage =
  | { type: 'log'; level: 'info' | 'warn'; msg: string; fields?: Record<string, unknown> }
  | { type: 'done'; result: CompressJobResult }
  | { type: 'failed'; code: string; message: string };
