#include "qr/mpm_validation.h"

#include <array>
#include <string>
#include <string_view>

#include "core/currency.h"
#include "qr/mpm.h"
#include "qr/utf8.h"

namespace tapstack::qr {
namespace {

constexpr std::size_t kIdCount = 100;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLetter(char c) { return IsUpper(c) || (c >= 'a' && c <= 'z'); }

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return !s.empty();
}

// Ids are two digits once parsed; hand-built trees may hold anything, so check.
int IdNumber(std::string_view id) {
  if (id.size() != 2 || !IsDigit(id[0]) || !IsDigit(id[1])) return -1;
  return (id[0] - '0') * 10 + (id[1] - '0');
}

std::string ChildPath(const std::string& parent, std::string_view id) {
  return parent.empty() ? std::string(id) : parent + "." + std::string(id);
}

// A decimal number as MPM writes amounts and fees: digits with at most one '.' (the only decimal
// mark), a digit first ("98.73", "98", "98." are valid; "98,73", "9 8", ".5" are not).
struct Decimal {
  bool well_formed = false;
  bool non_zero = false;
  std::size_t decimals = 0;
  std::string problem;
};

Decimal ParseDecimal(std::string_view text) {
  Decimal d;
  bool seen_point = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.') {
      if (i == 0) {
        d.problem = "starts with '.'; expected a digit first";
        return d;
      }
      if (seen_point) {
        d.problem = "has more than one '.'";
        return d;
      }
      seen_point = true;
    } else if (IsDigit(c)) {
      if (seen_point) ++d.decimals;
      if (c != '0') d.non_zero = true;
    } else {
      d.problem = "has " + QuoteForMessage(text.substr(i, 1)) + " at character " +
                  std::to_string(i) + "; expected digits and at most one '.' as the decimal mark";
      return d;
    }
  }
  d.well_formed = true;
  return d;
}

class Validator {
 public:
  Validator(const MpmValidationOptions& options, std::vector<QrIssue>& errors,
            std::vector<QrIssue>& warnings)
      : options_(options), errors_(errors), warnings_(warnings) {}

  void ValidateRoot(std::span<const MpmObject> root) {
    if (root.empty()) {
      Error("", 0, "no data objects");
      return;
    }
    if (root.front().id != "00") {
      Error(root.front().id, root.front().offset,
            "the payload must start with id 00 (Payload Format Indicator); found id " +
                QuoteForMessage(root.front().id));
    }
    for (std::size_t i = 0; i < root.size(); ++i) {
      if (root[i].id == "63" && i + 1 != root.size()) {
        Error("63", root[i].offset,
              "the CRC must be the last object; " + std::to_string(root.size() - i - 1) +
                  " object(s) follow it");
      }
    }
    ValidateLevel(root, MpmScope::kRoot, "");
    RequireRootObjects(root);
    ValidateRootValues(root);
  }

 private:
  void Error(std::string where, std::size_t offset, std::string reason) {
    errors_.push_back({std::move(where), offset, std::move(reason)});
  }
  // A well-formed code that core's tables do not know: an error or a warning by option.
  void Unknown(bool is_error, std::string where, std::size_t offset, std::string reason) {
    (is_error ? errors_ : warnings_).push_back({std::move(where), offset, std::move(reason)});
  }

  // Duplicates, per-object length and format, and template contents, recursively.
  void ValidateLevel(std::span<const MpmObject> objects, MpmScope scope,
                     const std::string& parent_path) {
    std::array<const MpmObject*, kIdCount> seen{};
    for (const MpmObject& object : objects) {
      const std::string path = ChildPath(parent_path, object.id);
      const int id = IdNumber(object.id);
      if (id < 0) {
        Error(path, object.offset, "expected a 2-digit id");
        continue;
      }
      if (const MpmObject* first = seen[static_cast<std::size_t>(id)]) {
        Error(path, object.offset,
              "duplicate id " + object.id + " (first at offset " + std::to_string(first->offset) +
                  "); each id may appear once per level");
      } else {
        seen[static_cast<std::size_t>(id)] = &object;
      }
      const MpmFieldSpec spec = MpmFieldSpecFor(scope, id);
      CheckShape(object, spec, path);
      if (spec.format == MpmFormat::kTemplate) {
        ValidateLevel(object.children, spec.child_scope, path);
        RequireChildren(object, spec.child_scope, path);
      }
    }
    if (scope == MpmScope::kAdditionalData) {
      if (const MpmObject* request = seen[9]) CheckConsumerDataRequest(*request, parent_path);
    }
    if (scope == MpmScope::kLanguage) {
      if (const MpmObject* language = seen[0]) {
        const std::string& v = language->value;
        if (v.size() == 2 && !(IsLetter(v[0]) && IsLetter(v[1]))) {
          Error(ChildPath(parent_path, "00"), language->offset,
                "language preference " + QuoteForMessage(v) + ": expected two letters (ISO 639-1)");
        }
      }
    }
  }

