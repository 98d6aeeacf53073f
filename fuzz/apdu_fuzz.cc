// Fuzz target for the ISO/IEC 7816-4 APDU codec. Invariants: a command or response that parses
// re-encodes to the same bytes; status-word descriptions never crash.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/bytes.h"
#include "emv/apdu.h"
#include "emv/status_word.h"

namespace {

using tapstack::Bytes;
using tapstack::ByteView;
namespace emv = tapstack::emv;

void Require(bool condition) {
  if (!condition) std::abort();
}

bool SameBytes(const Bytes& a, ByteView b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);
  tapstack::Result<emv::CommandApdu> command = emv::ParseCommandApdu(input);
  if (command.ok()) {
    tapstack::Result<Bytes> again = emv::EncodeCommandApdu(*command);
    Require(again.ok() && SameBytes(*again, input));
    Require(command->data.size() <= emv::kShortLcMax);
    (void)emv::InstructionName(command->ins);
  }
  tapstack::Result<emv::ResponseApdu> response = emv::ParseResponseApdu(input);
  if (response.ok()) {
    tapstack::Result<Bytes> again = emv::EncodeResponseApdu(*response);
    Require(again.ok() && SameBytes(*again, input));
    (void)emv::DescribeStatusWord(response->sw);
    (void)emv::StatusWordName(response->sw);
  }
  return 0;
}
