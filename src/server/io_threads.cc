#include "server/io_threads.h"

#include <chrono>

namespace tapstack::server {

IoThreads::IoThreads(int threads) : work_(asio::make_work_guard(io_)) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
}

void IoThreads::Stop(int drain_ms) {
  if (threads_.empty()) return;
  work_.reset();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(drain_ms);
  while (!io_.stopped() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  io_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace tapstack::server
