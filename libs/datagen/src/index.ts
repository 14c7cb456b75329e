export * from './cards-spec';
export * from './format';
export * from './generate';
export * from './memo';
export * from './model';
export * from './truth';
