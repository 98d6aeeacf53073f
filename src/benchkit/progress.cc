#include "benchkit/progress.h"

#include <algorithm>
#include <string>

namespace tapstack::benchkit {

double ProgressFraction(const ProgressState& state) {
  double by_time = state.seconds_bound > 0 ? state.elapsed_s / state.seconds_bound : 0;
  double by_count = state.count_bound > 0
                        ? static_cast<double>(state.ops) / static_cast<double>(state.count_bound)
                        : 0;
  return std::clamp(std::max(by_time, by_count), 0.0, 1.0);
}

void TerminalProgress::Update(const ProgressState& state) {
  const double fraction = ProgressFraction(state);
  if (tty_) {
    const int filled = static_cast<int>(fraction * kBarWidthChars);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(kBarWidthChars - filled), '.');
    // \r and clear-to-end-of-line: redraw in place.
    std::fprintf(stream_, "\r[%s] %3.0f%%  %6.1f s  %lld ops  %.0f ops/s\x1b[K", bar.c_str(),
                 fraction * 100, state.elapsed_s, static_cast<long long>(state.ops),
                 state.recent_ops_per_second);
    std::fflush(stream_);
    return;
  }
  if (state.elapsed_s - last_line_s_ < 1.0) return;
  last_line_s_ = state.elapsed_s;
  std::fprintf(stream_, "%.0f s: %lld ops, %.0f ops/s, %.0f%% done\n", state.elapsed_s,
               static_cast<long long>(state.ops), state.recent_ops_per_second, fraction * 100);
  std::fflush(stream_);
}

void TerminalProgress::Finish(const ProgressState& state) {
  if (tty_) {
    last_line_s_ = -1;
    Update(state);
    std::fputc('\n', stream_);
  } else {
    std::fprintf(stream_, "done: %lld ops in %.1f s\n", static_cast<long long>(state.ops),
                 state.elapsed_s);
  }
  std::fflush(stream_);
}

}  // namespace tapstack::benchkit
