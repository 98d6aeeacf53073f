// JSON views of QR payloads: what `tapstack qr decode` prints and what `tapstack qr encode` reads.
//
// Decode output (every string valid UTF-8; stray input bytes become U+FFFD):
//   {"mode": "mpm"|"cpm", "valid": bool, "errors": ["id 54 at offset 87: ...", ...],
//    "warnings": [...], "crc_computed": "A13A" (mpm, when a CRC object of length 04 was found),
//    "objects": [...]}
//   MPM object: {"id": "62", "name": "...", "length": 33 (characters), "value": "...",
//                "children": [...] (templates only)}
//   CPM object: {"tag": "61", "name": "...", "length": 26 (bytes), "value": "4F07..." (hex),
//                "text": "CPV01" (text tags only), "children": [...] (constructed tags only)}
// Encode input: the decode output itself, {"mode": "mpm", "objects": [...]}, a bare array of MPM
// objects, or {"mode": "cpm", "objects": [...]}. MPM objects need "id" and either "children" or
// "value"; CPM objects need "tag" (hex) and "children", "value" (hex) or "text". Other keys
// ("name", "length", "valid", ...) are ignored; the CRC object (63) is recomputed.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "qr/cpm.h"
#include "qr/mpm.h"

namespace tapstack::qr {

enum class QrMode { kMpm, kCpm };

// "mpm" / "cpm".
std::string_view QrModeName(QrMode mode);

// Merchant-presented when the text starts with "00" and two more digits (the payload format
// indicator object; a valid one starts "000201"), so a wrong version still gets MPM errors;
// consumer-presented (base64, which starts "hQVDUFY" when valid) otherwise.
QrMode DetectQrMode(std::string_view payload);

nlohmann::json MpmToJson(const MpmDecoded& decoded);
nlohmann::json CpmToJson(const CpmDecoded& decoded);

// Detects the mode, decodes with default options and returns the JSON view above.
nlohmann::json DecodeToJson(std::string_view payload);

Result<std::vector<MpmObject>> MpmObjectsFromJson(const nlohmann::json& objects);
Result<std::vector<CpmObject>> CpmObjectsFromJson(const nlohmann::json& objects);

struct QrEncodeOptions {
  bool validate = true;  // refuse to produce an invalid payload (see EncodeMpm / EncodeCpm)
};

// Encodes the JSON input described above to payload text (MPM text, or CPM base64).
// Errors (kInvalidArgument): a missing or mistyped key (named with its path), an unknown mode,
// bad hex, and everything EncodeMpm / EncodeCpm reject.
Result<std::string> EncodeFromJson(const nlohmann::json& input,
                                   const QrEncodeOptions& options = {});

}  // namespace tapstack::qr
