// Builds the response to a request: the response MTI, the fields a response echoes (ISO 8583:1987
// practice: PAN, processing code, amounts, conversion, transmission time, STAN, local time/date,
// institution ids, RRN, terminal and merchant ids, currencies) and DE39.
#pragma once

#include <string_view>

#include "iso8583/message.h"

namespace tapstack::iso8583 {

// When `request` is not a request or advice, the MTI is left "0000" (callers check first).
Message ResponseTo(const Message& request, std::string_view response_code);

}  // namespace tapstack::iso8583
