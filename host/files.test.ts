// host/files.ts: what a reader says of a file that is not JSON. Release and
// container records hold the service's env, so the message names the file
// and where the JSON breaks, never the text around it (Node's JSON.parse
// error quotes it: `..."PASSWORD":hunter2-ve"... is not valid JSON`).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { z } from "zod";
import { readJson } from "./files";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-files-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function readCorrupt(text: string): string {
  const file = path.join(dir, "record.json");
  fs.writeFileSync(file, text);
  const read = readJson(file, z.unknown(), "a record");
  if (read.status !== "corrupt") throw new Error(`expected corrupt, got ${read.status}`);
  return read.message;
}

describe("readJson of a file that is not JSON", () => {
  it("never quotes the file's text: an unquoted secret stays out of the message", () => {
    const message = readCorrupt('{"env":{"DB_PASSWORD":hunter2-very-secret}}');
    expect(message).toBe(`${path.join(dir, "record.json")} is not JSON: unexpected text`);
    expect(message).not.toContain("hunter2");
    expect(message).not.toContain("PASSWORD");
  });

  it("says where the JSON breaks when the parser gives a position, and nothing of the text", () => {
    const message = readCorrupt('{"env":{"DB_PASSWORD":"hunter2"}} trailing-secret');
    expect(message).toMatch(/ is not JSON: unexpected text at position \d+$/);
    expect(message).not.toContain("secret");
  });

  it("says the file ends early for a truncated record", () => {
    expect(readCorrupt('{"env":{"DB_PASSWORD":')).toMatch(
      / is not JSON: it ends before the JSON does$/,
    );
  });
});
