// The log format on its own: groups, the hash chain, recovery of a torn tail, and refusal of
// damage in the middle.
#include "ledger/write_ahead_log.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "ledger_test_util.h"

namespace tapstack::ledger::testing {
namespace {

class WalTest : public ::testing::Test {
 protected:
  WalTest() : disk_(std::make_shared<MemoryDisk>()), file_(disk_) {}

  RecoveryOptions Options(TornTail torn = TornTail::kTruncate) {
    RecoveryOptions options;
    options.torn_tail = torn;
    options.preallocate_bytes = 64 * 1024;
    return options;
  }

  // Recovers and collects (sequence, first body byte) of every batch.
  Status Recover(TornTail torn = TornTail::kTruncate) {
    seen_.clear();
    return RecoverLog(
        file_, Options(torn),
        [this](const BatchView& b) {
          seen_.push_back(b);
          bodies_.emplace_back(b.body.begin(), b.body.end());
          return Status::Ok();
        },
        &report_);
  }

  // Appends a group of `batches` transfer batches with `events` records each, filled with `fill`.
  void AppendGroup(int batches, std::size_t events, std::uint8_t fill) {
    GroupEncoder encoder(GroupEncoder::kGroupBytesMin * 2);
    encoder.Begin(end_, sequence_, chain_);
    std::vector<std::uint8_t> body(events * kRecordBytes, fill);
    for (int i = 0; i < batches; ++i) {
      encoder.AddBatch(BatchKind::kTransfers, ++timestamp_, 0, body,
                       static_cast<std::uint32_t>(events), ResultsDigest(body));
    }
    const auto bytes = encoder.Finish();
    ASSERT_EQ(bytes.size() % kLogBlockBytes, 0u);
    LogWriter writer(&file_, disk_->current.size(), 64 * 1024, 1ull << 30);
    ASSERT_TRUE(writer.WriteGroup(end_, bytes).ok());
    group_offsets_.push_back(end_);
    end_ += bytes.size();
    sequence_ = encoder.next_sequence();
    chain_ = encoder.last_checksum();
  }

  void Init() {
    ASSERT_TRUE(Recover().ok());
    ASSERT_TRUE(report_.created);
    end_ = report_.end_offset;
    chain_ = report_.last_checksum;
  }

