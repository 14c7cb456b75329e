import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelSection } from '@mlops/contracts';
import type { DenseActivation, NetworkLayer } from '@mlops/ml';

export type Task = 'binary' | 'multiclass' | 'regression';

export interface NetworkOptions {
  model: ModelSection;
  task: Task;
  inputs: number;
  /** Classes (multiclass); 1 otherwise. */
  outputs: number;
  seed: number;
}

/**
 * A dense network as the spec describes it. Each hidden block is Dense(units, activation) →
 * BatchNormalization (optional) → Dropout (optional): normalising after the activation keeps
 * every block a Dense + BatchNorm pair that the ONNX exporter writes as Gemm, activation and
 * BatchNormalization. The output layer is linear: the network computes logits (binary,
 * multiclass) or the prediction (regression), and the loss works on logits (stable); the
 * probability head (sigmoid, softmax) is applied by `predictions` and written into the ONNX
 * graph. Layer names are fixed (`hidden_0`, `bn_0`, `dropout_0`, `output`) and every
 * initializer is seeded, so one seed gives one network.
 */
export function buildNetwork(o: NetworkOptions): tfl.Sequential {
  const net = tfl.sequential({ name: 'network' });
  const hidden = o.model.type === 'mlp' ? o.model.hidden : [];
  let seed = o.seed >>> 0;
  const next = () => (seed = (seed + 1) >>> 0);
  hidden.forEach((units, i) => {
    net.add(
      tfl.layers.dense({
        name: `hidden_${i}`,
        units,
        activation: o.model.activation,
        kernelInitializer: kernelInitializer(o.model.activation, next()),
        biasInitializer: 'zeros',
        ...(i === 0 ? { inputShape: [o.inputs] } : {}),
      }),
    );
    if (o.model.batchNorm) net.add(tfl.layers.batchNormalization({ name: `bn_${i}` }));
    if (o.model.dropout > 0)
      net.add(tfl.layers.dropout({ name: `dropout_${i}`, rate: o.model.dropout, seed: next() }));
  });
  net.add(
    tfl.layers.dense({
      name: 'output',
      units: o.outputs,
      activation: 'linear',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: next() }),
      biasInitializer: 'zeros',
      ...(hidden.length === 0 ? { inputShape: [o.inputs] } : {}),
    }),
  );
  return net;
}

function kernelInitializer(activation: string, seed: number) {
  // He for the rectifiers, LeCun for SELU (self-normalising), Glorot otherwise.
  if (activation === 'relu' || activation === 'elu') return tfl.initializers.heNormal({ seed });
  if (activation === 'selu') return tfl.initializers.leCunNormal({ seed });
  return tfl.initializers.glorotUniform({ seed });
}

/** Output width of a task: 1 unit for binary and regression, K for multiclass. */
export function outputUnits(task: Task, classes: number): number {
  return task === 'multiclass' ? classes : 1;
}

/** The head applied to the network's output to get what is served. */
export function applyHead(task: Task, out: tf.Tensor): tf.Tensor {
  if (task === 'binary') return tf.sigmoid(out);
  if (task === 'multiclass') return tf.softmax(out);
  return out;
}

/**
 * The network as the exporter's layer list, read from the trained variables; the output
 * layer's activation becomes the task's head.
 */
export function networkLayers(net: tfl.LayersModel, task: Task): NetworkLayer[] {
  const layers: NetworkLayer[] = [];
  for (const layer of net.layers) {
    const cls = layer.getClassName();
    const values = layer.getWeights().map((w) => w.dataSync() as Float32Array);
    if (cls === 'Dense') {
      const config = layer.getConfig() as { activation: string; units: number };
      const activation =
        layer.name === 'output'
          ? task === 'binary'
            ? 'sigmoid'
            : task === 'multiclass'
              ? 'softmax'
              : 'linear'
          : (config.activation as DenseActivation);
      layers.push({
        kind: 'dense',
        weights: Float32Array.from(values[0]),
        bias: values[1] ? Float32Array.from(values[1]) : undefined,
        units: config.units,
        activation,
      });
    } else if (cls === 'BatchNormalization') {
      const config = layer.getConfig() as { epsilon: number; center: boolean; scale: boolean };
      let i = 0;
      const gamma = config.scale ? values[i++] : undefined;
      const beta = config.center ? values[i++] : undefined;
      layers.push({
        kind: 'batchNorm',
        gamma: gamma && Float32Array.from(gamma),
        beta: beta && Float32Array.from(beta),
        movingMean: Float32Array.from(values[i++]),
        movingVariance: Float32Array.from(values[i++]),
        epsilon: config.epsilon,
      });
    } else if (cls === 'Dropout') {
      layers.push({ kind: 'dropout', rate: (layer.getConfig() as { rate: number }).rate });
    } else {
      throw new Error(`networkLayers: layer ${layer.name} (${cls}) has no ONNX export`);
    }
  }
  return layers;
}
