// The JSON face used by `tapstack qr decode` / `qr encode`.
#include "qr/qr_json.h"

#include <gtest/gtest.h>

#include <string>

#include "support/vectors.h"

namespace tapstack::qr {
namespace {

using nlohmann::json;

std::string VectorPayload(const std::string& id) {
  const json v = tapstack::testing::VectorById(tapstack::testing::LoadVectors("emv_qr.json"), id);
  return v.contains("payload") ? v.at("payload").get<std::string>()
                               : v.at("payload_base64").get<std::string>();
}

TEST(QrJsonTest, DetectsMode) {
  EXPECT_EQ(DetectQrMode("000201010212"), QrMode::kMpm);
  EXPECT_EQ(DetectQrMode("000202"), QrMode::kMpm);  // wrong version: still reported as MPM
  EXPECT_EQ(DetectQrMode("hQVDUFYwMWE="), QrMode::kCpm);
  EXPECT_EQ(DetectQrMode(""), QrMode::kCpm);
  EXPECT_EQ(DetectQrMode("00"), QrMode::kCpm);
}

TEST(QrJsonTest, MpmDecodeShowsTheTree) {
  const json out = DecodeToJson(VectorPayload("M1"));
  EXPECT_EQ(out.at("mode"), "mpm");
  EXPECT_EQ(out.at("valid"), true);
  EXPECT_TRUE(out.at("errors").empty());
  EXPECT_EQ(out.at("crc_computed"), "A13A");
  const json& objects = out.at("objects");
  EXPECT_EQ(objects.front().at("id"), "00");
  EXPECT_EQ(objects.front().at("name"), "Payload Format Indicator");
  EXPECT_EQ(objects.front().at("length"), 2);
  bool saw_language = false;
  for (const json& o : objects) {
    if (o.at("id") != "64") continue;
    saw_language = true;
    ASSERT_EQ(o.at("children").size(), 3u);
    EXPECT_EQ(o.at("children")[1].at("value"), "最佳运输");
    EXPECT_EQ(o.at("children")[1].at("length"), 4);
  }
  EXPECT_TRUE(saw_language);
  EXPECT_FALSE(objects.front().contains("children"));
}

TEST(QrJsonTest, InvalidPayloadShowsErrorsAndObjects) {
  const json out = DecodeToJson(VectorPayload("N1"));
  EXPECT_EQ(out.at("valid"), false);
  ASSERT_EQ(out.at("errors").size(), 1u);
  EXPECT_NE(out.at("errors")[0].get<std::string>().find("CRC mismatch"), std::string::npos);
  EXPECT_GT(out.at("objects").size(), 10u);
}

TEST(QrJsonTest, InvalidUtf8StillDumps) {
  const json out = DecodeToJson(
      "000201\xFF\xFE"
      "5999");
  EXPECT_EQ(out.at("valid"), false);
  EXPECT_NO_THROW((void)out.dump());
}

TEST(QrJsonTest, CpmDecodeShowsHexAndText) {
  const json out = DecodeToJson(VectorPayload("C2"));
  EXPECT_EQ(out.at("mode"), "cpm");
  EXPECT_EQ(out.at("valid"), true);
  const json& format = out.at("objects")[0];
  EXPECT_EQ(format.at("tag"), "85");
  EXPECT_EQ(format.at("value"), "4350563031");
  EXPECT_EQ(format.at("text"), "CPV01");
  const json& app = out.at("objects")[1];
  EXPECT_EQ(app.at("name"), "Application Template");
  EXPECT_EQ(app.at("children")[0].at("tag"), "4F");
  EXPECT_EQ(app.at("children")[0].at("value"), "A0000000555555");
  EXPECT_EQ(app.at("children")[1].at("text"), "Product1");
}

TEST(QrJsonTest, BadBase64IsAnInvalidCpmPayload) {
  const json out = DecodeToJson("not base64!");
  EXPECT_EQ(out.at("mode"), "cpm");
  EXPECT_EQ(out.at("valid"), false);
  EXPECT_TRUE(out.at("objects").empty());
}

TEST(QrJsonTest, DecodeOutputEncodesBackToThePayload) {
  for (const char* id : {"M1", "M2", "M4", "M8", "Z2", "C1", "C2"}) {
    const std::string payload = VectorPayload(id);
    auto encoded = EncodeFromJson(DecodeToJson(payload));
    ASSERT_TRUE(encoded.ok()) << id << ": " << encoded.status().ToString();
    EXPECT_EQ(*encoded, payload) << id;
  }
}

TEST(QrJsonTest, EncodesHandWrittenInput) {
  const json mpm = json::parse(R"([
    {"id": "00", "value": "01"},
    {"id": "01", "value": "12"},
    {"id": "26", "children": [{"id": "00", "value": "com.tapstack"}, {"id": "01", "value": "M1"}]},
    {"id": "52", "value": "5812"},
    {"id": "53", "value": "156"},
    {"id": "54", "value": "12.50"},
    {"id": "58", "value": "CN"},
    {"id": "59", "value": "Noodle Bar"},
    {"id": "60", "value": "SHANGHAI"},
    {"tag": "64", "children": [{"id": "00", "value": "ZH"}, {"id": "01", "value": "面馆"}]}
  ])");
  auto payload = EncodeFromJson(mpm);
  ASSERT_TRUE(payload.ok()) << payload.status().ToString();
  EXPECT_EQ(payload->rfind("00020101021226220012com.tapstack0102M1", 0), 0u) << *payload;
  EXPECT_NE(payload->find("64120002ZH0102面馆6304"), std::string::npos) << *payload;
  EXPECT_EQ(DecodeToJson(*payload).at("valid"), true);

