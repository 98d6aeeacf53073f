#!/usr/bin/env node
// CRC-16/CCITT-FALSE oracle for tests/qr/crc_oracle_test.cc: an implementation that is not
// tapstack's (npm `crc`, pinned in package.json). Reads FILE, splits it into lines on "\n" bytes
// (a final newline does not start another line), and prints for each line the CRC of its raw
// bytes (UTF-8 as written, never re-encoded) as four uppercase hex digits, one per line.
'use strict';

const fs = require('fs');
const { crc16ccitt } = require('crc');

if (process.argv.length !== 3) {
  process.stderr.write('usage: node crc_oracle.js FILE\n');
  process.exit(2);
}

const data = fs.readFileSync(process.argv[2]);
const lines = [];
let start = 0;
for (let i = 0; i < data.length; i++) {
  if (data[i] === 0x0a) {
    lines.push(data.subarray(start, i));
    start = i + 1;
  }
}
if (start < data.length) lines.push(data.subarray(start));

const out = lines.map((line) => crc16ccitt(line).toString(16).toUpperCase().padStart(4, '0'));
process.stdout.write(out.join('\n') + (out.length > 0 ? '\n' : ''));
