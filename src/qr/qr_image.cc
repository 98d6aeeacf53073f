#include "qr/qr_image.h"

#include <qrencode.h>
#include <zbar.h>

#include <memory>

namespace tapstack::qr {

Result<std::string> QrImageSvg(std::string_view text, int module_px) {
  if (text.empty() || text.size() > kQrImageTextBytesMax) {
    return InvalidArgument("text: expected 1-" + std::to_string(kQrImageTextBytesMax) + " bytes");
  }
  if (module_px < 1 || module_px > 32) return InvalidArgument("module_px: expected 1-32");
  // Byte mode with an explicit length (QRcode_encodeData): no NUL-terminated string, version 0 =
  // the smallest symbol that holds the text.
  std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeData(static_cast<int>(text.size()),
                        reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M),
      &QRcode_free);
  if (!code) return Internal("libqrencode could not encode the text");
  const int width = code->width;
  const int size = (width + 2 * kQrQuietZoneModules) * module_px;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(size) +
                    "\" height=\"" + std::to_string(size) + "\" viewBox=\"0 0 " +
                    std::to_string(width + 2 * kQrQuietZoneModules) + " " +
                    std::to_string(width + 2 * kQrQuietZoneModules) +
                    "\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" "
                    "fill=\"#fff\"/><path fill=\"#000\" d=\"";
  // Bit 0 of each byte is the module's colour (1 = dark), row by row (qrencode.h).
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width; ++x) {
      if (code->data[y * width + x] & 1) {
        svg += "M" + std::to_string(x + kQrQuietZoneModules) + " " +
               std::to_string(y + kQrQuietZoneModules) + "h1v1h-1z";
      }
    }
  }
  svg += "\"/></svg>";
  return svg;
}

Result<std::string> ReadQrImage(int width, int height, std::string_view gray) {
  if (width < 1 || width > kQrImageSidePxMax) {
    return InvalidArgument("width: expected 1-" + std::to_string(kQrImageSidePxMax));
  }
  if (height < 1 || height > kQrImageSidePxMax) {
    return InvalidArgument("height: expected 1-" + std::to_string(kQrImageSidePxMax));
  }
  if (gray.size() != static_cast<std::size_t>(width) * static_cast<std::size_t>(height)) {
    return InvalidArgument("gray: expected width*height = " +
                           std::to_string(static_cast<std::int64_t>(width) * height) +
                           " luminance bytes, got " + std::to_string(gray.size()));
  }
  std::unique_ptr<zbar::zbar_image_scanner_t, decltype(&zbar::zbar_image_scanner_destroy)> scanner(
      zbar::zbar_image_scanner_create(), &zbar::zbar_image_scanner_destroy);
  std::unique_ptr<zbar::zbar_image_t, decltype(&zbar::zbar_image_destroy)> image(
      zbar::zbar_image_create(), &zbar::zbar_image_destroy);
  if (!scanner || !image) return Internal("zbar could not start");
  // QR codes only: a payment screen reads nothing else.
  zbar::zbar_image_scanner_set_config(scanner.get(), zbar::ZBAR_NONE, zbar::ZBAR_CFG_ENABLE, 0);
  zbar::zbar_image_scanner_set_config(scanner.get(), zbar::ZBAR_QRCODE, zbar::ZBAR_CFG_ENABLE, 1);
  zbar::zbar_image_set_format(image.get(), zbar_fourcc('Y', '8', '0', '0'));  // 8-bit gray
  zbar::zbar_image_set_size(image.get(), static_cast<unsigned>(width),
                            static_cast<unsigned>(height));
  // zbar reads the caller's bytes in place (no cleanup handler: the view outlives the scan).
  zbar::zbar_image_set_data(image.get(), gray.data(), gray.size(), nullptr);
  if (zbar::zbar_scan_image(scanner.get(), image.get()) <= 0) {
    return NotFound("image: no readable QR code");
  }
  const zbar::zbar_symbol_t* symbol = zbar::zbar_image_first_symbol(image.get());
  if (symbol == nullptr) return NotFound("image: no readable QR code");
  return std::string(zbar::zbar_symbol_get_data(symbol), zbar::zbar_symbol_get_data_length(symbol));
}

}  // namespace tapstack::qr
