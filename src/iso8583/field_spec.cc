#include "iso8583/field_spec.h"

#include <array>

namespace tapstack::iso8583 {

namespace {

using T = FieldType;
using L = LengthKind;

constexpr FieldSpec F(T type, L kind, std::uint16_t max, std::string_view name) {
  return FieldSpec{type, kind, max, name};
}

constexpr FieldSpec kPrivate = F(T::kAlphaNumericSpecial, L::kLll, 999, "reserved private");

constexpr std::array<FieldSpec, kFieldNumberMax + 1> Make87() {
  std::array<FieldSpec, kFieldNumberMax + 1> f{};
  f[1] = F(T::kBinary, L::kFixed, 8, "secondary bitmap");
  f[2] = F(T::kNumeric, L::kLl, 19, "primary account number");
  f[3] = F(T::kNumeric, L::kFixed, 6, "processing code");
  f[4] = F(T::kNumeric, L::kFixed, 12, "amount, transaction");
  f[5] = F(T::kNumeric, L::kFixed, 12, "amount, settlement");
  f[6] = F(T::kNumeric, L::kFixed, 12, "amount, cardholder billing");
  f[7] = F(T::kNumeric, L::kFixed, 10, "transmission date and time");
  f[8] = F(T::kNumeric, L::kFixed, 8, "amount, cardholder billing fee");
  f[9] = F(T::kNumeric, L::kFixed, 8, "conversion rate, settlement");
  f[10] = F(T::kNumeric, L::kFixed, 8, "conversion rate, cardholder billing");
  f[11] = F(T::kNumeric, L::kFixed, 6, "system trace audit number");
  f[12] = F(T::kNumeric, L::kFixed, 6, "time, local transaction");
  f[13] = F(T::kNumeric, L::kFixed, 4, "date, local transaction");
  f[14] = F(T::kNumeric, L::kFixed, 4, "date, expiration");
  f[15] = F(T::kNumeric, L::kFixed, 4, "date, settlement");
  f[16] = F(T::kNumeric, L::kFixed, 4, "date, conversion");
  f[17] = F(T::kNumeric, L::kFixed, 4, "date, capture");
  f[18] = F(T::kNumeric, L::kFixed, 4, "merchant type");
  f[19] = F(T::kNumeric, L::kFixed, 3, "acquiring institution country code");
  f[20] = F(T::kNumeric, L::kFixed, 3, "PAN extended, country code");
  f[21] = F(T::kNumeric, L::kFixed, 3, "forwarding institution country code");
  f[22] = F(T::kNumeric, L::kFixed, 3, "point of service entry mode");
  f[23] = F(T::kNumeric, L::kFixed, 3, "card sequence number");
  f[24] = F(T::kNumeric, L::kFixed, 3, "network international identifier");
  f[25] = F(T::kNumeric, L::kFixed, 2, "point of service condition code");
  f[26] = F(T::kNumeric, L::kFixed, 2, "point of service capture code");
  f[27] = F(T::kNumeric, L::kFixed, 1, "authorizing identification response length");
  f[28] = F(T::kSignedAmount, L::kFixed, 8, "amount, transaction fee");
  f[29] = F(T::kSignedAmount, L::kFixed, 8, "amount, settlement fee");
  f[30] = F(T::kSignedAmount, L::kFixed, 8, "amount, transaction processing fee");
  f[31] = F(T::kSignedAmount, L::kFixed, 8, "amount, settlement processing fee");
  f[32] = F(T::kNumeric, L::kLl, 11, "acquiring institution identification code");
  f[33] = F(T::kNumeric, L::kLl, 11, "forwarding institution identification code");
  f[34] = F(T::kAlphaNumericSpecial, L::kLl, 28, "primary account number, extended");
  f[35] = F(T::kTrack, L::kLl, 37, "track 2 data");
  f[36] = F(T::kTrack, L::kLll, 104, "track 3 data");
  f[37] = F(T::kAlphaNumeric, L::kFixed, 12, "retrieval reference number");
  f[38] = F(T::kAlphaNumeric, L::kFixed, 6, "authorization identification response");
  f[39] = F(T::kAlphaNumeric, L::kFixed, 2, "response code");
  f[40] = F(T::kAlphaNumeric, L::kFixed, 3, "service restriction code");
  f[41] = F(T::kAlphaNumericSpecial, L::kFixed, 8, "card acceptor terminal identification");
  f[42] = F(T::kAlphaNumericSpecial, L::kFixed, 15, "card acceptor identification code");
  f[43] = F(T::kAlphaNumericSpecial, L::kFixed, 40, "card acceptor name/location");
  f[44] = F(T::kAlphaNumericSpecial, L::kLl, 25, "additional response data");
  f[45] = F(T::kAlphaNumericSpecial, L::kLl, 76, "track 1 data");
  f[46] = F(T::kAlphaNumericSpecial, L::kLll, 999, "additional data - ISO");
  f[47] = F(T::kAlphaNumericSpecial, L::kLll, 999, "additional data - national");
  f[48] = F(T::kAlphaNumericSpecial, L::kLll, 999, "additional data - private");
  f[49] = F(T::kNumeric, L::kFixed, 3, "currency code, transaction");
  f[50] = F(T::kNumeric, L::kFixed, 3, "currency code, settlement");
  f[51] = F(T::kNumeric, L::kFixed, 3, "currency code, cardholder billing");
  f[52] = F(T::kBinary, L::kFixed, 8, "personal identification number data");
  f[53] = F(T::kNumeric, L::kFixed, 16, "security related control information");
  f[54] = F(T::kAlphaNumericSpecial, L::kLll, 120, "additional amounts");
  f[55] = F(T::kBinary, L::kLll, 999, "ICC data (EMV TLV)");
  f[56] = F(T::kAlphaNumericSpecial, L::kLll, 999, "reserved ISO");
  for (int i = 57; i <= 59; ++i) f[i] = F(T::kAlphaNumericSpecial, L::kLll, 999, "reserved national");
  for (int i = 60; i <= 63; ++i) f[i] = kPrivate;
  f[64] = F(T::kBinary, L::kFixed, 8, "message authentication code");
  // 65 is the tertiary bitmap indicator; tapstack does not use a third bitmap.
  f[66] = F(T::kNumeric, L::kFixed, 1, "settlement code");
  f[67] = F(T::kNumeric, L::kFixed, 2, "extended payment code");
  f[68] = F(T::kNumeric, L::kFixed, 3, "receiving institution country code");
  f[69] = F(T::kNumeric, L::kFixed, 3, "settlement institution country code");
  f[70] = F(T::kNumeric, L::kFixed, 3, "network management information code");
  f[71] = F(T::kNumeric, L::kFixed, 4, "message number");
  f[72] = F(T::kNumeric, L::kFixed, 4, "message number, last");
  f[73] = F(T::kNumeric, L::kFixed, 6, "date, action");
  f[74] = F(T::kNumeric, L::kFixed, 10, "credits, number");
  f[75] = F(T::kNumeric, L::kFixed, 10, "credits reversal, number");
  f[76] = F(T::kNumeric, L::kFixed, 10, "debits, number");
  f[77] = F(T::kNumeric, L::kFixed, 10, "debits reversal, number");
  f[78] = F(T::kNumeric, L::kFixed, 10, "transfer, number");
  f[79] = F(T::kNumeric, L::kFixed, 10, "transfer reversal, number");
  f[80] = F(T::kNumeric, L::kFixed, 10, "inquiries, number");
  f[81] = F(T::kNumeric, L::kFixed, 10, "authorizations, number");
  f[82] = F(T::kNumeric, L::kFixed, 12, "credits, processing fee amount");
  f[83] = F(T::kNumeric, L::kFixed, 12, "credits, transaction fee amount");
  f[84] = F(T::kNumeric, L::kFixed, 12, "debits, processing fee amount");
  f[85] = F(T::kNumeric, L::kFixed, 12, "debits, transaction fee amount");
  f[86] = F(T::kNumeric, L::kFixed, 16, "credits, amount");
  f[87] = F(T::kNumeric, L::kFixed, 16, "credits reversal, amount");
  f[88] = F(T::kNumeric, L::kFixed, 16, "debits, amount");
  f[89] = F(T::kNumeric, L::kFixed, 16, "debits reversal, amount");
  f[90] = F(T::kNumeric, L::kFixed, 42, "original data elements");
  f[91] = F(T::kAlphaNumeric, L::kFixed, 1, "file update code");
  f[92] = F(T::kAlphaNumeric, L::kFixed, 2, "file security code");
  f[93] = F(T::kAlphaNumeric, L::kFixed, 5, "response indicator");
  f[94] = F(T::kAlphaNumeric, L::kFixed, 7, "service indicator");
  f[95] = F(T::kAlphaNumeric, L::kFixed, 42, "replacement amounts");
  f[96] = F(T::kBinary, L::kFixed, 8, "message security code");
  f[97] = F(T::kSignedAmount, L::kFixed, 16, "amount, net settlement");
  f[98] = F(T::kAlphaNumericSpecial, L::kFixed, 25, "payee");
  f[99] = F(T::kNumeric, L::kLl, 11, "settlement institution identification code");
  f[100] = F(T::kNumeric, L::kLl, 11, "receiving institution identification code");
  f[101] = F(T::kAlphaNumericSpecial, L::kLl, 17, "file name");
  f[102] = F(T::kAlphaNumericSpecial, L::kLl, 28, "account identification 1");
  f[103] = F(T::kAlphaNumericSpecial, L::kLl, 28, "account identification 2");
  f[104] = F(T::kAlphaNumericSpecial, L::kLll, 100, "transaction description");
  for (int i = 105; i <= 111; ++i) f[i] = F(T::kAlphaNumericSpecial, L::kLll, 999, "reserved ISO");
  for (int i = 112; i <= 119; ++i) f[i] = F(T::kAlphaNumericSpecial, L::kLll, 999, "reserved national");
  for (int i = 120; i <= 127; ++i) f[i] = kPrivate;
  f[128] = F(T::kBinary, L::kFixed, 8, "message authentication code");
  return f;
}

constexpr std::array<FieldSpec, kFieldNumberMax + 1> kFields87 = Make87();

}  // namespace

const FieldSpec& Field87(int number) {
  static const FieldSpec kUndefined{};
  if (number < 1 || number > kFieldNumberMax) return kUndefined;
  return kFields87[static_cast<std::size_t>(number)];
}

std::string_view FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kNumeric: return "n";
    case FieldType::kAlpha: return "a";
    case FieldType::kAlphaNumeric: return "an";
    case FieldType::kAlphaNumericSpecial: return "ans";
    case FieldType::kBinary: return "b";
    case FieldType::kTrack: return "z";
    case FieldType::kSignedAmount: return "x+n";
  }
  return "?";
}

}  // namespace tapstack::iso8583
