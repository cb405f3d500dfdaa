// @ts-check
// Preloaded into every Node.js process of a profiled preview
// (bench/preview-profile.ts, through NODE_OPTIONS=--require, which refuses
// --cpu-prof): V8's CPU profiler from the start, written as a .cpuprofile to
// $CONDUCTOR_CPU_PROFILE_DIR when the process exits, or when the CLI stops it
// with a signal (re-raised afterwards, so the process ends as it would have).
"use strict";

const fs = require("fs");
const inspector = require("inspector");
const path = require("path");

const dir = process.env.CONDUCTOR_CPU_PROFILE_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 500 });
  session.post("Profiler.start");
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    // An in-process session answers synchronously: this works in an 'exit' handler.
    session.post("Profiler.stop", (err, result) => {
      if (err) return;
      const file = path.join(dir, `${process.pid}.${Date.now()}.cpuprofile`);
      fs.writeFileSync(file, JSON.stringify(result.profile));
    });
  };
  process.on("exit", write);
  for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"])) {
    process.once(signal, () => {
      write();
      process.kill(process.pid, signal);
    });
  }
}