  std::shared_ptr<MemoryDisk> disk_;
  MemoryLogFile file_;
  RecoveryReport report_;
  std::vector<BatchView> seen_;
  std::vector<std::vector<std::uint8_t>> bodies_;
  std::vector<std::uint64_t> group_offsets_;
  std::uint64_t end_ = 0;
  std::uint64_t sequence_ = 1;
  std::uint64_t timestamp_ = 100;
  Checksum chain_{};
};

TEST_F(WalTest, NewFileGetsAHeaderAndPreallocatedZeros) {
  Init();
  EXPECT_EQ(report_.end_offset, kLogFirstGroupOffset);
  EXPECT_EQ(disk_->durable.size(), kLogFirstGroupOffset + 64 * 1024);
  EXPECT_EQ(std::memcmp(disk_->durable.data() + 16, "TSLEDGER", 8), 0);
  ASSERT_TRUE(Recover().ok());
  EXPECT_FALSE(report_.created);
  EXPECT_EQ(report_.batches, 0u);
}

TEST_F(WalTest, GroupsReplayInOrderAndAreBlockAligned) {
  Init();
  AppendGroup(3, 2, 0xA1);
  AppendGroup(1, 100, 0xB2);
  AppendGroup(2, 0, 0xC3);
  ASSERT_TRUE(Recover().ok());
  EXPECT_EQ(report_.groups, 3u);
  ASSERT_EQ(seen_.size(), 6u);  // padding batches are not reported
  for (std::size_t i = 0; i < seen_.size(); ++i) {
    EXPECT_EQ(seen_[i].kind, BatchKind::kTransfers);
    EXPECT_EQ(seen_[i].timestamp, 101 + i);
  }
  EXPECT_EQ(seen_[3].event_count, 100u);
  EXPECT_EQ(bodies_[3].front(), 0xB2);
  EXPECT_EQ(report_.end_offset, end_);
  for (std::uint64_t offset : group_offsets_) EXPECT_EQ(offset % kLogBlockBytes, 0u);
  EXPECT_FALSE(report_.torn_tail);
}

TEST_F(WalTest, TornLastGroupIsDroppedAndZeroed) {
  Init();
  AppendGroup(2, 10, 0x11);
  AppendGroup(2, 10, 0x22);
  const std::uint64_t last = group_offsets_.back();
  // Tear the last group: its second half never reached the disk, a byte in the first half is off.
  std::memset(disk_->current.data() + last + 2048, 0, static_cast<std::size_t>(end_ - last - 2048));
  disk_->current[last + 300] ^= 0xFF;
  ASSERT_TRUE(Recover().ok());
  EXPECT_TRUE(report_.torn_tail);
  EXPECT_EQ(report_.torn_tail_offset, last);
  EXPECT_EQ(seen_.size(), 2u);  // the first group only
  EXPECT_EQ(report_.end_offset, last);
  // The torn bytes are gone (zeroed and synced), so a second recovery finds a clean end.
  EXPECT_EQ(disk_->durable[last + 300], 0);
  ASSERT_TRUE(Recover().ok());
  EXPECT_FALSE(report_.torn_tail);
  EXPECT_EQ(seen_.size(), 2u);
}

TEST_F(WalTest, TruncatedFileMidRecordRecoversThePrefix) {
  Init();
  AppendGroup(1, 3, 0x11);
  AppendGroup(1, 40, 0x22);
  disk_->current.resize(group_offsets_.back() + 1000);  // cut inside a record of the last group
  ASSERT_TRUE(Recover().ok());
  EXPECT_TRUE(report_.torn_tail);
  EXPECT_EQ(seen_.size(), 1u);
  EXPECT_EQ(report_.end_offset, group_offsets_.back());
}

TEST_F(WalTest, TornGroupIsAllOrNothingEvenWhenItsFirstBatchesAreIntact) {
  Init();
  AppendGroup(1, 1, 0x11);
  AppendGroup(3, 40, 0x22);  // 3 batches of ~5 KiB: the first is intact after the tear below
  const std::uint64_t last = group_offsets_.back();
  disk_->current[end_ - 200] ^= 0x01;  // damage at the end of the group (its padding)
  ASSERT_TRUE(Recover().ok());
  EXPECT_TRUE(report_.torn_tail);
  EXPECT_EQ(seen_.size(), 1u);  // none of the torn group's batches were applied
  EXPECT_EQ(report_.end_offset, last);
}

TEST_F(WalTest, TornTailCanBeRefused) {
  Init();
  AppendGroup(1, 1, 0x11);
  disk_->current[group_offsets_.back() + 200] ^= 0x01;
  const Status status = Recover(TornTail::kFail);
  EXPECT_EQ(status.code(), ErrorCode::kCorruption) << status.ToString();
  EXPECT_TRUE(report_.torn_tail);
  // kIgnore reports it but changes nothing.
  const std::vector<std::uint8_t> before = disk_->current;
  ASSERT_TRUE(Recover(TornTail::kIgnore).ok());
  EXPECT_TRUE(report_.torn_tail);
  EXPECT_EQ(disk_->current, before);
}

TEST_F(WalTest, FlippedByteInTheMiddleIsCorruption) {
  Init();
  AppendGroup(2, 10, 0x11);
  AppendGroup(1, 10, 0x22);
  AppendGroup(1, 10, 0x33);
  const std::vector<std::uint8_t> pristine = disk_->current;
  // In a body.
  disk_->current[group_offsets_[1] + kRecordBytes + 5] ^= 0x04;
  Status status = Recover();
  EXPECT_EQ(status.code(), ErrorCode::kCorruption) << status.ToString();
  EXPECT_NE(status.message().find("corrupt in the middle"), std::string::npos) << status.message();
  // Nothing was repaired.
  disk_->current[group_offsets_[1] + kRecordBytes + 5] ^= 0x04;
  EXPECT_EQ(disk_->current, pristine);
  // In a header.
  disk_->current[group_offsets_[0] + 70] ^= 0x80;
  status = Recover();
  EXPECT_EQ(status.code(), ErrorCode::kCorruption) << status.ToString();
  disk_->current = pristine;
  // A whole block of the middle group lost (zeros).
  std::memset(disk_->current.data() + group_offsets_[1], 0, kLogBlockBytes);
  status = Recover();
  EXPECT_EQ(status.code(), ErrorCode::kCorruption) << status.ToString();
  disk_->current = pristine;
  ASSERT_TRUE(Recover().ok());
  EXPECT_EQ(seen_.size(), 4u);
}

TEST_F(WalTest, IntactBatchOutOfPlaceIsCorruption) {
  Init();
  AppendGroup(1, 1, 0x11);
  AppendGroup(1, 1, 0x22);
  AppendGroup(1, 1, 0x33);
  // A misdirected write: group 3's block copied over group 2 (intact checksums, wrong place).
  std::memcpy(disk_->current.data() + group_offsets_[1], disk_->current.data() + group_offsets_[2],
              kLogBlockBytes);
  const Status status = Recover();
  EXPECT_EQ(status.code(), ErrorCode::kCorruption) << status.ToString();
}

TEST_F(WalTest, DamagedFileHeaderIsCorruptionButABlankFileIsNew) {
  Init();
  AppendGroup(1, 1, 0x11);
  disk_->current[20] ^= 0x01;
  EXPECT_EQ(Recover().code(), ErrorCode::kCorruption);
  // All zeros (a crash before the header reached the disk): initialised afresh.
  std::fill(disk_->current.begin(), disk_->current.end(), 0);
  ASSERT_TRUE(Recover().ok());
  EXPECT_TRUE(report_.created);
}

TEST_F(WalTest, ReadLimitStopsAtADurableEnd) {
  Init();
  AppendGroup(1, 1, 0x11);
  const std::uint64_t first_end = end_;
  AppendGroup(1, 1, 0x22);
  RecoveryOptions options = Options(TornTail::kFail);
  options.read_limit = first_end;
  int batches = 0;
  ASSERT_TRUE(RecoverLog(
                  file_, options,
                  [&](const BatchView&) {
                    ++batches;
                    return Status::Ok();
                  },
                  &report_)
                  .ok());
  EXPECT_EQ(batches, 1);
}

TEST_F(WalTest, WriterRefusesToGrowPastTheLimit) {
  Init();
  LogWriter writer(&file_, disk_->current.size(), 4096, kLogFirstGroupOffset + 4096);
  std::vector<std::uint8_t> group(8192, 0);
  EXPECT_EQ(writer.WriteGroup(kLogFirstGroupOffset, group).code(), ErrorCode::kOutOfRange);
}

}  // namespace
}  // namespace tapstack::ledger::testing
