// npm iso_8583 pack + unpack rate of bench/data/contactless_0100.json (the message
// bench/iso8583_bench.cc measures), on this machine. Prints one JSON line.
//   node iso8583_npm_bench.js MESSAGE_JSON [SECONDS]
const fs = require('fs');
const ISO8583 = require('iso_8583');

const [file, secondsArg] = process.argv.slice(2);
const message = JSON.parse(fs.readFileSync(file, 'utf8'));
const seconds = Number(secondsArg || 3);

function once() {
  const buf = new ISO8583(message).getBufferMessage();
  if (buf.error) throw new Error(JSON.stringify(buf.error));
  const back = new ISO8583().getIsoJSON(buf, {});
  if (back.error || back['55'] !== message['55']) throw new Error('npm round trip failed');
}

for (let i = 0; i < 2000; ++i) once();  // warm up the JIT
let iterations = 0;
const start = process.hrtime.bigint();
const deadline = start + BigInt(Math.round(seconds * 1e9));
let now = start;
while (now < deadline) {
  for (let i = 0; i < 1000; ++i) once();
  iterations += 1000;
  now = process.hrtime.bigint();
}
const elapsed = Number(now - start) / 1e9;
console.log(JSON.stringify({ implementation: 'npm iso_8583 2.6.7', node: process.version,
  messages: iterations, seconds: elapsed, messages_per_second: iterations / elapsed }));
