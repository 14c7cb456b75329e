export * from './mlp';
export * from './model';
export * from './protobuf';
export {
  MICROSOFT_DOMAIN,
  ONNX_DOMAIN,
  type ValueType,
  inferNodeTypes,
  isCheckedOperator,
} from './schema';
