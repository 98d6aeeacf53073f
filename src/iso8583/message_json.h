// JSON form of a Message, as `tapstack iso8583 pack/unpack` read and print it:
//   {"mti":"0100","fields":{"2":"4111111111111111","3":"000000","55":"9F2608…"}}
// Field values are strings; binary fields (b: DE52, DE55, DE64, DE96, DE128) are uppercase hex.
#pragma once

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "iso8583/message.h"

namespace tapstack::iso8583 {

nlohmann::json MessageToJson(const Message& message);

// Errors name the key: missing/non-string "mti", "fields" not an object, a field number outside
// 2-128 or not a decimal number, a non-string value, or bad hex in a binary field. On error `out`
// is reset.
Status MessageFromJson(const nlohmann::json& json, Message& out);

}  // namespace tapstack::iso8583
