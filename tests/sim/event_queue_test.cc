#include "sim/event_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace tapstack::sim {
namespace {

TEST(EventQueueTest, OrdersByTimeThenKeyWhateverTheStagingOrder) {
  EventQueue q;
  std::vector<std::string> ran;
  // Staged from two threads in either order: the agenda orders them by content.
  std::thread a([&] { q.Schedule(5, "b", [&] { ran.push_back("b"); }); });
  std::thread b([&] { q.Schedule(5, "a", [&] { ran.push_back("a"); }); });
  a.join();
  b.join();
  q.Schedule(1, "z", [&] { ran.push_back("z"); });
  q.Commit();
  while (auto e = q.Pop()) e->action();
  EXPECT_EQ(ran, (std::vector<std::string>{"z", "a", "b"}));
}

TEST(EventQueueTest, LaterCommitsRunAfterEarlierOnesAtTheSameTime) {
  EventQueue q;
  std::vector<std::string> ran;
  q.Schedule(3, "m", [&] { ran.push_back("first"); });
  q.Commit();
  q.Schedule(3, "a", [&] { ran.push_back("second"); });
  q.Commit();
  EXPECT_EQ(q.size(), 2u);
  while (auto e = q.Pop()) e->action();
  EXPECT_EQ(ran, (std::vector<std::string>{"first", "second"}));
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace tapstack::sim
