#include "dcep_wire/log_record.h"

#include "dcep_wire/internal/tlv_fields.h"
#include "dcep_wire/limits.h"

namespace tapstack::dcep_wire {

namespace {

constexpr emv::TlvTag kTagSequence = 0xC8;
constexpr emv::TlvTag kTagDirection = 0xD0;
constexpr std::string_view kWhat = "log record";

}  // namespace

Result<Bytes> EncodeLogRecord(std::uint32_t sequence, LogDirection direction, ByteView transfer_e2,
                              ByteView chain_e4) {
  if (transfer_e2.empty() || chain_e4.empty()) {
    return InvalidArgument("log record: transfer (E2) and chain (E4) are required");
  }
  internal::TlvWriter w;
  w.PutUint(kTagSequence, sequence, kSequenceBytes);
  w.PutUint(kTagDirection, static_cast<std::uint8_t>(direction), 1);
  w.PutRaw(transfer_e2);
  w.PutRaw(chain_e4);
  return w.Finish(kTagLogRecord);
}

Result<LogRecord> ParseLogRecord(ByteView encoded) {
  emv::TlvTree tree;
  TS_RETURN_IF_ERROR(internal::DecodeOne(encoded, kTagLogRecord, kWhat, kLogRecordBytesMax, tree));
  const emv::TlvNode& root = *tree.roots().begin();
  const internal::FieldReader f(tree, root, kWhat);
  TS_RETURN_IF_ERROR(
      f.CheckTags({kTagSequence, kTagDirection, kTagOfflineTransfer, kTagCertificateChain}));
  LogRecord record;
  TS_ASSIGN_OR_RETURN(const std::uint64_t sequence,
                      f.Uint(kTagSequence, "log sequence", kSequenceBytes));
  record.sequence = static_cast<std::uint32_t>(sequence);
  TS_ASSIGN_OR_RETURN(const std::uint64_t direction, f.Uint(kTagDirection, "direction", 1));
  if (direction != 1 && direction != 2) {
    return InvalidArgument("log record: tag D0 (direction) must be 01 or 02");
  }
  record.direction = static_cast<LogDirection>(direction);
  TS_ASSIGN_OR_RETURN(const emv::TlvNode* transfer, f.Node(kTagOfflineTransfer, "transfer"));
  Result<OfflineTransfer> parsed = ParseOfflineTransfer(internal::NodeBytes(tree, *transfer));
  if (!parsed.ok()) return parsed.status().WithContext("log record: tag E2");
  record.transfer = std::move(parsed).value();
  TS_ASSIGN_OR_RETURN(const emv::TlvNode* chain, f.Node(kTagCertificateChain, "payer chain"));
  Result<CertificateChain> parsed_chain = ParseCertificateChain(internal::NodeBytes(tree, *chain));
  if (!parsed_chain.ok()) return parsed_chain.status().WithContext("log record: tag E4");
  record.payer_chain = std::move(parsed_chain).value();
  return record;
}

Result<std::vector<LogRecord>> ParseLogRecords(ByteView encoded) {
  emv::TlvDecodeOptions options;
  options.allow_padding = false;
  TS_ASSIGN_OR_RETURN(const emv::TlvTree tree, emv::DecodeTlv(encoded, options));
  std::vector<LogRecord> records;
  for (const emv::TlvNode& root : tree.roots()) {
    Result<LogRecord> record = ParseLogRecord(internal::NodeBytes(tree, root));
    if (!record.ok()) {
      return record.status().WithContext("log records: record " + std::to_string(records.size()));
    }
    records.push_back(std::move(record).value());
  }
  return records;
}

}  // namespace tapstack::dcep_wire
