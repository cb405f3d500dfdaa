// Docker's multiplexed log stream, built by hand. Not proven here: that the
// daemon frames logs this way for every version (the e2e tests read real logs).
import { demultiplex } from "./docker";

const STDOUT = 1;
const STDERR = 2;

/** One frame: [stream, 0, 0, 0, size (4 bytes big-endian)] + payload. */
function frame(stream: number, payload: string | Buffer): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, "utf8");
  const header = Buffer.alloc(8);
  header.writeUInt8(stream, 0);
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

describe("demultiplex", () => {
  it("interleaves stdout and stderr payloads in order, without headers", () => {
    const buffer = Buffer.concat([
      frame(STDOUT, "listening on :3000\n"),
      frame(STDERR, "warning: slow query\n"),
      frame(STDOUT, ""),
      frame(STDOUT, "GET /health 200\n"),
    ]);
    expect(demultiplex(buffer)).toBe("listening on :3000\nwarning: slow query\nGET /health 200\n");
  });

  it("keeps what arrived of a cut-off last frame", () => {
    const cut = frame(STDERR, "fatal: out of memory\n").subarray(0, 8 + 5);
    expect(demultiplex(Buffer.concat([frame(STDOUT, "ok\n"), cut]))).toBe("ok\nfatal");
  });

  it("ignores a last header that is cut off", () => {
    const cut = frame(STDOUT, "more").subarray(0, 5);
    expect(demultiplex(Buffer.concat([frame(STDOUT, "ok\n"), cut]))).toBe("ok\n");
  });

  // Docker splits payloads at arbitrary bytes, so decoding must wait for the whole stream.
  it("joins a character split across two frames", () => {
    const check = Buffer.from("✓", "utf8");
    const buffer = Buffer.concat([
      frame(STDOUT, Buffer.concat([Buffer.from("done "), check.subarray(0, 1)])),
      frame(STDOUT, check.subarray(1)),
    ]);
    expect(demultiplex(buffer)).toBe("done ✓");
  });

  it("gives nothing for an empty stream", () => {
    expect(demultiplex(Buffer.alloc(0))).toBe("");
  });
});
