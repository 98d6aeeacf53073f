// The ledger's write-ahead log: an append-only file of checksummed, hash-chained, fixed-size
// records, written in group commits, each made durable with one fdatasync.
//
// ## On-disk format (version 1, little-endian)
//   [0, 4096)  file header block: a 128-byte FileHeader record, then zeros.
//   then groups, back to back. A group is what one write + one fdatasync made durable: it starts
//   at a 4096-byte block boundary and is a multiple of 4096 bytes long, so writing a group never
//   touches a sector of an earlier (acknowledged) group. A group is a sequence of batches; the last
//   one is a padding batch when needed to reach the block boundary.
//   A batch is a 128-byte BatchHeader followed by event_count 128-byte records:
//     accounts   Account records as submitted (timestamp 0); event i got timestamp + i
//     transfers  Transfer records as submitted, likewise
//     expire     no records; "expire up to expire_limit holds due at `timestamp`"
//     padding    event_count zero records
//   The log holds the requests (inputs), not their effects: replay runs each request through the
//   StateMachine again at its recorded timestamp, which is deterministic. Each header also carries
//   a digest of the results the request got when it was first applied; replay recomputes and
//   compares them (a second path to the same outcome), so a change in the rules or a bug that makes
//   replay diverge is caught at open instead of silently changing balances.
//   Requests that changed nothing (every event `exists` or invalid) are not logged.
//   The rest of the file is zeros: it grows in preallocated zero-filled chunks.
//
// ## Checksums
// header_checksum = SHA-256/128 of header bytes [16, 128); body_checksum = SHA-256/128 of the
// records; previous_checksum = the previous batch's header_checksum (the file header's checksum
// for the first batch): a hash chain, so a batch that is intact but out of place (a misdirected or
// stale write) is refused too. Sequence numbers count batches from 1 without gaps.
//
// ## Recovery (RecoverLog)
// Groups are verified as a whole before any of their batches is applied. At the first group that
// does not verify, the rest of the file is scanned for intact batch headers:
//   * an intact header of a *later* group means damage in the middle of the log: kCorruption, and
//     nothing is repaired (stop rather than answer wrongly);
//   * otherwise the damage is confined to the last group written, which a crash during its write
//     (a torn write) explains. That group was never synced, so no caller was told it succeeded:
//     with TornTail::kTruncate it is zeroed and synced and the log continues before it; the
//     RecoveryReport says how many bytes were dropped. Damage of the last group by anything other
//     than a crash cannot be told apart from a torn write; TornTail::kFail refuses to open instead.
//   * an intact header that is in the right place for its checksum but has the wrong sequence,
//     chain or group fields is kCorruption.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "core/status.h"
#include "ledger/checksum.h"
#include "ledger/limits.h"
#include "ledger/log_file.h"

