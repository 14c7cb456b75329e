export { isMissing, type NumericMatrix, type NumericValue } from './column';
export * from './gamma';
export * from './hashing';
export * from './one-hot';
export * from './scalers';
export * from './selection';
