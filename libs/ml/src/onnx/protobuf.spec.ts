import { describe, expect, it } from 'vitest';
import { MAX_FIELD_NUMBER, ProtoWriter, WireType } from './protobuf';

// Expected bytes are worked out by hand from the wire-format rules; the ones marked "docs" are
// the examples of https://protobuf.dev/programming-guides/encoding/.
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const bytesOf = (write: (w: ProtoWriter) => void) => {
  const w = new ProtoWriter(1);
  write(w);
  return hex(w.finish());
};
const ff = (n: number) => 'ff'.repeat(n);

describe('ProtoWriter varints', () => {
  it.each([
    [0, '0800'],
    [1, '0801'],
    [127, '087f'],
    [128, '088001'],
    [150, '089601'], // docs
    [300, '08ac02'],
    [2 ** 31, '088080808008'],
    [2 ** 32, '088080808010'],
    [Number.MAX_SAFE_INTEGER, `08${ff(7)}0f`],
    [2n ** 64n - 1n, `08${ff(9)}01`],
  ] as const)('uint64 %s', (value, want) => {
    expect(bytesOf((w) => w.uint64(1, value))).toBe(want);
  });

  it('writes int64 / int32 negatives as ten-byte two’s complement', () => {
    expect(bytesOf((w) => w.int64(1, -1))).toBe(`08${ff(9)}01`);
    expect(bytesOf((w) => w.int64(1, -1n))).toBe(`08${ff(9)}01`);
    expect(bytesOf((w) => w.int32(1, -2))).toBe(`08fe${ff(8)}01`);
    expect(bytesOf((w) => w.int64(1, -(2n ** 63n)))).toBe(`08${'80'.repeat(9)}01`);
    expect(bytesOf((w) => w.int64(1, 2n ** 63n - 1n))).toBe(`08${ff(8)}7f`);
    expect(bytesOf((w) => w.int64(1, 5))).toBe('0805');
  });

  it('writes bools and tags of large field numbers', () => {
    expect(bytesOf((w) => w.bool(1, true).bool(2, false))).toBe('08011000');
    expect(bytesOf((w) => w.uint64(15, 1))).toBe('7801');
    expect(bytesOf((w) => w.uint64(16, 1))).toBe('800101');
    expect(bytesOf((w) => w.uint64(20, 2))).toBe('a00102');
    // (2^29 − 1) << 3 = 0xfffffff8
    expect(bytesOf((w) => w.tag(MAX_FIELD_NUMBER, WireType.VARINT))).toBe('f8ffffff0f');
  });

  it('refuses what protobuf cannot encode', () => {
    const w = new ProtoWriter();
    expect(() => w.uint64(0, 1)).toThrow(/field number/);
    expect(() => w.uint64(MAX_FIELD_NUMBER + 1, 1)).toThrow(/field number/);
    expect(() => w.uint64(1.5, 1)).toThrow(/field number/);
    expect(() => w.uint64(1, -1)).toThrow(RangeError);
    expect(() => w.uint64(1, 2n ** 64n)).toThrow(RangeError);
    expect(() => w.uint64(1, 2 ** 53)).toThrow(/safe integer/);
    expect(() => w.uint64(1, 1.5)).toThrow(RangeError);
    expect(() => w.int64(1, 2n ** 63n)).toThrow(RangeError);
    expect(() => w.int64(1, -(2n ** 63n) - 1n)).toThrow(RangeError);
    expect(() => w.int64(1, NaN)).toThrow(RangeError);
    expect(() => w.int32(1, 2 ** 31)).toThrow(RangeError);
    expect(() => w.fixed32(1, -1)).toThrow(RangeError);
    expect(w.length).toBe(0);
  });
});

describe('ProtoWriter fixed-width values', () => {
  it('writes little-endian float, double, fixed32 and fixed64', () => {
    expect(bytesOf((w) => w.float(1, 1))).toBe('0d0000803f');
    expect(bytesOf((w) => w.float(2, -2.5))).toBe('15000020c0');
    // 0.1 rounds to float32 0x3dcccccd
    expect(bytesOf((w) => w.float(1, 0.1))).toBe('0dcdcccc3d');
    expect(bytesOf((w) => w.double(1, 1))).toBe('09000000000000f03f');
    expect(bytesOf((w) => w.double(1, 0.1))).toBe('099a9999999999b93f');
    expect(bytesOf((w) => w.fixed32(1, 0xdeadbeef))).toBe('0defbeadde');
    expect(bytesOf((w) => w.fixed64(1, -2))).toBe(`09fe${ff(7)}`);
    expect(bytesOf((w) => w.fixed64(1, 2n ** 64n - 1n))).toBe(`09${ff(8)}`);
  });
});

describe('ProtoWriter length-delimited fields', () => {
  it('writes strings as UTF-8 with their byte length', () => {
    expect(bytesOf((w) => w.string(2, 'testing'))).toBe('120774657374696e67'); // docs
    expect(bytesOf((w) => w.string(1, 'é'))).toBe('0a02c3a9');
    expect(bytesOf((w) => w.string(1, ''))).toBe('0a00');
  });

  it('writes bytes and a length of more than one varint byte', () => {
    expect(bytesOf((w) => w.bytes(1, new Uint8Array([1, 2, 3])))).toBe('0a03010203');
    const long = bytesOf((w) => w.bytes(1, new Uint8Array(300).fill(7)));
    expect(long).toBe(`0aac02${'07'.repeat(300)}`);
  });

  it('writes embedded messages, nested', () => {
    expect(bytesOf((w) => w.message(3, (m) => m.uint64(1, 150)))).toBe('1a03089601'); // docs
    expect(bytesOf((w) => w.message(1, (m) => m.message(2, (n) => n.string(1, 'ab'))))).toBe(
      '0a0612040a026162',
    );
    expect(bytesOf((w) => w.message(5, () => undefined))).toBe('2a00');
    const big = bytesOf((w) => w.message(1, (m) => m.bytes(2, new Uint8Array(200))));
    // inner: tag 12, length c8 01, 200 zeros → 203 bytes = cb 01
    expect(big).toBe(`0acb0112c801${'00'.repeat(200)}`);
  });

  it('writes packed repeated fields as one length-delimited run', () => {
    expect(bytesOf((w) => w.packedInt64(4, [3, 270, 86942]))).toBe('2206038e029ea705'); // docs
    expect(bytesOf((w) => w.packedInt64(1, [-1, 1n]))).toBe(`0a0b${ff(9)}0101`);
    expect(bytesOf((w) => w.packedUint64(1, [1, 2 ** 35]))).toBe('0a0701808080808001');
    expect(bytesOf((w) => w.packedFloat(1, new Float32Array([1, -2.5])))).toBe(
      '0a080000803f000020c0',
    );
    expect(bytesOf((w) => w.packedDouble(1, [1]))).toBe('0a08000000000000f03f');
    expect(bytesOf((w) => w.packedInt64(1, []).packedFloat(2, []).packedDouble(3, []))).toBe('');
  });

  it('keeps fields in the order written across buffer growth', () => {
    const w = new ProtoWriter(1);
    for (let i = 1; i <= 1000; i += 1) w.uint64(1, i);
    const bytes = w.finish();
    expect(bytes.length).toBe(w.length);
    expect(hex(bytes.subarray(0, 6))).toBe('080108020803');
    expect(hex(bytes.subarray(bytes.length - 3))).toBe('08e807'); // 1000
  });
});
