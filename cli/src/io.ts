import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import type { Input, Io } from './context';
import { InputError } from './errors';

/** The real terminal and file system. */

function cannotRead(path: string, err: unknown): InputError {
  const code = (err as { code?: string }).code;
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EISDIR'
        ? 'it is a directory'
        : code === 'EACCES'
          ? 'permission denied'
          : (err as Error).message;
  return new InputError(`cannot read ${path}: ${why}`);
}

async function* decode(stream: Readable, counter: { bytes: number }): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    counter.bytes += buf.length;
    const text = decoder.write(buf);
    if (text) yield text;
  }
  const rest = decoder.end();
  if (rest) yield rest;
}

export async function openInput(path: string): Promise<Input> {
  const counter = { bytes: 0 };
  if (path === '-') {
    if (process.stdin.isTTY)
      throw new InputError('reading records from a terminal: pipe them in, or name a file');
    return {
      source: 'stdin',
      chunks: decode(process.stdin, counter),
      bytesRead: () => counter.bytes,
    };
  }
  let size: number;
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    size = s.size;
  } catch (err) {
    throw cannotRead(path, err);
  }
  const stream = createReadStream(path, { highWaterMark: 64 * 1024 });
  return {
    source: path,
    chunks: decode(stream, counter),
    ...(size > 0 ? { size } : {}),
    bytesRead: () => counter.bytes,
  };
}

export async function readText(path: string): Promise<string> {
  if (path === '-') {
    const parts: Buffer[] = [];
    for await (const chunk of process.stdin as AsyncIterable<Buffer>) parts.push(chunk);
    return Buffer.concat(parts).toString('utf8');
  }
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw cannotRead(path, err);
  }
}

export const terminalIo: Io = {
  stdout: (s) => {
    process.stdout.write(s);
  },
  stderr: (s) => {
    process.stderr.write(s);
  },
  stderrIsTTY: process.stderr.isTTY === true,
  columns: () => process.stderr.columns || 80,
  readText,
  openInput,
};
