// Finding card numbers in clear in files: the integration tests scan every file a run left behind
// (databases, logs, device files) for any demo card number (non-negotiable: a full PAN is never
// stored in clear).
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "demo/demo_network.h"

namespace tapstack::testing {

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Every demo card number of every bank and kind.
inline std::set<std::string> AllDemoPans(const demo::DemoNetwork& demo) {
  std::set<std::string> pans;
  for (const demo::DemoBank& b : demo.banks) {
    for (demo::CardKind kind : {demo::CardKind::kCredit, demo::CardKind::kDebit}) {
      for (int i = 0; i < b.cardholders; ++i) {
        auto pan = demo::DemoCardNumber(b, kind, i);
        if (!pan.ok()) break;  // the bank does not issue this kind
        pans.insert(*pan);
      }
    }
  }
  return pans;
}

// The demo PANs found in `bytes`. A PAN inside a longer run of digits is also a PAN in clear, so
// every window of 13-19 digits of every run is tested.
inline std::vector<std::string> PansIn(const std::string& bytes, const std::set<std::string>& pans) {
  std::vector<std::string> found;
  std::size_t i = 0;
  while (i < bytes.size()) {
    if (bytes[i] < '0' || bytes[i] > '9') {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < bytes.size() && bytes[j] >= '0' && bytes[j] <= '9') ++j;
    for (std::size_t start = i; start < j; ++start) {
      for (std::size_t len = 13; len <= 19 && start + len <= j; ++len) {
        std::string candidate = bytes.substr(start, len);
        if (pans.count(candidate) != 0) found.push_back(std::move(candidate));
      }
    }
    i = j;
  }
  return found;
}

}  // namespace tapstack::testing
