// Fuzz target for src/qr/qr_image.h: arbitrary bytes as an uploaded picture's luminance (the first
// byte picks the width, 1-256 pixels; the rest is the pixels, cut to whole rows) for ReadQrImage
// (zbar), and as text for QrImageSvg (libqrencode). Properties: neither crashes; a picture is read
// or refused with kNotFound / kInvalidArgument only; a text that encodes gives one SVG document.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "qr/qr_image.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using tapstack::ErrorCode;
  if (size < 2) return 0;
  const int width = data[0] + 1;
  const std::string_view pixels(reinterpret_cast<const char*>(data + 1), size - 1);
  const int height = static_cast<int>(pixels.size()) / width;
  if (height >= 1) {
    const auto read = tapstack::qr::ReadQrImage(
        width, height, pixels.substr(0, static_cast<std::size_t>(width) * height));
    Check(read.ok() || read.status().code() == ErrorCode::kNotFound ||
          read.status().code() == ErrorCode::kInvalidArgument);
  }
  const auto svg = tapstack::qr::QrImageSvg(pixels.substr(0, tapstack::qr::kQrImageTextBytesMax));
  if (svg.ok()) Check(svg->rfind("<svg", 0) == 0 && svg->ends_with("</svg>"));
  return 0;
}
