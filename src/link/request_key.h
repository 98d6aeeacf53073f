// Request/response matching key (jPOS QMUX style): the request MTI with repeats folded
// (0100 and 0101 match 0110), DE11 STAN, DE41 terminal id and DE32 acquirer id. MTI is in the key
// because reversals usually reuse the original STAN.
#pragma once

#include <string>
#include <string_view>

#include "iso8583/message.h"

namespace tapstack::link {

// Key of a request (0100 → "0100|000001|TERM0001|4802"), or of a response matched to the
// request it answers (0110 → "0100|…"). Empty when the MTI is not 4 digits.
std::string MatchKey(const iso8583::Message& message);

}  // namespace tapstack::link
