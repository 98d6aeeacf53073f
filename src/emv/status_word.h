// ISO/IEC 7816-4 status words (SW1 SW2, section 5.1.3) with the names EMV uses (Book 1 and
// Book 3 Annex; contactless kernels use the same set). Constexpr value type; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tapstack::emv {

class StatusWord {
 public:
  constexpr StatusWord() = default;
  constexpr explicit StatusWord(std::uint16_t value) : value_(value) {}
  constexpr StatusWord(std::uint8_t sw1, std::uint8_t sw2)
      : value_(static_cast<std::uint16_t>((sw1 << 8) | sw2)) {}

  constexpr std::uint16_t value() const { return value_; }
  constexpr std::uint8_t sw1() const { return static_cast<std::uint8_t>(value_ >> 8); }
  constexpr std::uint8_t sw2() const { return static_cast<std::uint8_t>(value_); }

  // 9000.
  constexpr bool IsSuccess() const { return value_ == 0x9000; }
  // Normal processing: 9000, or 61xx (more response bytes available via GET RESPONSE).
  constexpr bool IsNormal() const { return value_ == 0x9000 || sw1() == 0x61; }
  // Warnings (62xx, 63xx): the command was processed, with a caveat.
  constexpr bool IsWarning() const { return sw1() == 0x62 || sw1() == 0x63; }

  friend constexpr bool operator==(StatusWord a, StatusWord b) { return a.value_ == b.value_; }

 private:
  std::uint16_t value_ = 0;
};

inline constexpr StatusWord kSwSuccess{0x9000};
inline constexpr StatusWord kSwSelectedFileInvalidated{0x6283};  // application blocked (SELECT)
inline constexpr StatusWord kSwVerificationFailed{0x6300};
inline constexpr StatusWord kSwWrongLength{0x6700};
inline constexpr StatusWord kSwSecurityStatusNotSatisfied{0x6982};
inline constexpr StatusWord kSwAuthenticationMethodBlocked{0x6983};
inline constexpr StatusWord kSwReferenceDataNotUsable{0x6984};
inline constexpr StatusWord kSwConditionsNotSatisfied{0x6985};
inline constexpr StatusWord kSwCommandNotAllowed{0x6986};
inline constexpr StatusWord kSwWrongData{0x6A80};
inline constexpr StatusWord kSwFunctionNotSupported{0x6A81};
inline constexpr StatusWord kSwFileNotFound{0x6A82};
inline constexpr StatusWord kSwRecordNotFound{0x6A83};
inline constexpr StatusWord kSwIncorrectP1P2{0x6A86};
inline constexpr StatusWord kSwReferencedDataNotFound{0x6A88};
inline constexpr StatusWord kSwWrongP1P2{0x6B00};
inline constexpr StatusWord kSwInsNotSupported{0x6D00};
inline constexpr StatusWord kSwClaNotSupported{0x6E00};
inline constexpr StatusWord kSwNoPreciseDiagnosis{0x6F00};
// PBOC electronic purse (JR/T 0025 as used by transit cards; transit-purse.md section 4).
inline constexpr StatusWord kSwPurseMacError{0x9302};
inline constexpr StatusWord kSwPurseBlocked{0x9303};
inline constexpr StatusWord kSwPurseInsufficientBalance{0x9401};
inline constexpr StatusWord kSwPurseKeyIndexNotSupported{0x9403};

// A short fixed name: "success", "file or application not found", "more response bytes available"
// (61xx), "wrong Le" (6Cxx), "verification failed, retries counted" (63Cx), or "unknown status".
std::string_view StatusWordName(StatusWord sw);

// The hex value, the name and the parameter of parameterised families: "9000 success",
// "6A82 file or application not found", "63C2 verification failed, 2 retries left",
// "6110 16 more response bytes available", "6C08 wrong Le, exact length 8".
std::string DescribeStatusWord(StatusWord sw);

}  // namespace tapstack::emv
