/**
 * The message for a worker, copied once into an ArrayBuffer of its own that is then moved
 * (transferred) to the worker, never structured-clone copied again. The record's own buffer
 * stays intact: the stage publishes it afterwards and the bus may hand the same record again on
 * a retry. So a message is held at most twice while a worker reads it: the record's buffer and
 * this copy (which leaves the main thread on postMessage).
 */
export function transferableCopy(buf: Buffer | Uint8Array): { bytes: Uint8Array; transfer: ArrayBuffer[] } {
  const ab = new ArrayBuffer(buf.byteLength);
  const bytes = new Uint8Array(ab);
  bytes.set(buf);
  return { bytes, transfer: [ab] };
}
