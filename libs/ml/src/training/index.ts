export * from './class-weights';
export * from './early-stopping';
export * from './reference';
export * from './sampling';
