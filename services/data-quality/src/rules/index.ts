export * from './edit-distance';
export * from './engine';
export * from './quality-config';
