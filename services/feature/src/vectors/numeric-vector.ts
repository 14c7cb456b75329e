import {
  numericFieldNames,
  type CleanEvent,
  type DatasetSpec,
  type FeatureVectorEvent,
} from '@mlops/contracts';

/** The featureset of the walking skeleton: the spec's numeric fields, in spec order. */
export function numericFeaturesetVersion(spec: DatasetSpec): string {
  return `numeric@spec-v${spec.version}`;
}

/**
 * A clean record → its numeric feature vector. Missing numeric values become NaN-free zeros
 * only if the spec allowed them to be missing; the data-quality stage imputes them first in
 * the full pipeline.
 */
export function numericVector(spec: DatasetSpec, event: CleanEvent): FeatureVectorEvent {
  const names = numericFieldNames(spec);
  const vector = names.map((name) => {
    const v = event.record[name];
    return typeof v === 'number' && Number.isFinite(v) ? v : 0;
  });
  const labelField = spec.fields.find((f) => f.type === 'label');
  const timeField = spec.fields.find((f) => f.type === 'timestamp');
  const label = labelField ? event.record[labelField.name] : null;
  const time = timeField ? event.record[timeField.name] : null;
  return {
    dataset: event.dataset,
    entityId: event.entityId,
    featuresetVersion: numericFeaturesetVersion(spec),
    names,
    vector,
    label: typeof label === 'number' || typeof label === 'string' ? label : null,
    eventTime: typeof time === 'string' ? time : null,
  };
}
