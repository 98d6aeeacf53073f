// ISO 8583 oracle for tapstack's interop test: npm iso_8583 2.6.7 (zemuldo/iso_8583), an
// implementation nobody on tapstack wrote, pinned by package-lock.json in this folder.
//
//   node iso8583_oracle.js pack FILE     FILE: JSON array of {"0": mti, "2": ..., ...} (npm's
//                                        own message form); prints one hex frame per line
//                                        (2-byte length header + message) or "ERROR <reason>".
//   node iso8583_oracle.js unpack FILE   FILE: one hex frame per line; prints a JSON array of
//                                        npm's parsed messages (or {"error": ...} entries).
//
// Overrides of npm's 1987 defaults, each a documented quirk (docs/ISO8583.md):
//   DE64/DE128 are b64 = 8 bytes; npm's default MaxLen 8 counts hex characters and packs 4 bytes.
const fs = require('fs');
const ISO8583 = require('iso_8583');

const customFormats = {
  '64': { ContentType: 'b', Label: 'Message authentication code', LenType: 'fixed', MaxLen: 16 },
  '128': { ContentType: 'b', Label: 'Message authentication code', LenType: 'fixed', MaxLen: 16 },
};

const [mode, file] = process.argv.slice(2);
const text = fs.readFileSync(file, 'utf8');

if (mode === 'pack') {
  for (const msg of JSON.parse(text)) {
    const buf = new ISO8583(msg, customFormats).getBufferMessage();
    console.log(buf.error ? 'ERROR ' + JSON.stringify(buf.error) : buf.toString('hex').toUpperCase());
  }
} else if (mode === 'unpack') {
  const out = text.split('\n').filter((l) => l.trim() !== '').map((hex) =>
    new ISO8583(undefined, customFormats).getIsoJSON(Buffer.from(hex.trim(), 'hex'), {}));
  console.log(JSON.stringify(out));
} else {
  console.error('usage: iso8583_oracle.js pack|unpack FILE');
  process.exit(2);
}
