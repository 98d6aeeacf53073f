#include "ledger/log_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tapstack::ledger {

namespace {

Status ErrnoStatus(const std::string& what, const std::string& path, int error) {
  return IoError(what + " " + path + ": " + std::strerror(error));
}

class PosixLogFile final : public LogFile {
 public:
  PosixLogFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixLogFile() override { ::close(fd_); }
  PosixLogFile(const PosixLogFile&) = delete;
  PosixLogFile& operator=(const PosixLogFile&) = delete;

  Result<std::uint64_t> Size() override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return ErrnoStatus("fstat", path_, errno);
    return static_cast<std::uint64_t>(st.st_size);
  }

  Result<std::size_t> ReadAt(std::uint64_t offset, std::span<std::uint8_t> out) override {
    std::size_t done = 0;
    while (done < out.size()) {
      const ssize_t n =
          ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("read", path_, errno);
      }
      if (n == 0) break;
      done += static_cast<std::size_t>(n);
    }
    return done;
  }

  Status WriteAt(std::uint64_t offset, std::span<const std::uint8_t> data) override {
    std::size_t done = 0;
    while (done < data.size()) {
      const ssize_t n =
          ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write", path_, errno);
      }
      done += static_cast<std::size_t>(n);
    }
    return Status::Ok();
  }

  Status Sync() override {
    // No retry on EINTR or anything else: after a failed fdatasync the kernel may have dropped the
    // dirty pages, so a second call could report success for data that is gone (fsyncgate).
    if (::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync", path_, errno);
    return Status::Ok();
  }

  const std::string& name() const override { return path_; }

 private:
  int fd_;
  std::string path_;
};

Status SyncDirectory(const std::filesystem::path& dir) {
  const std::string path = dir.empty() ? std::string(".") : dir.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open directory", path, errno);
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("fsync directory", path, error);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<LogFile>> OpenPosixLogFile(const std::filesystem::path& path,
                                                  LogFileMode mode) {
  const std::string name = path.string();
  bool created = false;
  int fd = -1;
  if (mode == LogFileMode::kReadOnly) {
    fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return NotFound("ledger log " + name + " does not exist");
  } else {
    fd = ::open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      created = true;
    } else if (errno == EEXIST) {
      fd = ::open(name.c_str(), O_RDWR | O_CLOEXEC);
    }
  }
  if (fd < 0) return ErrnoStatus("open", name, errno);
  const int lock = mode == LogFileMode::kReadOnly ? LOCK_SH : LOCK_EX;
  if (::flock(fd, lock | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return FailedPrecondition("ledger log " + name + " is open in another process");
    }
    return ErrnoStatus("flock", name, error);
  }
  auto file = std::make_unique<PosixLogFile>(fd, name);
  if (created) TS_RETURN_IF_ERROR(SyncDirectory(path.parent_path()));
  return std::unique_ptr<LogFile>(std::move(file));
}

}  // namespace tapstack::ledger
