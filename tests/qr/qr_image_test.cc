#include "qr/qr_image.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace tapstack::qr {
namespace {

bool Dark(const std::string& svg, int x, int y) {
  return svg.find("M" + std::to_string(x) + " " + std::to_string(y) + "h1v1h-1z") !=
         std::string::npos;
}

TEST(QrImageTest, DrawsTheSmallestSymbolWithFinderPatternsAndQuietZone) {
  // 18 bytes in byte mode at level M need version 2: 25 modules, plus 4 quiet modules each side
  // (ISO/IEC 18004 Table 7: version 1-M holds 14 bytes, version 2-M 26).
  Result<std::string> svg = QrImageSvg("281234567890123456", 6);
  ASSERT_TRUE(svg.ok()) << svg.status().ToString();
  EXPECT_NE(svg->find("viewBox=\"0 0 33 33\""), std::string::npos);
  EXPECT_NE(svg->find("width=\"198\""), std::string::npos);  // 33 modules x 6 px
  // The top-left finder pattern: a dark 7x7 ring, a light ring, a dark 3x3 centre.
  const int q = kQrQuietZoneModules;
  for (int i = 0; i < 7; ++i) {
    EXPECT_TRUE(Dark(*svg, q + i, q)) << i;
    EXPECT_TRUE(Dark(*svg, q, q + i)) << i;
  }
  EXPECT_FALSE(Dark(*svg, q + 1, q + 1));
  EXPECT_TRUE(Dark(*svg, q + 3, q + 3));
  // The top-right finder pattern starts 7 modules before the symbol's right edge; nothing is
  // drawn in the quiet zone.
  EXPECT_TRUE(Dark(*svg, q + 25 - 7, q));
  EXPECT_FALSE(Dark(*svg, q - 1, q));
}

TEST(QrImageTest, LongerTextNeedsABiggerSymbolAndBadInputIsRefused) {
  Result<std::string> small = QrImageSvg("x");
  Result<std::string> big = QrImageSvg(std::string(300, 'x'));
  ASSERT_TRUE(small.ok());
  ASSERT_TRUE(big.ok());
  EXPECT_GT(big->size(), small->size());
  EXPECT_EQ(QrImageSvg("").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(QrImageSvg(std::string(kQrImageTextBytesMax + 1, 'x')).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(QrImageSvg("x", 0).status().code(), ErrorCode::kInvalidArgument);
}

// Rasterises QrImageSvg's symbol (its "Mx yh1v1h-1z" squares) at `px` pixels per module.
std::string Rasterise(const std::string& svg, int modules, int px) {
  const int side = modules * px;
  std::string gray(static_cast<std::size_t>(side) * side, static_cast<char>(0xFF));
  const std::regex square(R"(M(\d+) (\d+)h1v1h-1z)");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), square); it != std::sregex_iterator();
       ++it) {
    const int x = std::stoi((*it)[1]), y = std::stoi((*it)[2]);
    for (int dy = 0; dy < px; ++dy) {
      for (int dx = 0; dx < px; ++dx)
        gray[static_cast<std::size_t>((y * px + dy) * side + x * px + dx)] = 0;
    }
  }
  return gray;
}

TEST(QrImageTest, ZbarReadsWhatLibqrencodeDrew) {
  const std::string payload =
      "00020101021226310016cn.tapstack.qr0111BJNOODLES0152045812530315654041250"
      "5802CN5913Beijing Noodle6007Beijing6304ABCD";
  Result<std::string> svg = QrImageSvg(payload);
  ASSERT_TRUE(svg.ok());
  std::smatch box;
  ASSERT_TRUE(std::regex_search(*svg, box, std::regex(R"(viewBox="0 0 (\d+) )")));
  const int modules = std::stoi(box[1]);
  const std::string gray = Rasterise(*svg, modules, 4);
  Result<std::string> read = ReadQrImage(modules * 4, modules * 4, gray);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, payload);
}

TEST(QrImageTest, ReadingRefusesBadSizesAndFindsNothingInABlankPicture) {
  EXPECT_EQ(ReadQrImage(0, 10, "").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ReadQrImage(kQrImageSidePxMax + 1, 1, "").status().code(), ErrorCode::kInvalidArgument);
  Result<std::string> short_data = ReadQrImage(10, 10, std::string(99, 'x'));
  EXPECT_EQ(short_data.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(short_data.status().message().find("gray"), std::string::npos);
  EXPECT_EQ(ReadQrImage(64, 64, std::string(64 * 64, static_cast<char>(0xFF))).status().code(),
            ErrorCode::kNotFound);
}

}  // namespace
}  // namespace tapstack::qr
