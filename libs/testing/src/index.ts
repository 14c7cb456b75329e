export * from './fixtures';
export * from './kafka';
export * from './services';
export * from './groups';
export * from './postgres';
