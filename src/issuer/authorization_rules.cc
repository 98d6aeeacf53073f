#include "issuer/authorization_rules.h"

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

std::string_view CheckAuthorizationRules(const CardRecord& card, const RequestFacts& facts,
                                         const DailyActivity& today) {
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

}  // namespace tapstack::issuer
