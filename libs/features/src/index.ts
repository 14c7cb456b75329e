export * from './featureset';
export * from './matrix';
export * from './split';
