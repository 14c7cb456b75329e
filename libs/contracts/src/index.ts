export * from './topics';
export * from './envelope';
export * from './events';
export * from './spec/dataset-spec';
export * from './spec/validate-record';
export * from './spec/feature-spec';
export * from './spec/training-spec';
export * from './spec/compression-spec';
