// Limits of the ledger, each a named constant with its unit in the name (TigerBeetle style).
//
// The defaults of LedgerOptions (ledger/ledger.h) come from here; the hard limits (record and block
// sizes, events per batch) are part of the on-disk format and never change for a format version.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tapstack::ledger {

// Every account, transfer and log header is one fixed record of this size (the on-disk unit).
inline constexpr std::size_t kRecordBytes = 128;

// Most events (accounts or transfers) in one request, i.e. in one CreateAccounts/CreateTransfers
// call. 8190 events + one 128-byte header fill just under 1 MiB, TigerBeetle's batch size.
inline constexpr std::size_t kBatchEventsMax = 8190;

// Each group commit (one write + one fdatasync) starts and ends on a block boundary, so a write
// never rewrites a sector that holds an earlier, acknowledged group (a torn write can only damage
// the group being written).
inline constexpr std::size_t kLogBlockBytes = 4096;

// Default upper bound of one group commit: requests queued while the previous group is syncing are
// coalesced into one write of at most this many bytes (8 full batches).
inline constexpr std::size_t kGroupBytesMaxDefault = 8 * 1024 * 1024;

// The log file grows in zero-filled chunks of this size: overwriting already allocated blocks makes
// fdatasync flush data only, not file-size metadata (measured: ~2x faster per sync on ext4).
inline constexpr std::uint64_t kLogPreallocateBytesDefault = 64ull * 1024 * 1024;

// Default size limit of the log file; writes beyond it are refused with kOutOfRange.
inline constexpr std::uint64_t kLogBytesMaxDefault = 64ull * 1024 * 1024 * 1024;

// Default capacity of the in-memory state. Transfers and remembered failures share
// transfers_max (both are ids the ledger must remember forever). About 150 bytes of memory each.
inline constexpr std::uint64_t kAccountsMaxDefault = 1'000'000;
inline constexpr std::uint64_t kTransfersMaxDefault = 16'000'000;

// Requests waiting for the committer; callers beyond this block until there is room.
inline constexpr std::size_t kQueuedRequestsMax = 4096;

// Most pending transfers one expiry sweep (one logged batch) voids; the next sweep continues.
inline constexpr std::uint64_t kExpireBatchMax = 8190;

// How often the committer sweeps expired holds when no request wakes it.
inline constexpr std::int64_t kExpirePendingIntervalMsDefault = 1000;

// A transfer's timeout is in seconds; the ledger's timestamps are in nanoseconds.
inline constexpr std::uint64_t kNanosPerSecond = 1'000'000'000;

}  // namespace tapstack::ledger
