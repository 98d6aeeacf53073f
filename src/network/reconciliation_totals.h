// ReconciliationTotals: the batch totals an acquirer's terminal and the network compare at
// reconciliation (0500 → 0510, ISO 8583:1987 message class 5), and the data elements that carry
// them. Formats from the ISO 8583:1987 field table (iso8583/field_spec.cc; jPOS iso87ascii.xml):
//   DE74 credits, number              n10     DE86 credits, amount              n16
//   DE75 credits reversal, number     n10     DE87 credits reversal, amount     n16
//   DE76 debits, number               n10     DE88 debits, amount               n16
//   DE77 debits reversal, number      n10     DE89 debits reversal, amount      n16
//   DE97 amount, net settlement       x+n16   'C' or 'D' then 16 digits
// Amounts are minor units of the settlement currency (DE50).
//
// tapstack's conventions (the ISO text is not public):
//   * debits are sales charged to cardholders: approvals, including those reversed later (and
//     sales reversed after a timeout, whose outcome the terminal never learned); debits reversal
//     counts the reversed ones. A completed authorisation counts at its completed amount.
//   * credits are credits to cardholders (DE3 "20": refunds, a wallet's withdrawal to a card):
//     approvals, including those reversed later (and those reversed after a timeout); credits
//     reversal counts the reversed ones. A credit is never a negative debit.
//   * DE97 is seen from the acquirer: net = (debits - debits reversal) - (credits - credits
//     reversal); 'C' (the network credits the acquirer) when net >= 0, else 'D'.
// Error messages are short enough to be DE44 (ans..25) as they are: "DE76: expected 10 digits".
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "iso8583/message.h"

namespace tapstack::network {

inline constexpr std::int64_t kReconciliationCountMax = 9'999'999'999;                // n10
inline constexpr std::int64_t kReconciliationAmountMinorMax = 9'999'999'999'999'999;  // n16

struct ReconciliationTotals {
  std::int64_t credits = 0;                 // DE74
  std::int64_t credit_reversals = 0;        // DE75
  std::int64_t debits = 0;                  // DE76
  std::int64_t debit_reversals = 0;         // DE77
  std::int64_t credits_minor = 0;           // DE86
  std::int64_t credit_reversals_minor = 0;  // DE87
  std::int64_t debits_minor = 0;            // DE88
  std::int64_t debit_reversals_minor = 0;   // DE89

  // (debits - debit reversals) - (credits - credit reversals), in minor units.
  std::int64_t NetMinor() const;
  // DE97: "C0000000000012345" / "D…".
  std::string NetField() const;

  // Field by field.
  ReconciliationTotals& operator+=(const ReconciliationTotals& other);
  ReconciliationTotals& operator-=(const ReconciliationTotals& other);
  friend bool operator==(const ReconciliationTotals&, const ReconciliationTotals&) = default;

  // Sets DE74-77, DE86-89 and DE97 on `message`. Errors: a negative value, a count above n10 or
  // an amount (net included) above n16; `message` is then unchanged.
  Status WriteTo(iso8583::Message& message) const;

  // Reads DE74-77, DE86-89 and DE97 of `message`. Errors (kInvalidArgument, the message names
  // the field): a field missing, not its digits, or DE97 not the net of DE86-DE89.
  static Result<ReconciliationTotals> ReadFrom(const iso8583::Message& message);

  // For logs: "debits 3/12345 debit reversals 1/100 credits 0/0 credit reversals 0/0 net C12245".
  std::string ToString() const;
};

}  // namespace tapstack::network