  const json cpm = json::parse(R"({"mode": "cpm", "objects": [
    {"tag": "85", "text": "CPV01"},
    {"tag": "61", "children": [{"tag": "4F", "value": "A0000000555555"},
                               {"tag": "57", "value": "1234567890123458D191220112345F"}]}
  ]})");
  auto base64 = EncodeFromJson(cpm);
  ASSERT_TRUE(base64.ok()) << base64.status().ToString();
  EXPECT_EQ(*base64, "hQVDUFYwMWEaTwegAAAAVVVVVw8SNFZ4kBI0WNGRIgESNF8=");
}

TEST(QrJsonTest, EncodeErrorsNameThePath) {
  const auto message = [](const char* text) {
    auto r = EncodeFromJson(json::parse(text));
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_NE(message(R"([{"value": "01"}])").find("objects[0]: missing \"id\""), std::string::npos);
  EXPECT_NE(message(R"([{"id": 0, "value": "01"}])").find("objects[0].id: expected a string"),
            std::string::npos);
  EXPECT_NE(message(R"([{"id": "00"}])").find("missing \"value\""), std::string::npos);
  EXPECT_NE(message(R"({"mode": "xyz", "objects": []})").find("mode"), std::string::npos);
  EXPECT_NE(message(R"({"mode": "cpm"})").find("objects"), std::string::npos);
  EXPECT_NE(message(R"("text")").find("expected a JSON object"), std::string::npos);
  EXPECT_NE(message(R"({"mode": "cpm", "objects": [{"tag": "XY", "value": "00"}]})")
                .find("objects[0].tag"),
            std::string::npos);
  EXPECT_NE(message(R"({"mode": "cpm", "objects": [{"tag": "50", "value": "0"}]})")
                .find("objects[0].value"),
            std::string::npos);
  EXPECT_NE(message(R"({"mode": "cpm", "objects": [{"tag": "50"}]})").find("\"text\""),
            std::string::npos);
  // Valid JSON, invalid payload: validation refuses unless switched off.
  EXPECT_NE(message(R"([{"id": "00", "value": "01"}])").find("missing mandatory"),
            std::string::npos);
  QrEncodeOptions no_validation;
  no_validation.validate = false;
  EXPECT_TRUE(EncodeFromJson(json::parse(R"([{"id": "00", "value": "01"}])"), no_validation).ok());
}

}  // namespace
}  // namespace tapstack::qr
