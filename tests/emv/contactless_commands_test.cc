#include "emv/contactless_commands.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "emv/dol.h"
#include "emv_test_util.h"
#include "support/vectors.h"

namespace tapstack::emv {
namespace {

using nlohmann::json;
using testing::Hex;
using testing::ToHex;

std::string Encoded(const CommandApdu& command) {
  Result<Bytes> bytes = EncodeCommandApdu(command);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? ToHex(*bytes) : "";
}

std::string Encoded(const Result<CommandApdu>& command) {
  EXPECT_TRUE(command.ok()) << command.status().ToString();
  return command.ok() ? Encoded(*command) : "";
}

std::string S(const json& v, const char* field) { return v.at(field).get<std::string>(); }

const json& Vectors() {
  static const json doc = tapstack::testing::LoadVectors("emv_crypto.json");
  return doc;
}

json Vector(const std::string& id) { return tapstack::testing::VectorById(Vectors(), id); }

// Every APDU-family vector in the file is handled below; a new one fails here until it is.
TEST(ContactlessVectorTest, EveryApduVectorIsCovered) {
  const std::set<std::string> covered = {"APDU-SELECT-PSE",           "APDU-SELECT-PPSE",
                                         "APDU-SELECT-AID-VISA",      "APDU-GPO-EMPTY-PDOL-FMT1",
                                         "APDU-GPO-EMPTY-PDOL-FMT2",  "APDU-GPO-PDOL-9F33",
                                         "APDU-READ-RECORD-SFI1-REC2"};
  for (const json& v : Vectors().at("vectors")) {
    const std::string algo = S(v, "algo");
    if (algo != "apdu" && algo != "gpo") continue;
    EXPECT_TRUE(covered.count(S(v, "id")) == 1) << "vector not covered: " << S(v, "id");
  }
}

TEST(ContactlessVectorTest, SelectPse) {
  const json v = Vector("APDU-SELECT-PSE");
  EXPECT_EQ(Encoded(SelectPse()), S(v, "c_apdu"));
  const Bytes bytes = Hex(S(v, "c_apdu"));
  EMV_ASSERT_OK_AND_ASSIGN(const CommandApdu parsed, ParseCommandApdu(bytes));
  EXPECT_EQ(parsed, SelectPse());
}

TEST(ContactlessVectorTest, SelectPpse) {
  const json v = Vector("APDU-SELECT-PPSE");
  EXPECT_EQ(Encoded(SelectPpse()), S(v, "c_apdu"));
  const Bytes bytes = Hex(S(v, "c_apdu"));
  EMV_ASSERT_OK_AND_ASSIGN(const CommandApdu parsed, ParseCommandApdu(bytes));
  EXPECT_EQ(parsed, SelectPpse());
  EXPECT_EQ(std::string(parsed.data.begin(), parsed.data.end()), kPpseName);
}

TEST(ContactlessVectorTest, SelectVisaAid) {
  const json v = Vector("APDU-SELECT-AID-VISA");
  EXPECT_EQ(Encoded(SelectAid(Hex("A0000000031010"))), S(v, "c_apdu"));
}

void CheckGpoEmptyPdol(const std::string& id, ResponseFormat format) {
  const json v = Vector(id);
  EXPECT_EQ(Encoded(GetProcessingOptions({})), S(v, "c_apdu"));
  const Bytes r_apdu = Hex(S(v, "r_apdu"));
  EMV_ASSERT_OK_AND_ASSIGN(const ResponseApdu response, ParseResponseApdu(r_apdu));
  ASSERT_TRUE(response.sw.IsSuccess());
  EMV_ASSERT_OK_AND_ASSIGN(const ProcessingOptions options, ParseProcessingOptions(response.data));
  EXPECT_EQ(options.format, format);
  EXPECT_EQ(ToHex(options.aip), S(v, "expected_aip"));
  EXPECT_EQ(ToHex(options.afl), S(v, "expected_afl"));
  EXPECT_EQ(options.afl_entries.size(), S(v, "expected_afl").size() / 8);
}

TEST(ContactlessVectorTest, GpoEmptyPdolFormat1) {
  CheckGpoEmptyPdol("APDU-GPO-EMPTY-PDOL-FMT1", ResponseFormat::kFormat1);
  // AFL 08020200 10010400 18010201: SFI 1 rec 2; SFI 2 rec 1-4; SFI 3 rec 1-2, 1 for ODA.
  const Bytes afl = Hex("080202001001040018010201");
  EMV_ASSERT_OK_AND_ASSIGN(const std::vector<AflEntry> entries, ParseAfl(afl));
  const std::vector<AflEntry> expected = {{1, 2, 2, 0}, {2, 1, 4, 0}, {3, 1, 2, 1}};
  EXPECT_EQ(entries, expected);
}

TEST(ContactlessVectorTest, GpoEmptyPdolFormat2) {
  CheckGpoEmptyPdol("APDU-GPO-EMPTY-PDOL-FMT2", ResponseFormat::kFormat2);
}

TEST(ContactlessVectorTest, GpoWithPdolFromTheFci) {
  const json v = Vector("APDU-GPO-PDOL-9F33");
  const Bytes fci_bytes = Hex(S(v, "fci"));
  EMV_ASSERT_OK_AND_ASSIGN(const FileControlInformation fci, ParseFci(fci_bytes));
  EXPECT_EQ(ToHex(fci.pdol), S(v, "pdol"));
  EXPECT_EQ(ToHex(fci.df_name), "A0000000031003");
  EXPECT_EQ(fci.label, "Debit");
  TagValues terminal;
  EMV_ASSERT_OK(terminal.SetHex("9F33", S(v, "terminal_9F33")));
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes pdol_data, BuildDolData(fci.pdol, TagSources{&terminal}));
  EXPECT_EQ(Encoded(GetProcessingOptions(pdol_data)), S(v, "c_apdu"));
}

TEST(ContactlessVectorTest, ReadRecord) {
  const json v = Vector("APDU-READ-RECORD-SFI1-REC2");
  EXPECT_EQ(Encoded(ReadRecord(1, 2)), S(v, "c_apdu"));
}

TEST(SelectTest, AidAndNameLengthsAreChecked) {
  EXPECT_FALSE(SelectAid(Hex("A0000000")).ok());
  EXPECT_FALSE(SelectAid(Bytes(17, 0xA0)).ok());
  EXPECT_TRUE(SelectAid(Bytes(16, 0xA0)).ok());
  EXPECT_FALSE(SelectByName({}).ok());
}

TEST(FciTest, PpseDirectoryEntries) {
  // 6F { 84 2PAY.SYS.DDF01, A5 { BF0C { 61 { 4F A0000000041010, 50 "MASTERCARD", 87 01,
  //                                          9F2A 02 }, 61 { 4F A0000000031010, 87 02 } } } }
  const Bytes fci =
      Hex("6F41"
          "840E325041592E5359532E4444463031"
          "A52F"
          "BF0C2C"
          "611C"
          "4F07A0000000041010"
          "500A4D415354455243415244"
          "870101"
          "9F2A0102"
          "610C"
          "4F07A0000000031010"
          "870102");
  EMV_ASSERT_OK_AND_ASSIGN(const FileControlInformation parsed, ParseFci(fci));
  EXPECT_EQ(std::string(parsed.df_name.begin(), parsed.df_name.end()), "2PAY.SYS.DDF01");
  ASSERT_EQ(parsed.directory.size(), 2u);
  EXPECT_EQ(ToHex(parsed.directory[0].aid), "A0000000041010");
  EXPECT_EQ(parsed.directory[0].label, "MASTERCARD");
  EXPECT_EQ(parsed.directory[0].priority, 1);
  EXPECT_EQ(ToHex(parsed.directory[0].kernel_identifier), "02");
  EXPECT_EQ(ToHex(parsed.directory[1].aid), "A0000000031010");
  EXPECT_EQ(parsed.directory[1].priority, 2);
  EXPECT_TRUE(parsed.directory[1].kernel_identifier.empty());
}

TEST(FciTest, MalformedFcisAreRefused) {
  const auto message = [](std::string_view hex) {
    const Bytes bytes = Hex(hex);
    return ParseFci(bytes).status().message();
  };
  EXPECT_EQ(message("7003A50100"), "fci: starts with tag 70; expected 6F");
  EXPECT_EQ(message("6F03A50100"), "fci: template 6F has no DF name (84)");
  EXPECT_EQ(message("6F078405A000000003"), "fci: template 6F has no proprietary template (A5)");
  EXPECT_EQ(message("6F0B8405A000000003A502870200"),
            "fci: tlv offset 11: tag 87: value of 2 bytes overruns its parent by 2 bytes");
  EXPECT_EQ(message("6F0C8405A000000003A5038701015A01BB"),
            "fci: data after template 6F (tag 5A at offset 14)");
  EXPECT_EQ(message("6F0D8405A000000003A504870201AA"), "fci: tag 87 has 2 bytes; expected 1");
}

TEST(GpoTest, Format2KeepsTheOtherDataObjects) {
  // Visa qVSDC style: the cryptogram comes back in the GPO response.
  const Bytes data =
      Hex("7729"
          "82022000"
          "940418010100"
          "9F36020001"
          "9F2608CD29615D6452E70E"
          "9F100706011203A00000"
          "9F6C020000");
  EMV_ASSERT_OK_AND_ASSIGN(const ProcessingOptions options, ParseProcessingOptions(data));
  EXPECT_EQ(ToHex(options.aip), "2000");
  ASSERT_EQ(options.afl_entries.size(), 1u);
  EXPECT_EQ(options.afl_entries[0].sfi, 3);
  EXPECT_EQ(ToHex(*options.other.Get(0x9F26)), "CD29615D6452E70E");
  EXPECT_EQ(ToHex(*options.other.Get(0x9F10)), "06011203A00000");
  EXPECT_FALSE(options.other.Contains(0x82));
}

TEST(GpoTest, Format2WithoutAflIsAccepted) {
  const Bytes data = Hex("770482022000");
  EMV_ASSERT_OK_AND_ASSIGN(const ProcessingOptions options, ParseProcessingOptions(data));
  EXPECT_TRUE(options.afl_entries.empty());
}

TEST(GpoTest, MalformedResponsesAreRefused) {
  const auto message = [](std::string_view hex) {
    const Bytes bytes = Hex(hex);
    return ParseProcessingOptions(bytes).status().message();
  };
  EXPECT_EQ(message("800178"), "gpo response: format 1 (80) has 1 bytes; the AIP alone is 2");
  EXPECT_EQ(message("8005780008010100"), "gpo response: afl: 3 bytes is not a multiple of 4");
  EXPECT_EQ(message("7706940408010100"), "gpo response: template 77 has no AIP (82)");
  EXPECT_EQ(message("7703820178"), "gpo response: tag 82 has 1 bytes; expected 2");
  EXPECT_EQ(message("6F00"), "gpo response: starts with tag 6F; expected 80 or 77");
  EXPECT_EQ(message(""), "gpo response: empty; expected 80 or 77");
  EXPECT_EQ(message("80027800"
                    "9000"),
            "gpo response: data after template 80 (tag 90 at offset 4)");
}

TEST(AflTest, InvalidEntriesAreRefused) {
  const auto message = [](std::string_view hex) {
    const Bytes bytes = Hex(hex);
    return ParseAfl(bytes).status().message();
  };
  EXPECT_EQ(message("0801"), "afl: 2 bytes is not a multiple of 4");
  EXPECT_EQ(message("09010100"), "afl entry 1 (09010100): low 3 bits of the SFI byte set");
  EXPECT_EQ(message("08010100F8010100"), "afl entry 2 (F8010100): SFI 31 outside 1-30");
  EXPECT_EQ(message("00010100"), "afl entry 1 (00010100): SFI 0 outside 1-30");
  EXPECT_EQ(message("08000100"), "afl entry 1 (08000100): first record 0");
  EXPECT_EQ(message("08020100"), "afl entry 1 (08020100): last record before first record");
  EXPECT_EQ(message("08010203"), "afl entry 1 (08010203): more ODA records than records");
}

TEST(ReadRecordTest, SfiAndRecordAreChecked) {
  EXPECT_EQ(Encoded(ReadRecord(30, 255)), "00B2FFF400");
  EXPECT_FALSE(ReadRecord(0, 1).ok());
  EXPECT_FALSE(ReadRecord(31, 1).ok());
  EXPECT_FALSE(ReadRecord(1, 0).ok());
}

TEST(GenerateAcTest, CommandCarriesTypeAndCda) {
  const Bytes cdol = Hex("000000009999");
  EXPECT_EQ(Encoded(GenerateAc(CryptogramType::kArqc, false, cdol)),
            "80AE800006000000009999"
            "00");
  EXPECT_EQ(Encoded(GenerateAc(CryptogramType::kArqc, true, cdol)),
            "80AE900006000000009999"
            "00");
  EXPECT_EQ(Encoded(GenerateAc(CryptogramType::kTc, false, cdol)),
            "80AE400006000000009999"
            "00");
  EXPECT_EQ(Encoded(GenerateAc(CryptogramType::kAac, false, cdol)),
            "80AE000006000000009999"
            "00");
  EXPECT_FALSE(GenerateAc(CryptogramType::kArqc, false, {}).ok());
  EXPECT_EQ(CryptogramTypeName(CryptogramType::kArqc), "ARQC");
  EXPECT_EQ(CryptogramTypeFromCid(0x80), CryptogramType::kArqc);
  EXPECT_EQ(CryptogramTypeFromCid(0x41), CryptogramType::kTc);
  EXPECT_EQ(CryptogramTypeFromCid(0x00), CryptogramType::kAac);
  EXPECT_FALSE(CryptogramTypeFromCid(0xC0).has_value());
}

TEST(GenerateAcTest, Format1Response) {
  const Bytes data = Hex("801280001CCD29615D6452E70E0110A000032200");
  EMV_ASSERT_OK_AND_ASSIGN(const GenerateAcResponse response, ParseGenerateAcResponse(data));
  EXPECT_EQ(response.format, ResponseFormat::kFormat1);
  EXPECT_EQ(response.cid, 0x80);
  EXPECT_EQ(response.atc, 0x001C);
  ASSERT_TRUE(response.ac.has_value());
  EXPECT_EQ(ToHex(*response.ac), "CD29615D6452E70E");
  EXPECT_EQ(ToHex(response.iad), "0110A000032200");
}

TEST(GenerateAcTest, Format2Response) {
  const Bytes data =
      Hex("77299F270180"
          "9F3602001C"
          "9F2608CD29615D6452E70E"
          "9F10120110A00003220000000000000000000000FF");
  EMV_ASSERT_OK_AND_ASSIGN(const GenerateAcResponse response, ParseGenerateAcResponse(data));
  EXPECT_EQ(response.format, ResponseFormat::kFormat2);
  EXPECT_EQ(response.cid, 0x80);
  EXPECT_EQ(response.atc, 0x001C);
  EXPECT_EQ(ToHex(*response.ac), "CD29615D6452E70E");
  EXPECT_EQ(ToHex(response.iad), "0110A00003220000000000000000000000FF");
  EXPECT_TRUE(response.signed_dynamic_application_data.empty());
}

TEST(GenerateAcTest, Format2CdaResponseCarriesSdadInsteadOfAc) {
  const Bytes cda =
      Hex("771B9F2701409F3602001C9F4B081122334455667788"
          "9F1004060112AA");
  EMV_ASSERT_OK_AND_ASSIGN(const GenerateAcResponse response, ParseGenerateAcResponse(cda));
  EXPECT_FALSE(response.ac.has_value());
  EXPECT_EQ(ToHex(response.signed_dynamic_application_data), "1122334455667788");
  EXPECT_EQ(CryptogramTypeFromCid(response.cid), CryptogramType::kTc);
}

TEST(GenerateAcTest, MalformedResponsesAreRefused) {
  const auto message = [](std::string_view hex) {
    const Bytes bytes = Hex(hex);
    return ParseGenerateAcResponse(bytes).status().message();
  };
  EXPECT_EQ(message("800A80001CCD29615D6452E7"),
            "generate ac response: format 1 (80) has 10 bytes; CID, ATC and AC alone are 11");
  EXPECT_EQ(message("77109F3602001C9F2608CD29615D6452E70E"),
            "generate ac response: template 77 has no CID (9F27)");
  EXPECT_EQ(message("77099F2701809F3602001C"),
            "generate ac response: template 77 has neither AC (9F26) nor SDAD (9F4B)");
  EXPECT_EQ(message("77139F2701809F3601009F2608CD29615D6452E70E"),
            "generate ac response: tag 9F36 has 1 bytes; expected 2");
  Bytes long_iad = Hex("802C80001CCD29615D6452E70E");
  long_iad.resize(2 + 0x2C, 0x00);
  EXPECT_EQ(ParseGenerateAcResponse(long_iad).status().message(),
            "generate ac response: IAD of 33 bytes exceeds 32");
}

TEST(GetDataTest, CommandAndResponse) {
  EXPECT_EQ(Encoded(GetData(0x9F36)), "80CA9F3600");
  EXPECT_EQ(Encoded(GetData(0x9F17)), "80CA9F1700");
  EXPECT_FALSE(GetData(0xDF8101).ok());
  const Bytes response = Hex("9F36020011");
  EMV_ASSERT_OK_AND_ASSIGN(const Bytes atc, ParseGetDataResponse(0x9F36, response));
  EXPECT_EQ(ToHex(atc), "0011");
  EXPECT_EQ(ParseGetDataResponse(0x9F17, response).status().message(),
            "get data response: starts with tag 9F36; expected 9F17");
}

}  // namespace
}  // namespace tapstack::emv
