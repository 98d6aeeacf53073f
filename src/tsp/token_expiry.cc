#include "tsp/token_expiry.h"

#include "core/hex.h"
#include "tsp/limits.h"

namespace tapstack::tsp {

namespace {

constexpr std::int64_t kMillisPerDay = 86'400'000;

// Days since 1970-01-01 → civil year/month (Howard Hinnant, "chrono-Compatible Low-Level Date
// Algorithms", civil_from_days), proleptic Gregorian, valid for all int64 days used here.
void CivilFromDays(std::int64_t days, std::int64_t& year, int& month) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  year = yoe + era * 400 + (month <= 2 ? 1 : 0);
}

// Days since 1970-01-01 of year/month/day (Hinnant's days_from_civil).
std::int64_t DaysFromCivil(std::int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const std::int64_t yoe = year - era * 400;
  const std::int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

}  // namespace

Result<std::string> TokenExpiryFromIssue(std::int64_t issue_unix_ms, int validity_months) {
  if (validity_months < 1 || validity_months > kTokenValidityMonthsMax) {
    return InvalidArgument("token validity_months " + std::to_string(validity_months) +
                           " outside 1-" + std::to_string(kTokenValidityMonthsMax));
  }
  std::int64_t year = 0;
  int month = 0;
  CivilFromDays(FloorDiv(issue_unix_ms, kMillisPerDay), year, month);
  const std::int64_t months = year * 12 + (month - 1) + validity_months;
  year = months / 12;
  month = static_cast<int>(months % 12) + 1;
  if (year < 2000 || year > 2099) {
    return OutOfRange("token expiry year " + std::to_string(year) + " outside 2000-2099 (YYMM)");
  }
  const int yy = static_cast<int>(year - 2000);
  std::string out;
  out += static_cast<char>('0' + yy / 10);
  out += static_cast<char>('0' + yy % 10);
  out += static_cast<char>('0' + month / 10);
  out += static_cast<char>('0' + month % 10);
  return out;
}

Status ValidateYymm(std::string_view yymm, std::string_view field) {
  if (yymm.size() != 4 || !IsAllDigits(yymm)) {
    return InvalidArgument(std::string(field) + " must be 4 digits YYMM");
  }
  const int mm = (yymm[2] - '0') * 10 + (yymm[3] - '0');
  if (mm < 1 || mm > 12) return InvalidArgument(std::string(field) + " month must be 01-12");
  return Status::Ok();
}

Result<bool> ExpiryHasPassed(std::string_view yymm, std::int64_t now_unix_ms) {
  TS_RETURN_IF_ERROR(ValidateYymm(yymm, "expiry"));
  const int year = 2000 + (yymm[0] - '0') * 10 + (yymm[1] - '0');
  const int month = (yymm[2] - '0') * 10 + (yymm[3] - '0');
  // Valid through the month's last day: expired from the first millisecond of the next month.
  const std::int64_t next_month_days =
      month == 12 ? DaysFromCivil(year + 1, 1, 1) : DaysFromCivil(year, month + 1, 1);
  return now_unix_ms >= next_month_days * kMillisPerDay;
}

}  // namespace tapstack::tsp
