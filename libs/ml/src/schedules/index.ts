export * from './schedules';
export * from './spec';
