import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TrainingJobState } from '@mlops/contracts';

/** The trainer's Prometheus metrics, registered on the service's registry. */
export class TrainerMetrics {
  /** State changes this process recorded, by the state entered. */
  readonly jobs: Counter<'state'>;
  /** Wall time of finished runs, by how they ended. */
  readonly duration: Histogram<'state'>;
  readonly running: Gauge;

  constructor(registry: Registry) {
    this.jobs = new Counter({
      name: 'trainer_jobs_total',
      help: 'Training job state changes recorded, by the state entered.',
      labelNames: ['state'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'trainer_job_duration_seconds',
      help: 'Wall time of a training run, from its start to its end, by how it ended.',
      labelNames: ['state'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
      registers: [registry],
    });
    this.running = new Gauge({
      name: 'trainer_jobs_running',
      help: 'Training runs in progress in this process (worker threads).',
      registers: [registry],
    });
  }

  entered(state: TrainingJobState): void {
    this.jobs.inc({ state });
  }
}
