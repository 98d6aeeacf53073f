#include "ledger/write_ahead_log.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>

namespace tapstack::ledger {

namespace {

constexpr std::size_t kChecksumOffset = 16;  // headers are checksummed from here to the end
// Sanity bound when reading a group length from disk (a writer never writes larger groups).
constexpr std::uint64_t kGroupBytesReadMax = 1ull << 30;
constexpr std::size_t kScanChunkBytes = 4 * 1024 * 1024;

template <typename T>
std::span<const std::uint8_t> BytesOf(const T& value) {
  return {reinterpret_cast<const std::uint8_t*>(&value), sizeof(T)};
}

template <typename T>
T Load(std::span<const std::uint8_t> bytes) {
  T value;
  std::memcpy(&value, bytes.data(), sizeof(T));
  return value;
}

template <typename T>
Checksum HeaderChecksum(const T& header) {
  return ComputeChecksum(BytesOf(header).subspan(kChecksumOffset));
}

bool AllZero(std::span<const std::uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

std::string At(std::uint64_t offset) { return "offset " + std::to_string(offset); }

// A batch header whose own checksum verifies (it was written as it is, by some writer).
std::optional<BatchHeader> IntactHeader(std::span<const std::uint8_t> slot) {
  if (slot.size() < kRecordBytes) return std::nullopt;
  const auto header = Load<BatchHeader>(slot);
  if (header.magic != kLogBatchMagic) return std::nullopt;
  if (HeaderChecksum(header) != header.header_checksum) return std::nullopt;
  return header;
}

Status ReadExact(LogFile& file, std::uint64_t offset, std::span<std::uint8_t> out) {
  TS_ASSIGN_OR_RETURN(const std::size_t n, file.ReadAt(offset, out));
  if (n != out.size()) {
    return Corruption(file.name() + ": short read at " + At(offset));
  }
  return Status::Ok();
}

Status InitializeFile(LogFile& file, const RecoveryOptions& options, RecoveryReport* report) {
  FileHeader header;
  header.created_unix_ms = options.created_unix_ms;
  header.checksum = HeaderChecksum(header);
  std::vector<std::uint8_t> block(kLogBlockBytes, 0);
  std::memcpy(block.data(), &header, sizeof(header));
  TS_RETURN_IF_ERROR(file.WriteAt(0, block));
  std::uint64_t size = kLogBlockBytes;
  if (options.preallocate_bytes > 0) {
    std::vector<std::uint8_t> zeros(
        std::min<std::uint64_t>(options.preallocate_bytes, kScanChunkBytes), 0);
    const std::uint64_t end = kLogFirstGroupOffset + options.preallocate_bytes;
    for (std::uint64_t at = size; at < end; at += zeros.size()) {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(zeros.size(), end - at));
      TS_RETURN_IF_ERROR(file.WriteAt(at, std::span(zeros).first(n)));
    }
    size = end;
  }
  TS_RETURN_IF_ERROR(file.Sync());
  report->created = true;
  report->end_offset = kLogFirstGroupOffset;
  report->file_bytes = size;
  report->last_checksum = header.checksum;
  return Status::Ok();
}

// Verifies one whole group in `bytes` (which starts at `offset`). Returns the batch headers when
// every batch is intact and in order; nullopt when something does not verify (a torn candidate);
// kCorruption when an intact header is out of place.
Result<std::optional<std::vector<BatchHeader>>> VerifyGroup(std::span<const std::uint8_t> bytes,
                                                            std::uint64_t offset,
                                                            std::uint64_t expected_sequence,
                                                            const Checksum& previous,
                                                            const std::string& name) {
  std::vector<BatchHeader> headers;
  Checksum chain = previous;
  std::uint64_t sequence = expected_sequence;
  std::size_t at = 0;
  while (at < bytes.size()) {
    const std::optional<BatchHeader> header = IntactHeader(bytes.subspan(at));
    if (!header.has_value()) return std::optional<std::vector<BatchHeader>>();
    const std::uint64_t file_offset = offset + at;
    if (header->sequence != sequence || header->previous_checksum != chain ||
        header->group_offset != offset || header->group_bytes != bytes.size() ||
        header->format_version != kLogFormatVersion) {
      return Corruption(name + ": batch at " + At(file_offset) + " is intact but out of place " +
                        "(sequence " + std::to_string(header->sequence) + ", expected " +
                        std::to_string(sequence) + ")");
    }
    const auto kind = static_cast<BatchKind>(header->kind);
    if (kind != BatchKind::kAccounts && kind != BatchKind::kTransfers &&
        kind != BatchKind::kExpire && kind != BatchKind::kPadding) {
      return Corruption(name + ": batch at " + At(file_offset) + " has unknown kind " +
                        std::to_string(header->kind));
    }
    const std::uint64_t body_bytes = std::uint64_t{header->event_count} * kRecordBytes;
    if (body_bytes > bytes.size() - at - kRecordBytes) {
      return Corruption(name + ": batch at " + At(file_offset) + " runs past its group");
    }
    const auto body = bytes.subspan(at + kRecordBytes, static_cast<std::size_t>(body_bytes));
    if (ComputeChecksum(body) != header->body_checksum) {
      return std::optional<std::vector<BatchHeader>>();
    }
    headers.push_back(*header);
    chain = header->header_checksum;
    ++sequence;
    at += kRecordBytes + static_cast<std::size_t>(body_bytes);
  }
  return std::optional<std::vector<BatchHeader>>(std::move(headers));
}

}  // namespace

Checksum ResultsDigest(std::span<const std::uint8_t> results_bytes) {
  return ComputeChecksum(results_bytes);
}

Status RecoverLog(LogFile& file, const RecoveryOptions& options,
                  const std::function<Status(const BatchView&)>& apply, RecoveryReport* report) {
  *report = RecoveryReport{};
  TS_ASSIGN_OR_RETURN(std::uint64_t file_bytes, file.Size());
  if (options.read_limit != 0) file_bytes = std::min(file_bytes, options.read_limit);
  report->file_bytes = file_bytes;

  // The file header. A file that is empty or all zeros in its first block never held data (a crash
  // before the header was synced), so it is (re)initialised.
  std::vector<std::uint8_t> block(kLogBlockBytes, 0);
  TS_ASSIGN_OR_RETURN(
      const std::size_t header_read,
      file.ReadAt(0, std::span(block).first(std::min<std::uint64_t>(kLogBlockBytes, file_bytes))));
  const auto file_header = Load<FileHeader>(block);
  const bool header_ok = header_read >= kRecordBytes && file_header.magic == kLogFileMagic &&
                         HeaderChecksum(file_header) == file_header.checksum;
  if (!header_ok) {
    bool blank = AllZero(std::span(block).first(header_read));
    // Nothing beyond the first block may hold data either.
    for (std::uint64_t at = kLogBlockBytes; blank && at < file_bytes; at += kScanChunkBytes) {
      std::vector<std::uint8_t> chunk(
          static_cast<std::size_t>(std::min<std::uint64_t>(kScanChunkBytes, file_bytes - at)));
      TS_RETURN_IF_ERROR(ReadExact(file, at, chunk));
      blank = AllZero(chunk);
    }
    if (!blank) return Corruption(file.name() + ": not a ledger log (bad file header)");
    if (!options.initialize_if_empty) {
      return NotFound(file.name() + ": the ledger log is empty");
    }
    return InitializeFile(file, options, report);
  }
  if (file_header.format_version != kLogFormatVersion || file_header.record_bytes != kRecordBytes ||
      file_header.block_bytes != kLogBlockBytes) {
    return Corruption(file.name() + ": unsupported log format version " +
                      std::to_string(file_header.format_version));
  }

  Checksum previous = file_header.checksum;
  std::uint64_t sequence = 1;
  std::uint64_t offset = kLogFirstGroupOffset;
  std::vector<std::uint8_t> group;
  while (offset + kRecordBytes <= file_bytes) {
    std::array<std::uint8_t, kRecordBytes> first{};
    TS_RETURN_IF_ERROR(ReadExact(file, offset, first));
    const std::optional<BatchHeader> header = IntactHeader(first);
    if (!header.has_value()) break;  // zeros (the end) or a damaged first header: see below
    if (header->group_offset != offset || header->group_bytes % kLogBlockBytes != 0 ||
        header->group_bytes == 0 || header->group_bytes > kGroupBytesReadMax) {
      return Corruption(file.name() + ": batch at " + At(offset) +
                        " is intact but its group fields are wrong");
    }
    if (offset + header->group_bytes > file_bytes) break;  // the group was cut short
    group.resize(static_cast<std::size_t>(header->group_bytes));
    TS_RETURN_IF_ERROR(ReadExact(file, offset, group));
    TS_ASSIGN_OR_RETURN(auto headers, VerifyGroup(group, offset, sequence, previous, file.name()));
    if (!headers.has_value()) break;  // some batch of the group does not verify
    std::size_t at = 0;
    for (const BatchHeader& h : *headers) {
      const std::size_t body_bytes = std::size_t{h.event_count} * kRecordBytes;
      if (static_cast<BatchKind>(h.kind) != BatchKind::kPadding) {
        BatchView view;
        view.kind = static_cast<BatchKind>(h.kind);
        view.sequence = h.sequence;
        view.timestamp = h.timestamp;
        view.expire_limit = h.expire_limit;
        view.event_count = h.event_count;
        view.offset = offset + at;
        view.results_digest = h.results_digest;
        view.body = std::span<const std::uint8_t>(group).subspan(at + kRecordBytes, body_bytes);
        TS_RETURN_IF_ERROR(apply(view));
        ++report->batches;
      }
      at += kRecordBytes + body_bytes;
      previous = h.header_checksum;
      sequence = h.sequence + 1;
      report->last_sequence = h.sequence;
    }
    ++report->groups;
    offset += header->group_bytes;
  }
  report->end_offset = offset;
  report->last_checksum = previous;

  // Nothing verifies at `offset`. Scan everything after it: an intact header of another group
  // proves damage in the middle; otherwise find the extent of the non-zero tail (none: clean end).
  const std::uint64_t g = offset;
  std::uint64_t last_nonzero_end = g;
  std::vector<std::uint8_t> chunk;
  for (std::uint64_t at = g; at < file_bytes; at += kScanChunkBytes) {
    chunk.resize(
        static_cast<std::size_t>(std::min<std::uint64_t>(kScanChunkBytes, file_bytes - at)));
    TS_RETURN_IF_ERROR(ReadExact(file, at, chunk));
    for (std::size_t slot = 0; slot + kRecordBytes <= chunk.size(); slot += kRecordBytes) {
      const auto bytes = std::span<const std::uint8_t>(chunk).subspan(slot, kRecordBytes);
      if (AllZero(bytes)) continue;
      last_nonzero_end = at + slot + kRecordBytes;
      const std::optional<BatchHeader> header = IntactHeader(bytes);
      if (header.has_value() && header->group_offset != g) {
        return Corruption(file.name() + ": damaged data at " + At(g) +
                          " is followed by an intact batch (sequence " +
                          std::to_string(header->sequence) + " at " + At(at + slot) +
                          "): the log is corrupt in the middle");
      }
    }
    if (chunk.size() % kRecordBytes != 0 &&
        !AllZero(std::span(chunk).last(chunk.size() % kRecordBytes))) {
      last_nonzero_end = at + chunk.size();
    }
  }
  if (last_nonzero_end == g) return Status::Ok();  // clean end: only zeros follow

  report->torn_tail = true;
  report->torn_tail_offset = g;
  report->torn_tail_bytes = last_nonzero_end - g;
  switch (options.torn_tail) {
    case TornTail::kIgnore:
      return Status::Ok();
    case TornTail::kFail:
      return Corruption(file.name() + ": the last group (at " + At(g) + ", " +
                        std::to_string(report->torn_tail_bytes) +
                        " bytes) is damaged; a crash during its write explains this, and it was "
                        "never acknowledged; open with torn-tail truncation to drop it");
    case TornTail::kTruncate:
      break;
  }
  std::vector<std::uint8_t> zeros(
      static_cast<std::size_t>(std::min<std::uint64_t>(kScanChunkBytes, report->torn_tail_bytes)),
      0);
  for (std::uint64_t at = g; at < last_nonzero_end; at += zeros.size()) {
    const auto n =
        static_cast<std::size_t>(std::min<std::uint64_t>(zeros.size(), last_nonzero_end - at));
    TS_RETURN_IF_ERROR(file.WriteAt(at, std::span(zeros).first(n)));
  }
  return file.Sync();
}

GroupEncoder::GroupEncoder(std::size_t capacity_bytes)
    // Not zero-filled: every byte of a group is written before it is read (padding included),
    // and a ledger opens two of these (tens of MiB) whatever its load.
    : capacity_(std::max(capacity_bytes, kGroupBytesMin)),
      buffer_(std::make_unique_for_overwrite<std::uint8_t[]>(capacity_)) {}

void GroupEncoder::Begin(std::uint64_t offset, std::uint64_t next_sequence,
                         const Checksum& previous) {
  size_ = 0;
  header_positions_.clear();
  offset_ = offset;
  next_sequence_ = next_sequence;
  previous_ = previous;
}

bool GroupEncoder::HasRoom(std::size_t event_count) const {
  // The batch, plus at most one padding header, plus rounding up to the block.
  const std::size_t needed = size_ + (event_count + 1) * kRecordBytes + kLogBlockBytes;
  return needed <= capacity_;
}

void GroupEncoder::AddBatch(BatchKind kind, std::uint64_t timestamp, std::uint64_t expire_limit,
                            std::span<const std::uint8_t> body, std::uint32_t event_count,
                            const Checksum& results_digest) {
  BatchHeader header;
  header.kind = static_cast<std::uint16_t>(kind);
  header.timestamp = timestamp;
  header.expire_limit = expire_limit;
  header.event_count = event_count;
  header.results_digest = results_digest;
  header.body_checksum = ComputeChecksum(body);
  header_positions_.push_back(size_);
  std::memcpy(buffer_.get() + size_, &header, sizeof(header));
  if (!body.empty()) std::memcpy(buffer_.get() + size_ + kRecordBytes, body.data(), body.size());
  size_ += kRecordBytes + body.size();
}

std::span<const std::uint8_t> GroupEncoder::Finish() {
  if (size_ == 0) return {};
  const std::size_t remainder = size_ % kLogBlockBytes;
  if (remainder != 0) {
    const std::size_t padding_records = (kLogBlockBytes - remainder) / kRecordBytes - 1;
    std::memset(buffer_.get() + size_ + kRecordBytes, 0, padding_records * kRecordBytes);
    AddBatch(BatchKind::kPadding, 0, 0,
             std::span<const std::uint8_t>(buffer_.get() + size_ + kRecordBytes,
                                           padding_records * kRecordBytes),
             static_cast<std::uint32_t>(padding_records), Checksum{});
  }
  for (const std::size_t position : header_positions_) {
    BatchHeader header;
    std::memcpy(&header, buffer_.get() + position, sizeof(header));
    header.sequence = next_sequence_++;
    header.previous_checksum = previous_;
    header.group_offset = offset_;
    header.group_bytes = size_;
    header.header_checksum = HeaderChecksum(header);
    previous_ = header.header_checksum;
    std::memcpy(buffer_.get() + position, &header, sizeof(header));
  }
  return std::span<const std::uint8_t>(buffer_.get(), size_);
}

Status LogWriter::Preallocate(std::uint64_t end) {
  if (end <= file_bytes_) return Status::Ok();
  const std::uint64_t chunk = std::max<std::uint64_t>(preallocate_bytes_, kLogBlockBytes);
  std::uint64_t new_size = file_bytes_;
  while (new_size < end) new_size += chunk;
  new_size = std::min(new_size, std::max(end, log_bytes_max_));
  std::vector<std::uint8_t> zeros(
      static_cast<std::size_t>(std::min<std::uint64_t>(new_size - file_bytes_, kScanChunkBytes)),
      0);
  for (std::uint64_t at = file_bytes_; at < new_size; at += zeros.size()) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(zeros.size(), new_size - at));
    TS_RETURN_IF_ERROR(file_->WriteAt(at, std::span(zeros).first(n)));
  }
  file_bytes_ = new_size;
  return Status::Ok();
}

Status LogWriter::WriteGroup(std::uint64_t offset, std::span<const std::uint8_t> group) {
  if (group.empty()) return Status::Ok();
  if (offset + group.size() > log_bytes_max_) {
    return OutOfRange(file_->name() + ": the log would exceed its limit of " +
                      std::to_string(log_bytes_max_) + " bytes");
  }
  // The zero-filled extension is synced together with the group (one fdatasync).
  TS_RETURN_IF_ERROR(Preallocate(offset + group.size()));
  TS_RETURN_IF_ERROR(file_->WriteAt(offset, group));
  return file_->Sync();
}

}  // namespace tapstack::ledger
