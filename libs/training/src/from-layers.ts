import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { NetworkLayer } from '@mlops/ml';
import type { Task } from './network';

/**
 * A tfjs network holding the weights of an exporter layer list — the inverse of
 * `networkLayers`, so a network changed outside tfjs (pruned, say) can be trained further. The
 * last dense layer's activation is the task's head (sigmoid, softmax or linear) and is dropped:
 * the network computes logits, as `buildNetwork`'s do.
 */
export function networkFromLayers(layers: readonly NetworkLayer[], task: Task): tfl.Sequential {
  void task;
  const net = tfl.sequential({ name: 'network' });
  const denseIndices = layers.flatMap((l, i) => (l.kind === 'dense' ? [i] : []));
  const last = denseIndices.at(-1);
  if (last === undefined) throw new Error('networkFromLayers: no dense layer');
  let width: number | null = null;
  // A model's weights are its trainable ones in layer order, then the non-trainable ones (the
  // batch-norm moving statistics) in layer order.
  const weights: tf.Tensor[] = [];
  const frozen: tf.Tensor[] = [];
  let hidden = 0;
  layers.forEach((layer, i) => {
    if (layer.kind === 'dense') {
      const units = layer.bias?.length ?? layer.units!;
      const inputs = layer.weights.length / units;
      const isOutput = i === last;
      net.add(
        tfl.layers.dense({
          name: isOutput ? 'output' : `hidden_${hidden}`,
          units,
          activation: isOutput
            ? 'linear'
            : layer.activation === 'softmax'
              ? 'softmax'
              : layer.activation,
          useBias: layer.bias !== undefined,
          ...(width === null ? { inputShape: [inputs] } : {}),
        }),
      );
      weights.push(tf.tensor2d(layer.weights, [inputs, units]));
      if (layer.bias) weights.push(tf.tensor1d(layer.bias));
      width = units;
      if (!isOutput) hidden += 1;
    } else if (layer.kind === 'batchNorm') {
      net.add(
        tfl.layers.batchNormalization({
          name: `bn_${hidden - 1}`,
          epsilon: layer.epsilon ?? 1e-3,
          center: layer.beta !== undefined,
          scale: layer.gamma !== undefined,
        }),
      );
      if (layer.gamma) weights.push(tf.tensor1d(layer.gamma));
      if (layer.beta) weights.push(tf.tensor1d(layer.beta));
      frozen.push(tf.tensor1d(layer.movingMean), tf.tensor1d(layer.movingVariance));
    } else {
      net.add(tfl.layers.dropout({ name: `dropout_${hidden - 1}`, rate: layer.rate ?? 0 }));
    }
  });
  net.setWeights([...weights, ...frozen]);
  tf.dispose([...weights, ...frozen]);
  return net;
}