  // Length in characters and, for N fields, digits only. The CRC (63) is DecodeMpm's business.
  void CheckShape(const MpmObject& object, const MpmFieldSpec& spec, const std::string& path) {
    if (path == "63") return;
    const std::size_t chars = object.length();
    if (chars < spec.min_chars || chars > spec.max_chars) {
      const std::string expected =
          spec.min_chars == spec.max_chars
              ? std::to_string(spec.min_chars)
              : std::to_string(spec.min_chars) + "-" + std::to_string(spec.max_chars);
      std::string reason = std::string(spec.name) + ": length " + std::to_string(chars) +
                           "; expected " + expected + " character(s)";
      if (chars > spec.max_chars && !spec.max_strict && !options_.strict_text_lengths) {
        warnings_.push_back({path, object.offset, std::move(reason) + " (accepted)"});
        return;
      }
      Error(path, object.offset, std::move(reason));
      return;
    }
    if (spec.format == MpmFormat::kNumeric && !AllDigits(object.value)) {
      Error(
          path, object.offset,
          std::string(spec.name) + " " + QuoteForMessage(object.value) + ": expected digits only");
    }
  }

  void RequireChildren(const MpmObject& object, MpmScope scope, const std::string& path) {
    const auto require = [&](std::string_view child_id) {
      if (object.Find(child_id) != nullptr) return;
      const MpmFieldSpec spec = MpmFieldSpecFor(scope, IdNumber(child_id));
      Error(path, object.offset,
            "template is missing mandatory sub-id " + std::string(child_id) + " (" +
                std::string(spec.name) + ")");
    };
    switch (scope) {
      case MpmScope::kMerchantAccount:
      case MpmScope::kUnreserved:
      case MpmScope::kPaymentSystem:
        require("00");
        break;
      case MpmScope::kLanguage:
        require("00");
        require("01");
        break;
      case MpmScope::kRoot:
      case MpmScope::kAdditionalData:
        break;
    }
  }

  // 62.09: letters A (address), M (mobile), E (e-mail), each at most once (MPM v1.0 §4.8.1.2).
  void CheckConsumerDataRequest(const MpmObject& request, const std::string& parent_path) {
    std::string seen;
    for (char c : request.value) {
      if (c != 'A' && c != 'M' && c != 'E') {
        Error(ChildPath(parent_path, "09"), request.offset,
              "additional consumer data request " + QuoteForMessage(request.value) +
                  ": expected only the letters A, M and E");
        return;
      }
      if (seen.find(c) != std::string::npos) {
        Error(ChildPath(parent_path, "09"), request.offset,
              "additional consumer data request " + QuoteForMessage(request.value) + ": '" +
                  std::string(1, c) + "' appears twice");
        return;
      }
      seen += c;
    }
  }

  void RequireRootObjects(std::span<const MpmObject> root) {
    bool account = false;
    std::array<bool, kIdCount> present{};
    for (const MpmObject& object : root) {
      const int id = IdNumber(object.id);
      if (id < 0) continue;
      present[static_cast<std::size_t>(id)] = true;
      if (IsMerchantAccountId(id)) account = true;
    }
    for (int id : {0, 52, 53, 58, 59, 60, 63}) {
      if (present[static_cast<std::size_t>(id)]) continue;
      const std::string id_text{static_cast<char>('0' + id / 10), static_cast<char>('0' + id % 10)};
      Error("", 0,
            "missing mandatory id " + id_text + " (" +
                std::string(MpmFieldSpecFor(MpmScope::kRoot, id).name) + ")");
    }
    if (!account) {
      Error("", 0, "missing merchant account information: at least one of ids 02-51 is mandatory");
    }
  }

