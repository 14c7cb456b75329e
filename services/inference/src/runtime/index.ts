/** The inference service's compute runtime: onnxruntime in worker threads, dynamic batching. */
export * from './batcher';
export * from './errors';
export * from './stack';
export * from './tensor';
export * from './validate';
export * from './worker-pool';
