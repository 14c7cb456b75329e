/**
 * The worker-thread entry of the {@link WorkerPool}: holds one onnxruntime session per loaded
 * model and runs batches on them, so that `session.run()` (synchronous native work once it
 * starts) blocks this thread instead of the server's event loop.
 *
 * Messages are handled one at a time, in arrival order. That is what makes the pool's
 * bookkeeping sound: an `unload` sent after a `load` or a `run` finds them finished (a session
 * is never released under a running batch), and a thread runs one batch at a time.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import {
  type AnyTensorData,
  type ModelSignature,
  OIP_DATATYPES,
  type TensorData,
  type TensorSpec,
  asAnyTensor,
  datatypeOfOrt,
  isBatchable,
} from './tensor';
import type { OrtWorkerData, WorkerReply, WorkerRequest } from './worker-messages';

const sessions = new Map<string, ort.InferenceSession>();

function specOf(m: ort.InferenceSession.ValueMetadata, role: 'input' | 'output'): TensorSpec {
  if (!m.isTensor) {
    throw new Error(`${role} "${m.name}" is not a tensor (a sequence or a map); not served`);
  }
  const datatype = datatypeOfOrt(m.type);
  if (datatype === undefined) {
    throw new Error(
      `${role} "${m.name}" has type ${m.type}, which is not served ` +
        `(served: ${OIP_DATATYPES.join(', ')})`,
    );
  }
  // A symbolic dimension comes back as its name, an unset one as '' or a negative number.
  const shape = m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
  return { name: m.name, datatype, shape };
}

function signatureOf(session: ort.InferenceSession): ModelSignature {
  const inputs = session.inputMetadata.map((m) => specOf(m, 'input'));
  const outputs = session.outputMetadata.map((m) => specOf(m, 'output'));
  return { inputs, outputs, batchable: isBatchable(inputs, outputs) };
}

function toOrt(t: AnyTensorData): ort.Tensor {
  switch (t.datatype) {
    case 'FP32':
      return new ort.Tensor('float32', t.data, t.shape);
    case 'FP64':
      return new ort.Tensor('float64', t.data, t.shape);
    case 'INT32':
      return new ort.Tensor('int32', t.data, t.shape);
    case 'INT64':
      return new ort.Tensor('int64', t.data, t.shape);
    case 'BOOL':
      return new ort.Tensor('bool', t.data, t.shape);
    case 'BYTES':
      return new ort.Tensor('string', t.data, t.shape);
  }
}

/**
 * Copies an output out of onnxruntime: its data may live in memory the native side owns (not
 * transferable, and only valid while the tensor is), and the copy's buffer is ours to move.
 */
function fromOrt(name: string, t: ort.Tensor): TensorData {
  const datatype = datatypeOfOrt(t.type);
  const shape = [...t.dims];
  switch (datatype) {
    case 'FP32':
      return { datatype, shape, data: (t.data as Float32Array).slice() };
    case 'FP64':
      return { datatype, shape, data: (t.data as Float64Array).slice() };
    case 'INT32':
      return { datatype, shape, data: (t.data as Int32Array).slice() };
    case 'INT64':
      return { datatype, shape, data: (t.data as BigInt64Array).slice() };
    case 'BOOL':
      return { datatype, shape, data: (t.data as Uint8Array).slice() };
    case 'BYTES':
      return { datatype, shape, data: [...(t.data as string[])] };
    case undefined:
      throw new Error(`output "${name}" came back as ${t.type}, which is not served`);
  }
}

async function handle(
  m: WorkerRequest,
  intraOpThreads: number,
  reply: (r: WorkerReply, transfer?: ArrayBuffer[]) => void,
): Promise<void> {
  switch (m.type) {
    case 'load': {
      if (sessions.has(m.key)) throw new Error(`model ${m.key} is already loaded`);
      const session = await ort.InferenceSession.create(m.model, {
        intraOpNumThreads: intraOpThreads,
        // Parallelism comes from the pool's threads, not from running graph branches at once.
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
      let signature: ModelSignature;
      try {
        signature = signatureOf(session);
      } catch (err) {
        await session.release();
        throw err;
      }
      sessions.set(m.key, session);
      reply({ type: 'loaded', id: m.id, signature });
      return;
    }
    case 'run': {
      const session = sessions.get(m.key);
      if (!session) {
        reply({
          type: 'error',
          id: m.id,
          code: 'not_loaded',
          message: `model ${m.key} is not loaded`,
        });
        return;
      }
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(m.feeds)) feeds[name] = toOrt(asAnyTensor(t));
      const t0 = performance.now();
      const result =
        m.outputs === undefined ? await session.run(feeds) : await session.run(feeds, m.outputs);
      const computeMs = performance.now() - t0;
      const outputs: Record<string, TensorData> = {};
      const transfer: ArrayBuffer[] = [];
      for (const [name, t] of Object.entries(result)) {
        const out = fromOrt(name, t);
        outputs[name] = out;
        if (!Array.isArray(out.data)) transfer.push(out.data.buffer as ArrayBuffer);
      }
      reply({ type: 'result', id: m.id, outputs, computeMs }, transfer);
      return;
    }
    case 'unload': {
      const session = sessions.get(m.key);
      sessions.delete(m.key);
      await session?.release();
      reply({ type: 'unloaded', id: m.id });
      return;
    }
  }
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const { intraOpThreads } = workerData as OrtWorkerData;
  const reply = (r: WorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(r, transfer);
  let queue = Promise.resolve();
  port.on('message', (m: WorkerRequest) => {
    queue = queue
      .then(() => handle(m, intraOpThreads, reply))
      .catch((err: unknown) =>
        reply({
          type: 'error',
          id: m.id,
          code: 'failed',
          message: err instanceof Error ? err.message : String(err),
        }),
      );
  });
  reply({ type: 'ready' });
}
