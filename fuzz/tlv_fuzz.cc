// Fuzz target for the BER-TLV decoder and the parsers built on it (DOL, FCI, GPO and GENERATE AC
// responses). Invariants checked on every input that decodes:
//   - re-encoding the tree gives the input back byte for byte;
//   - every node lies inside the input, children inside their parent, depth within the limit;
//   - TlvTree::Find returns the first node of a tag in preorder.
// A violated invariant aborts (libFuzzer reports it as a crash).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/bytes.h"
#include "emv/contactless_commands.h"
#include "emv/dol.h"
#include "emv/tag_values.h"
#include "emv/tlv.h"

namespace {

using tapstack::Bytes;
using tapstack::ByteView;
namespace emv = tapstack::emv;

void Require(bool condition) {
  if (!condition) std::abort();
}

bool Inside(ByteView inner, ByteView outer) {
  return inner.empty() || (inner.data() >= outer.data() &&
                           inner.data() + inner.size() <= outer.data() + outer.size());
}

void CheckTree(const emv::TlvTree& tree, ByteView input) {
  const auto& nodes = tree.nodes();
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const emv::TlvNode& node = nodes[i];
    Require(Inside(node.value, input));
    Require(node.depth < emv::kTlvDepthMax);
    Require(node.tag_bytes >= 1 && node.tag_bytes <= emv::kTlvTagBytesMax);
    Require(node.length_bytes >= 1 && node.length_bytes <= emv::kTlvLengthBytesMax);
    if (node.parent != emv::kTlvNoNode) {
      Require(node.parent < i);
      Require(Inside(node.value, nodes[node.parent].value));
      Require(node.depth == nodes[node.parent].depth + 1);
    } else {
      Require(node.depth == 0);
    }
    if (!node.constructed) Require(node.first_child == emv::kTlvNoNode);
    const emv::TlvNode* first = tree.Find(node.tag);
    Require(first != nullptr && first <= &node);
  }
  tapstack::Result<Bytes> again = emv::EncodeTlvTree(tree);
  Require(again.ok());
  Require(again->size() == input.size());
  Require(std::equal(again->begin(), again->end(), input.begin()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);
  for (const bool padding : {true, false}) {
    emv::TlvDecodeOptions options;
    options.allow_padding = padding;
    tapstack::Result<emv::TlvTree> tree = emv::DecodeTlv(input, options);
    if (!tree.ok()) continue;
    CheckTree(*tree, input);
    emv::TagValues values;
    (void)values.AddFromTree(*tree);
  }

  // The same bytes read as a DOL: building its data must give exactly the announced length.
  tapstack::Result<std::vector<emv::DolEntry>> dol = emv::ParseDol(input);
  if (dol.ok()) {
    tapstack::Result<Bytes> dol_data = emv::BuildDolData(*dol, emv::TagSources{});
    Require(dol_data.ok() && dol_data->size() == emv::DolDataLength(*dol));
    Require(emv::ParseDolData(*dol, *dol_data).ok());
  }

  // The response parsers must refuse or accept without crashing.
  (void)emv::ParseFci(input);
  (void)emv::ParseProcessingOptions(input);
  (void)emv::ParseGenerateAcResponse(input);
  (void)emv::ParseAfl(input);
  return 0;
}
