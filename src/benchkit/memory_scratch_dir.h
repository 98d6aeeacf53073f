// Scratch directories in memory for benchmark data whose durability is not the figure (transit
// gates and cards, the phones that make e2e taps): /dev/shm when it exists, so the disk shared
// with other work does not set the pace.
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>

#include "core/status.h"

namespace tapstack::benchkit {

// /dev/shm when it exists (the figures are CPU, not disk), else the temp directory.
std::filesystem::path MemoryScratchBase();

// A new directory under MemoryScratchBase(), removed with everything in it when this is destroyed.
class MemoryScratchDir {
 public:
  // Errors: kIoError when it cannot be made.
  static Result<std::unique_ptr<MemoryScratchDir>> Create(std::string_view prefix);
  ~MemoryScratchDir();
  MemoryScratchDir(const MemoryScratchDir&) = delete;
  MemoryScratchDir& operator=(const MemoryScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  explicit MemoryScratchDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

}  // namespace tapstack::benchkit
