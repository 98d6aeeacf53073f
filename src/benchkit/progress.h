// Progress of a running benchmark on a terminal: a bar redrawn in place when the stream is a TTY,
// otherwise one plain line per second (logs and CI keep a readable record).
#pragma once

#include <cstdint>
#include <cstdio>

namespace tapstack::benchkit {

struct ProgressState {
  double elapsed_s = 0;
  double seconds_bound = 0;
  std::int64_t ops = 0;
  std::int64_t count_bound = 0;
  double recent_ops_per_second = 0;  // over the last completed second (0 before the first)
};

// Told about the run by the Runner's sampler thread (never concurrently).
class Progress {
 public:
  virtual ~Progress() = default;
  virtual void Update(const ProgressState& state) = 0;
  virtual void Finish(const ProgressState& state) = 0;
};

// Writes to `stream` (not owned; stderr in the CLI). `tty` chooses the bar (isatty of the stream).
class TerminalProgress : public Progress {
 public:
  TerminalProgress(std::FILE* stream, bool tty) : stream_(stream), tty_(tty) {}
  void Update(const ProgressState& state) override;
  void Finish(const ProgressState& state) override;

  static constexpr int kBarWidthChars = 30;

 private:
  std::FILE* stream_;
  bool tty_;
  double last_line_s_ = 0;  // plain mode: when the last line was written
};

// The fraction of the run done (0..1): whichever bound is nearer.
double ProgressFraction(const ProgressState& state);

}  // namespace tapstack::benchkit