namespace tapstack::ledger {

inline constexpr std::uint64_t kLogFileMagic = 0x5245474445'4c5354ull;   // "TSLEDGER" (LE bytes)
inline constexpr std::uint64_t kLogBatchMagic = 0x3154414257'4c5354ull;  // "TSLWBAT1"
inline constexpr std::uint32_t kLogFormatVersion = 1;
inline constexpr std::uint64_t kLogFirstGroupOffset = kLogBlockBytes;

enum class BatchKind : std::uint16_t {
  kAccounts = 1,
  kTransfers = 2,
  kExpire = 3,
  kPadding = 4,
};

// The first record of the file.
struct FileHeader {
  Checksum checksum{};  // of bytes [16, 128)
  std::uint64_t magic = kLogFileMagic;
  std::uint32_t format_version = kLogFormatVersion;
  std::uint32_t record_bytes = kRecordBytes;
  std::uint32_t block_bytes = kLogBlockBytes;
  std::uint32_t reserved0 = 0;
  std::uint64_t created_unix_ms = 0;
  std::array<std::uint8_t, 80> reserved{};
};
static_assert(sizeof(FileHeader) == kRecordBytes);

struct BatchHeader {
  Checksum header_checksum{};    // of bytes [16, 128)
  Checksum body_checksum{};      // of the event_count records that follow
  Checksum previous_checksum{};  // header_checksum of the previous batch
  Checksum results_digest{};     // of the results the request got (see ResultsDigest)
  std::uint64_t magic = kLogBatchMagic;
  std::uint64_t sequence = 0;      // 1, 2, 3 … over the whole log
  std::uint64_t timestamp = 0;     // the request's timestamp (ns)
  std::uint64_t group_offset = 0;  // file offset of the group this batch belongs to
  std::uint64_t group_bytes = 0;   // length of that group
  std::uint64_t expire_limit = 0;  // expire batches: most holds to expire
  std::uint32_t event_count = 0;
  std::uint16_t kind = 0;  // BatchKind
  std::uint16_t format_version = kLogFormatVersion;
  std::uint64_t reserved = 0;
};
static_assert(sizeof(BatchHeader) == kRecordBytes);
static_assert(offsetof(BatchHeader, magic) == 64 && offsetof(BatchHeader, event_count) == 112);

// Digest of a request's results, stored in its header: SHA-256/128 of the raw result values.
Checksum ResultsDigest(std::span<const std::uint8_t> results_bytes);

// One intact batch, as handed to the replay callback. `body` points into the reader's buffer and
// is valid only during the callback.
struct BatchView {
  BatchKind kind = BatchKind::kPadding;
  std::uint64_t sequence = 0;
  std::uint64_t timestamp = 0;
  std::uint64_t expire_limit = 0;
  std::uint32_t event_count = 0;
  std::uint64_t offset = 0;  // of the header in the file
  Checksum results_digest{};
  std::span<const std::uint8_t> body;
};

enum class TornTail {
  kTruncate,  // zero the torn group and sync (read-write open)
  kIgnore,    // stop before it and report it, change nothing (read-only open)
  kFail,      // refuse with kCorruption
};

struct RecoveryOptions {
  TornTail torn_tail = TornTail::kTruncate;
  // Treat the file as ending here (0 = its size). Used to re-read a live log up to its durable end.
  std::uint64_t read_limit = 0;
  // A file that is empty (or all zeros: a crash before its header was synced) is initialised with
  // a header and `preallocate_bytes` of zeros; when false (read-only opens) it is kNotFound.
  bool initialize_if_empty = true;
  std::uint64_t created_unix_ms = 0;
  std::uint64_t preallocate_bytes = kLogPreallocateBytesDefault;
};

struct RecoveryReport {
  bool created = false;             // the file was new and has been initialised
  std::uint64_t groups = 0;         // intact groups replayed
  std::uint64_t batches = 0;        // intact non-padding batches replayed
  std::uint64_t end_offset = 0;     // where the next group goes
  std::uint64_t file_bytes = 0;     // the file's size (with preallocated zeros)
  std::uint64_t last_sequence = 0;  // of the last intact batch (0 = none)
  Checksum last_checksum{};         // its header_checksum (the file header's when none)
  bool torn_tail = false;           // a damaged last group was found
  std::uint64_t torn_tail_offset = 0;
  std::uint64_t torn_tail_bytes = 0;  // from its start to the last non-zero byte
};

// Reads the log, calling `apply` for every intact non-padding batch in order, then deals with the
// tail as described above. An error from `apply` stops recovery and is returned as it is.
// Errors: kCorruption (bad file header, damage in the middle, torn tail with kFail), kIoError.
Status RecoverLog(LogFile& file, const RecoveryOptions& options,
                  const std::function<Status(const BatchView&)>& apply, RecoveryReport* report);

// Builds one group in memory: batches are appended, then Finish() pads it to the block boundary
// and fills in every header (group fields, checksums, hash chain).
class GroupEncoder {
 public:
  // `capacity_bytes`: most bytes a group may have (padding included); at least
  // kGroupBytesMin.
  explicit GroupEncoder(std::size_t capacity_bytes);

  static constexpr std::size_t kGroupBytesMin =
      (kBatchEventsMax + 1) * kRecordBytes + kRecordBytes + kLogBlockBytes;

  // Starts a new, empty group at `offset` (block-aligned), continuing the chain.
  void Begin(std::uint64_t offset, std::uint64_t next_sequence, const Checksum& previous);

  // True when a batch of `event_count` records still fits (leaving room for padding).
  bool HasRoom(std::size_t event_count) const;
  std::size_t size_bytes() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Appends a batch; `body` holds event_count records. Requires HasRoom(event_count).
  void AddBatch(BatchKind kind, std::uint64_t timestamp, std::uint64_t expire_limit,
                std::span<const std::uint8_t> body, std::uint32_t event_count,
                const Checksum& results_digest);

  // Pads and seals the group; returns its bytes (empty when no batch was added).
  std::span<const std::uint8_t> Finish();

  std::uint64_t offset() const { return offset_; }
  // After Finish: the sequence and checksum to continue the chain with.
  std::uint64_t next_sequence() const { return next_sequence_; }
  const Checksum& last_checksum() const { return previous_; }

 private:
  std::size_t capacity_;
  std::unique_ptr<std::uint8_t[]> buffer_;
  std::vector<std::size_t> header_positions_;
  std::size_t size_ = 0;
  std::uint64_t offset_ = 0;
  std::uint64_t next_sequence_ = 1;
  Checksum previous_{};
};

// Writes sealed groups at their offsets and syncs, growing the file in preallocated chunks.
class LogWriter {
 public:
  LogWriter(LogFile* file, std::uint64_t file_bytes, std::uint64_t preallocate_bytes,
            std::uint64_t log_bytes_max)
      : file_(file),
        file_bytes_(file_bytes),
        preallocate_bytes_(preallocate_bytes),
        log_bytes_max_(log_bytes_max) {}

  // Writes `group` at `offset` and syncs. Errors: kOutOfRange beyond log_bytes_max (nothing
  // written), kIoError (the caller must treat the log as failed from now on).
  Status WriteGroup(std::uint64_t offset, std::span<const std::uint8_t> group);

  std::uint64_t log_bytes_max() const { return log_bytes_max_; }

 private:
  Status Preallocate(std::uint64_t end);

  LogFile* file_;
  std::uint64_t file_bytes_;
  std::uint64_t preallocate_bytes_;
  std::uint64_t log_bytes_max_;
};

}  // namespace tapstack::ledger
