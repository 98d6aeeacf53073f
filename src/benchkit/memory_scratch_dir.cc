#include "benchkit/memory_scratch_dir.h"

#include <cstdlib>
#include <string>

namespace tapstack::benchkit {

std::filesystem::path MemoryScratchBase() {
  std::error_code ec;
  if (std::filesystem::is_directory("/dev/shm", ec)) return "/dev/shm";
  return std::filesystem::temp_directory_path();
}

Result<std::unique_ptr<MemoryScratchDir>> MemoryScratchDir::Create(std::string_view prefix) {
  std::string pattern = (MemoryScratchBase() / (std::string(prefix) + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) return IoError(pattern + ": mkdtemp failed");
  return std::unique_ptr<MemoryScratchDir>(new MemoryScratchDir(pattern));
}

MemoryScratchDir::~MemoryScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace tapstack::benchkit
