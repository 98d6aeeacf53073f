#include "issuer/authorization_rules.h"

#include "core/hex.h"
#include "crypto/mac.h"
#include "iso8583/pos_entry_mode.h"

namespace tapstack::issuer {

std::string_view CardStatusName(CardStatus status) {
  switch (status) {
    case CardStatus::kActive: return "active";
    case CardStatus::kBlocked: return "blocked";
    case CardStatus::kLost: return "lost";
    case CardStatus::kStolen: return "stolen";
  }
  return "unknown";
}

Result<CardStatus> ParseCardStatus(std::string_view name) {
  for (CardStatus s : {CardStatus::kActive, CardStatus::kBlocked, CardStatus::kLost, CardStatus::kStolen}) {
    if (CardStatusName(s) == name) return s;
  }
  return InvalidArgument("card status '" + std::string(name) + "': expected active, blocked, lost or stolen");
}

std::string_view CheckCardAuthentication(const CardRecord& card, const RequestFacts& facts) {
  switch (card.status) {
    case CardStatus::kActive: break;
    case CardStatus::kBlocked: return response_code::kRestrictedCard;
    case CardStatus::kLost: return response_code::kLostCard;
    case CardStatus::kStolen: return response_code::kStolenCard;
  }
  // YYMM strings compare in date order within one century.
  if (card.expiry < facts.today_yymm) return response_code::kExpiredCard;
  if (!facts.expiry_on_request.empty() && facts.expiry_on_request != card.expiry) {
    return response_code::kExpiredCard;  // wrong expiry date given
  }
  if (!facts.cvv2_expected.empty()) {
    if (facts.cvv2_presented.empty()) {
      if (facts.card_not_present && facts.cvv2_required_for_card_not_present) return response_code::kCvv2Failure;
    } else if (!crypto::ConstantTimeEquals(AsBytes(facts.cvv2_expected), AsBytes(facts.cvv2_presented))) {
      return response_code::kCvv2Failure;
    }
  }
  return response_code::kApproved;
}

std::string_view CheckAuthorizationRules(const CardRecord& card, const RequestFacts& facts,
                                         const DailyActivity& today) {
  if (const std::string_view code = CheckCardAuthentication(card, facts); code != response_code::kApproved) {
    return code;
  }
  if (!facts.mcc.empty() && card.blocked_mccs.contains(std::string(facts.mcc))) {
    return response_code::kNotPermittedToCardholder;
  }
  if (card.per_transaction_limit_minor > 0 && facts.amount_minor > card.per_transaction_limit_minor) {
    return response_code::kExceedsAmountLimit;
  }
  if (card.daily_limit_minor > 0 && today.amount_minor + facts.amount_minor > card.daily_limit_minor) {
    return response_code::kExceedsAmountLimit;
  }
  if (card.daily_transactions_max > 0 && today.transactions + 1 > card.daily_transactions_max) {
    return response_code::kExceedsFrequencyLimit;
  }
  return response_code::kApproved;
}

bool IsCardNotPresent(std::optional<std::string_view> de22) {
  if (!de22) return true;
  auto mode = iso8583::PosEntryMode::Parse(*de22);
  if (!mode.ok()) return true;
  using E = iso8583::PanEntryMode;
  switch (static_cast<E>(mode->pan_entry)) {
    case E::kMagneticStripe:
    case E::kContactChip:
    case E::kContactlessChip:
    case E::kChipFallback:
    case E::kFullMagneticStripe:
    case E::kContactlessMagStripe:
    case E::kChipUnreliable:
      return false;
    default:
      return true;
  }
}

Result<std::string_view> Cvv2FromTokenData(std::string_view de48) {
  // The layout of iso8583/token_data.h, read in place so the CVV2 is never copied.
  constexpr std::size_t kHeaderChars = 5;  // tag (2) + length (3)
  std::string_view cvv2;
  std::size_t pos = 0;
  while (pos < de48.size()) {
    const std::string at = "DE48 at offset " + std::to_string(pos) + ": ";
    if (de48.size() - pos < kHeaderChars) return InvalidArgument(at + "truncated sub-element header");
    const std::string_view length_digits = de48.substr(pos + 2, 3);
    if (!IsAllDigits(length_digits)) return InvalidArgument(at + "sub-element length is not 3 digits");
    const std::size_t length = static_cast<std::size_t>((length_digits[0] - '0') * 100 +
                                                        (length_digits[1] - '0') * 10 + (length_digits[2] - '0'));
    if (length > de48.size() - pos - kHeaderChars) return InvalidArgument(at + "sub-element overruns the field");
    if (de48.substr(pos, 2) == kCvv2Tag) {
      if (!cvv2.empty()) return InvalidArgument(at + "duplicate " + std::string(kCvv2Tag));
      cvv2 = de48.substr(pos + kHeaderChars, length);
      if (cvv2.size() != kCvv2Digits || !IsAllDigits(cvv2)) {
        return InvalidArgument(at + std::string(kCvv2Tag) + " must be " + std::to_string(kCvv2Digits) + " digits");
      }
    }
    pos += kHeaderChars + length;
  }
  return cvv2;
}

}  // namespace tapstack::issuer
