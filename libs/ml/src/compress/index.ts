export * from './prune';
export * from './quantize';
