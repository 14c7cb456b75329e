export * from './bootstrap';
export * from './bus.module';
export * from './http-errors';
export * from './spec-catalog';
export * from './read-body';