  // Value rules of single root objects and of objects that depend on each other.
  void ValidateRootValues(std::span<const MpmObject> root) {
    const auto find = [&](std::string_view id) -> const MpmObject* {
      for (const MpmObject& object : root) {
        if (object.id == id) return &object;
      }
      return nullptr;
    };
    // Only objects whose generic shape (length, digits) is right get value rules, so one defect
    // is reported once.
    const auto shaped = [&](std::string_view id) -> const MpmObject* {
      const MpmObject* object = find(id);
      if (object == nullptr) return nullptr;
      const MpmFieldSpec spec = MpmFieldSpecFor(MpmScope::kRoot, IdNumber(id));
      const std::size_t chars = object->length();
      if (chars < spec.min_chars || chars > spec.max_chars) return nullptr;
      if (spec.format == MpmFormat::kNumeric && !AllDigits(object->value)) return nullptr;
      return object;
    };

    if (const MpmObject* format = shaped("00"); format != nullptr && format->value != "01") {
      Error("00", format->offset,
            "payload format indicator " + QuoteForMessage(format->value) + "; expected '01'");
    }
    if (const MpmObject* initiation = shaped("01");
        initiation != nullptr && initiation->value != "11" && initiation->value != "12") {
      Error("01", initiation->offset,
            "point of initiation method " + QuoteForMessage(initiation->value) +
                "; expected '11' (static) or '12' (dynamic)");
    }

    const Currency* currency = nullptr;
    if (const MpmObject* code = shaped("53")) {
      const auto numeric = static_cast<std::uint16_t>(std::stoi(code->value));
      auto found = CurrencyByNumeric(numeric);
      if (found.ok()) {
        currency = *found;
      } else {
        Unknown(options_.require_known_currency, "53", code->offset,
                "transaction currency " + QuoteForMessage(code->value) +
                    " is not an ISO 4217 numeric code tapstack knows");
      }
    }
    if (const MpmObject* country = shaped("58")) {
      const std::string& v = country->value;
      if (!(IsUpper(v[0]) && IsUpper(v[1]))) {
        Error("58", country->offset,
              "country code " + QuoteForMessage(v) +
                  ": expected two letters A-Z (ISO 3166-1 alpha-2)");
      } else if (!CountryByAlpha2(v).ok()) {
        Unknown(options_.require_known_country, "58", country->offset,
                "country code " + QuoteForMessage(v) +
                    " is not an ISO 3166-1 alpha-2 code tapstack knows");
      }
    }

    if (const MpmObject* amount = shaped("54"))
      CheckAmount(*amount, "transaction amount", currency);
    if (const MpmObject* fee = shaped("56")) CheckAmount(*fee, "convenience fee", currency);
    if (const MpmObject* percentage = shaped("57")) CheckPercentage(*percentage);
    CheckTipIndicator(find("55"), shaped("55"), find("56"), find("57"));
  }

  void CheckAmount(const MpmObject& object, std::string_view what, const Currency* currency) {
    const Decimal d = ParseDecimal(object.value);
    if (!d.well_formed) {
      Error(object.id, object.offset,
            std::string(what) + " " + QuoteForMessage(object.value) + " " + d.problem);
      return;
    }
    if (!d.non_zero) {
      Error(object.id, object.offset,
            std::string(what) + " " + QuoteForMessage(object.value) +
                " is zero; expected a positive amount");
      return;
    }
    if (currency != nullptr && d.decimals > static_cast<std::size_t>(currency->exponent)) {
      Error(object.id, object.offset,
            std::string(what) + " " + QuoteForMessage(object.value) + " has " +
                std::to_string(d.decimals) + " decimal(s); " + std::string(currency->alpha) +
                " has " + std::to_string(currency->exponent));
    }
  }

  // 57: "00.01" to "99.99", no '%' sign.
  void CheckPercentage(const MpmObject& object) {
    const Decimal d = ParseDecimal(object.value);
    std::string problem;
    if (!d.well_formed) {
      problem = d.problem;
    } else if (!d.non_zero) {
      problem = "is zero; expected 00.01-99.99";
    } else if (d.decimals > 2) {
      problem = "has more than two decimals; expected 00.01-99.99";
    } else if (object.value.find('.') == std::string::npos ? object.value.size() > 2
                                                           : object.value.find('.') > 2) {
      problem = "is 100 or more; expected 00.01-99.99";
    }
    if (!problem.empty()) {
      Error("57", object.offset,
            "convenience fee percentage " + QuoteForMessage(object.value) + " " + problem);
    }
  }

  // 55 = 01 prompt for a tip, 02 fixed fee in 56, 03 percentage fee in 57 (MPM v1.0 §4.7.5).
  void CheckTipIndicator(const MpmObject* indicator, const MpmObject* shaped_indicator,
                         const MpmObject* fixed, const MpmObject* percentage) {
    std::string_view mode;
    if (shaped_indicator != nullptr) {
      mode = shaped_indicator->value;
      if (mode != "01" && mode != "02" && mode != "03") {
        Error("55", shaped_indicator->offset,
              "tip or convenience indicator " + QuoteForMessage(mode) + "; expected 01, 02 or 03");
        return;
      }
    } else if (indicator != nullptr) {
      return;  // malformed 55 is already reported; do not guess its meaning
    }
    if (mode == "02" && fixed == nullptr) {
      Error("55", indicator->offset, "indicator 02 (fixed convenience fee) requires id 56");
    }
    if (mode == "03" && percentage == nullptr) {
      Error("55", indicator->offset, "indicator 03 (percentage convenience fee) requires id 57");
    }
    if (fixed != nullptr && mode != "02") {
      Error("56", fixed->offset, "convenience fee fixed is only allowed with 55 = 02");
    }
    if (percentage != nullptr && mode != "03") {
      Error("57", percentage->offset, "convenience fee percentage is only allowed with 55 = 03");
    }
  }

  const MpmValidationOptions& options_;
  std::vector<QrIssue>& errors_;
  std::vector<QrIssue>& warnings_;
};

}  // namespace

void ValidateMpmObjects(std::span<const MpmObject> root, const MpmValidationOptions& options,
                        std::vector<QrIssue>& errors, std::vector<QrIssue>& warnings) {
  Validator(options, errors, warnings).ValidateRoot(root);
}

}  // namespace tapstack::qr
