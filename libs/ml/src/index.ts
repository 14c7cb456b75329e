export * from './lsh-index';
export * from './p2-quantile';
export * from './rng';
export * from './robust';
export * from './simhash';
export * from './summary-merge';
export * from './welford';
