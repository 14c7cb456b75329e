export * from './auth.module';
export * from './authenticator';
export * from './config';
export * from './decorators';
export * from './errors';
export * from './jwt';
export * from './roles';
