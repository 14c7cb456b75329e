import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerSection } from '@mlops/contracts';

/**
 * Optimizers of the training loop, written out so that the learning rate is a plain argument of
 * every step (the schedule owns it) and AdamW's decay is decoupled. The update rules are
 * PyTorch's (torch/optim/{adam,adamw,sgd}.py), with Keras's ε placement (ε added to √v̂):
 *
 *   Adam   m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; w ← w − lr · m̂ / (√v̂ + ε),
 *          m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ)
 *   AdamW  w ← w − lr · λ · w first (kernels only: no decay on biases and normalisation), then Adam
 *   SGD    b ← μb + g (b = g at the first step); w ← w − lr · b, or w − lr · (g + μb) (Nesterov)
 */
export interface Optimizer {
  /** One update of `variables` by `gradients` (same order) at learning rate `lr`. */
  step(variables: readonly tf.Variable[], gradients: readonly tf.Tensor[], lr: number): void;
  /** Step count so far. */
  readonly steps: number;
  dispose(): void;
}

export function createOptimizer(
  spec: OptimizerSection,
  /** Per variable: decay it (AdamW)? Kernels yes, biases and batch-norm parameters no. */
  decays: readonly boolean[],
): Optimizer {
  switch (spec.type) {
    case 'adam':
      return new Adam(spec.beta1, spec.beta2, spec.epsilon, 0, decays);
    case 'adamw':
      return new Adam(spec.beta1, spec.beta2, spec.epsilon, spec.weightDecay, decays);
    case 'sgd':
      return new Sgd(spec.momentum, spec.nesterov);
  }
}

class Adam implements Optimizer {
  private m: tf.Variable[] = [];
  private v: tf.Variable[] = [];
  steps = 0;

  constructor(
    private readonly beta1: number,
    private readonly beta2: number,
    private readonly epsilon: number,
    private readonly weightDecay: number,
    private readonly decays: readonly boolean[],
  ) {}

  step(variables: readonly tf.Variable[], gradients: readonly tf.Tensor[], lr: number): void {
    if (this.m.length === 0) {
      this.m = variables.map((w) => tf.variable(tf.zerosLike(w), false));
      this.v = variables.map((w) => tf.variable(tf.zerosLike(w), false));
    }
    this.steps += 1;
    const t = this.steps;
    const c1 = 1 - this.beta1 ** t;
    const c2 = 1 - this.beta2 ** t;
    tf.tidy(() => {
      variables.forEach((w, i) => {
        const g = gradients[i];
        const m = tf.add(tf.mul(this.m[i], this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(this.v[i], this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        let base: tf.Tensor = w;
        if (this.weightDecay > 0 && this.decays[i]) base = tf.mul(w, 1 - lr * this.weightDecay);
        const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), this.epsilon));
        w.assign(tf.sub(base, tf.mul(update, lr)));
      });
    });
  }

  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose();
  }
}

class Sgd implements Optimizer {
  private buffers: tf.Variable[] = [];
  steps = 0;

  constructor(
    private readonly momentum: number,
    private readonly nesterov: boolean,
  ) {}

  step(variables: readonly tf.Variable[], gradients: readonly tf.Tensor[], lr: number): void {
    const first = this.steps === 0;
    this.steps += 1;
    tf.tidy(() => {
      variables.forEach((w, i) => {
        let g = gradients[i];
        if (this.momentum > 0) {
          if (first) this.buffers.push(tf.variable(tf.clone(g), false));
          else this.buffers[i].assign(tf.add(tf.mul(this.buffers[i], this.momentum), g));
          const b = this.buffers[i];
          g = this.nesterov ? tf.add(g, tf.mul(b, this.momentum)) : b;
        }
        w.assign(tf.sub(w, tf.mul(g, lr)));
      });
    });
  }

  dispose(): void {
    for (const b of this.buffers) b.dispose();
  }
}

/**
 * Scales gradients so their global L2 norm is at most `maxNorm` (PyTorch's clip_grad_norm_:
 * factor maxNorm / (norm + 1e-6) when it exceeds it). Returns the norm before clipping.
 */
export function clipByGlobalNorm(gradients: tf.Tensor[], maxNorm: number): number {
  const norm = Math.sqrt(
    tf.tidy(() => tf.addN(gradients.map((g) => tf.sum(tf.square(g)))).dataSync()[0]),
  );
  if (norm > maxNorm) {
    const factor = maxNorm / (norm + 1e-6);
    for (let i = 0; i < gradients.length; i++) {
      const scaled = tf.mul(gradients[i], factor);
      gradients[i].dispose();
      gradients[i] = scaled;
    }
  }
  return norm;
}
