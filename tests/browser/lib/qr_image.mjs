// Pictures of QR codes for the "scan from a picture" step, made in the page the way a person's
// screenshot would be: the server draws the code (POST /v1/qr-images → SVG, libqrencode), the page
// paints it on a canvas and exports a PNG (canvas.toBlob). The bytes come back to the journey as a
// Buffer for page.setInputFiles.

// A PNG of `text` as a QR code, `sidePx` pixels square (the SVG scaled, white around it). With
// text === null: a blank white PNG of the same size (a picture without a code).
export async function qrPng(page, text, { sidePx = 480 } = {}) {
  const base64 = await page.evaluate(async ({ text, sidePx }) => {
    const canvas = document.createElement('canvas');
    canvas.width = sidePx;
    canvas.height = sidePx;
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, sidePx, sidePx);
    if (text !== null) {
      const res = await fetch('/v1/qr-images', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text }),
      });
      if (!res.ok) throw new Error(`POST /v1/qr-images answered ${res.status}`);
      const url = URL.createObjectURL(new Blob([await res.text()], { type: 'image/svg+xml' }));
      try {
        const img = new Image();
        img.src = url;
        await img.decode();
        ctx.imageSmoothingEnabled = false;
        ctx.drawImage(img, 0, 0, sidePx, sidePx);
      } finally {
        URL.revokeObjectURL(url);
      }
    }
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(binary);
  }, { text, sidePx });
  const buffer = Buffer.from(base64, 'base64');
  // PNG signature: 89 50 4E 47 0D 0A 1A 0A.
  if (buffer.length < 8 || buffer.readUInt32BE(0) !== 0x89504e47) throw new Error('canvas.toBlob did not make a PNG');
  return buffer;
}
