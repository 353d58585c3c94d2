// The committed flatc output (flatc 2.0.8) must work with the flatbuffers runtime
// we ship (25.9.23): these round trips prove the pair builds and reads every shape
// the protocol leans on (unions, vectors of union-holding tables, structs, bytes).
import * as flatbuffers from 'flatbuffers';
import { describe, expect, test } from 'vitest';
import {
  CreateMode,
  CreateRequest,
  DeleteRequest,
  EventType,
  Frame,
  Message,
  MultiRequest,
  ReplyFrame,
  Request,
  RequestFrame,
  Response,
  Stat,
  StatResponse,
  WatchEvent,
  WriteOp,
  WriteOpEntry,
} from '../../schema/generated/client_generated.js';

function finish(builder: flatbuffers.Builder, type: Message, message: number): Uint8Array {
  Frame.startFrame(builder);
  Frame.addMessageType(builder, type);
  Frame.addMessage(builder, message);
  builder.finish(Frame.endFrame(builder));
  return builder.asUint8Array();
}

function readFrame(bytes: Uint8Array): Frame {
  return Frame.getRootAsFrame(new flatbuffers.ByteBuffer(bytes));
}

describe('client protocol schema (generated code + runtime)', () => {
  test('a create request round-trips with its path, data, mode and xid', () => {
    const b = new flatbuffers.Builder(256);
    const path = b.createString('/app/lock-');
    const data = CreateRequest.createDataVector(b, Uint8Array.of(1, 2, 3));
    CreateRequest.startCreateRequest(b);
    CreateRequest.addPath(b, path);
    CreateRequest.addData(b, data);
    CreateRequest.addMode(b, CreateMode.EphemeralSequential);
    const create = CreateRequest.endCreateRequest(b);
    const frame = RequestFrame.createRequestFrame(b, 42, Request.CreateRequest, create, false);
    const bytes = finish(b, Message.RequestFrame, frame);

    const read = readFrame(bytes);
    expect(read.messageType()).toBe(Message.RequestFrame);
    const request = read.message(new RequestFrame()) as RequestFrame;
    expect(request.xid()).toBe(42);
    expect(request.requestType()).toBe(Request.CreateRequest);
    const c = request.request(new CreateRequest()) as CreateRequest;
    expect(c.path()).toBe('/app/lock-');
    expect([...c.dataArray()!]).toEqual([1, 2, 3]);
    expect(c.mode()).toBe(CreateMode.EphemeralSequential);
  });

  test('defaults hold when a field is absent: version -1 means any version', () => {
    const b = new flatbuffers.Builder(64);
    const path = b.createString('/x');
    const del = DeleteRequest.createDeleteRequest(b, path, -1);
    const bytes = finish(b, Message.RequestFrame, RequestFrame.createRequestFrame(b, 1, Request.DeleteRequest, del, false));
    const request = readFrame(bytes).message(new RequestFrame()) as RequestFrame;
    expect((request.request(new DeleteRequest()) as DeleteRequest).version()).toBe(-1);
  });

  test('a multi carries a vector of op entries, each a union', () => {
    const b = new flatbuffers.Builder(256);
    const entries = ['/a', '/b'].map((p) => {
      const path = b.createString(p);
      const del = DeleteRequest.createDeleteRequest(b, path, 3);
      return WriteOpEntry.createWriteOpEntry(b, WriteOp.DeleteRequest, del);
    });
    const ops = MultiRequest.createOpsVector(b, entries);
    const multi = MultiRequest.createMultiRequest(b, ops);
    const bytes = finish(b, Message.RequestFrame, RequestFrame.createRequestFrame(b, 7, Request.MultiRequest, multi, false));
    const request = readFrame(bytes).message(new RequestFrame()) as RequestFrame;
    const m = request.request(new MultiRequest()) as MultiRequest;
    expect(m.opsLength()).toBe(2);
    const second = m.ops(1)!.op(new DeleteRequest()) as DeleteRequest;
    expect(second.path()).toBe('/b');
    expect(second.version()).toBe(3);
  });

  test('a reply carries xid, zxid, error and a Stat struct with 64-bit fields as bigint', () => {
    const b = new flatbuffers.Builder(128);
    StatResponse.startStatResponse(b);
    StatResponse.addStat(b, Stat.createStat(b, 5n, 6n, 7n, 1000n, 2000n, 1, 2, 3, 4, 0x1234n, 9));
    const stat = StatResponse.endStatResponse(b);
    const reply = ReplyFrame.createReplyFrame(b, 9, 123n, 0, Response.StatResponse, stat);
    const read = readFrame(finish(b, Message.ReplyFrame, reply)).message(new ReplyFrame()) as ReplyFrame;
    expect(read.xid()).toBe(9);
    expect(read.zxid()).toBe(123n);
    const s = (read.response(new StatResponse()) as StatResponse).stat()!;
    expect([s.czxid(), s.mzxid(), s.pzxid(), s.version(), s.dataLength(), s.ephemeralOwner(), s.numChildren()]).toEqual([5n, 6n, 7n, 1, 4, 0x1234n, 9]);
  });

  test('a watch event carries its type, path and zxid', () => {
    const b = new flatbuffers.Builder(64);
    const path = b.createString('/w');
    const event = WatchEvent.createWatchEvent(b, EventType.NodeDeleted, path, 77n, 0);
    const read = readFrame(finish(b, Message.WatchEvent, event)).message(new WatchEvent()) as WatchEvent;
    expect([read.type(), read.path(), read.zxid(), read.forXid()]).toEqual([EventType.NodeDeleted, '/w', 77n, 0]);
  });
});
