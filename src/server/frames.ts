// Server frames are encoded into one reused FlatBuffers builder: every send copies
// the bytes into the socket synchronously, so a frame never outlives the next
// encode, and the hot path allocates no builder per reply.
import * as flatbuffers from 'flatbuffers';
import { type ServerFrame, encodeServerFrame } from '../protocol/index.js';

const builder = new flatbuffers.Builder(4096);

/** Encodes a frame; the bytes are valid until the next call. Send them at once. */
export function serverFrameBytes(frame: ServerFrame): Uint8Array {
  return encodeServerFrame(frame, builder);
}
