/**
 * CRC-32C for the PROXY v2 checksum TLV. Written here: node:zlib has CRC-32 (crc32) but not the
 * Castagnoli polynomial, and a package for 15 lines is not worth a dependency.
 */
let crcTable: Uint32Array | undefined;

/** CRC-32C (Castagnoli), as used by the PP2_TYPE_CRC32C TLV (RFC 4960 appendix B). */
export function crc32c(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of data) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
