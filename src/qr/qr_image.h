// QR code pictures (ISO/IEC 18004): QrImageSvg draws a payload as a symbol made by Debian's
// libqrencode, in SVG (what a wallet screen shows for a payment code); ReadQrImage finds a symbol
// in a photo or screenshot with Debian's zbar (what the wallet's "scan from a picture" does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace tapstack::qr {

// EMVCo MPM/CPM payloads are at most 512 characters; a little room for other payment codes.
inline constexpr std::size_t kQrImageTextBytesMax = 1024;
// The quiet zone the standard requires around the symbol (ISO/IEC 18004 section 6.3.8).
inline constexpr int kQrQuietZoneModules = 4;

// An SVG document of `text` in byte mode at error-correction level M, `module_px` pixels per module
// (1..32). Errors: kInvalidArgument ("text: …") when empty or over kQrImageTextBytesMax, or
// module_px out of range; kInternal when libqrencode fails.
Result<std::string> QrImageSvg(std::string_view text, int module_px = 6);

// A picture is at most this many pixels a side (a phone screenshot fits; a 24-megapixel photo
// must be scaled down by the client first).
inline constexpr int kQrImageSidePxMax = 4096;

// The text of the first QR code in a `width` x `height` picture of 8-bit luminance (one byte per
// pixel, rows top to bottom). Errors: kInvalidArgument naming width, height or gray (size not
// width*height); kNotFound when no QR code is readable.
Result<std::string> ReadQrImage(int width, int height, std::string_view gray);

}  // namespace tapstack::qr
