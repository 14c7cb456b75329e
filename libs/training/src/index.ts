export * from './backend';
export * from './evaluation';
export * from './loop';
export * from './network';
export * from './onnx';
export * from './optimizers';
export * from './from-layers';
export * from './layers-artifact';
