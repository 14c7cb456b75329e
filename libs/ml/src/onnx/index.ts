export * from './mlp';
export * from './model';
export * from './protobuf';
