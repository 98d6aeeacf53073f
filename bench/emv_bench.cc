// EMV codec and cryptogram throughput: TLV decoding of a typical DE55 blob, DOL building, and
// ARQC generation/verification through cryptogram profiles (each call derives the card MK-AC
// and the session key, as an issuer or TSP does per authorisation).
#include <benchmark/benchmark.h>

#include <stdexcept>
#include <string_view>

#include "core/hex.h"
#include "crypto/secret_bytes.h"
#include "emv/arqc_engine.h"
#include "emv/cryptogram_profile.h"
#include "emv/dol.h"
#include "emv/tlv.h"

namespace {

using tapstack::Bytes;
namespace emv = tapstack::emv;

Bytes Hex(std::string_view hex) { return tapstack::HexDecode(hex).value(); }

// DE55 of an ARQC authorisation: 15 tags, 148 bytes (AC, CID, 32-byte IAD, UN, ATC, TVR, date,
// amount, currency, country, AIP, IFD serial, terminal capabilities, merchant name, DF name).
const Bytes& De55() {
  static const Bytes de55 =
      Hex("9F2608CD29615D6452E70E"
          "9F270180"
          "9F10200FA501A00003220000000000000000000F000000000000000000000000000000"
          "9F3704ABCDEF12"
          "9F3602001C"
          "95058000000000"
          "9A03209906"
          "9F0206000000009999"
          "5F2A020124"
          "9F1A020124"
          "82021800"
          "9F1E083132333435363738"
          "9F3303E0F8C8"
          "9F4E0D544150535441434B2043414645"
          "8410A0000000041010AABBCCDDEEFF001122");
  return de55;
}

void BM_TlvDecodeDe55(benchmark::State& state) {
  const Bytes& de55 = De55();
  emv::TlvTree tree;  // reused: no allocation after the first iteration
  for (auto _ : state) {
    tapstack::Status status = emv::DecodeTlvInto(de55, tree);
    if (!status.ok()) throw std::runtime_error(status.ToString());
    benchmark::DoNotOptimize(tree.nodes().data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * de55.size()));
  state.counters["tags"] = static_cast<double>(tree.size());
  state.counters["bytes"] = static_cast<double>(de55.size());
}
BENCHMARK(BM_TlvDecodeDe55);

void BM_TlvDecodeDe55FreshTree(benchmark::State& state) {
  const Bytes& de55 = De55();
  for (auto _ : state) {
    auto tree = emv::DecodeTlv(de55);
    if (!tree.ok()) throw std::runtime_error(tree.status().ToString());
    benchmark::DoNotOptimize(tree->nodes().data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_TlvDecodeDe55FreshTree);

void BM_TlvDecodeAndFind(benchmark::State& state) {
  const Bytes& de55 = De55();
  emv::TlvTree tree;
  for (auto _ : state) {
    if (!emv::DecodeTlvInto(de55, tree).ok()) throw std::runtime_error("decode");
    benchmark::DoNotOptimize(tree.Find(0x9F26));
    benchmark::DoNotOptimize(tree.Find(0x9F10));
    benchmark::DoNotOptimize(tree.Find(0x84));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_TlvDecodeAndFind);

void BM_TlvReencodeDe55(benchmark::State& state) {
  const Bytes& de55 = De55();
  const emv::TlvTree tree = emv::DecodeTlv(de55).value();
  Bytes out;
  for (auto _ : state) {
    out.clear();
    if (!emv::AppendTlvTree(tree, out).ok()) throw std::runtime_error("encode");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_TlvReencodeDe55);

emv::TagValues TerminalTags() {
  emv::TagValues values;
  for (const auto& [tag, value] : {std::pair{"9F02", "000000009999"},
                                   {"9F03", "000000000000"},
                                   {"9F1A", "0124"},
                                   {"95", "8000000000"},
                                   {"5F2A", "0124"},
                                   {"9A", "209906"},
                                   {"9C", "00"},
                                   {"9F37", "ABCDEF12"}}) {
    if (!values.SetHex(tag, value).ok()) throw std::runtime_error("tag");
  }
  return values;
}

void BM_DolBuildCdol1(benchmark::State& state) {
  const emv::TagValues terminal = TerminalTags();
  const Bytes cdol1_bytes = Hex("9F02069F03069F1A0295055F2A029A039C019F3704");
  const auto cdol1 = emv::ParseDol(cdol1_bytes).value();
  const emv::TagSources sources{&terminal};
  Bytes out;
  for (auto _ : state) {
    out.clear();
    if (!emv::AppendDolData(cdol1, sources, out).ok()) throw std::runtime_error("dol");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_DolBuildCdol1);

struct ArqcFixture {
  explicit ArqcFixture(std::string_view profile_name)
      : engine(Make(profile_name)),
        terminal(TerminalTags()),
        un(Hex("ABCDEF12")),
        iad(IadFor(engine.profile())) {
    if (!card.SetHex("82", "1800").ok()) throw std::runtime_error("tag");
    in.pan = "5413330089020011";
    in.psn = "01";
    in.atc = 0x001C;
    in.unpredictable_number = un;
    in.iad = iad;
    in.tags = emv::TagSources{&terminal, &card};
  }

  static emv::ArqcEngine Make(std::string_view profile_name) {
    const emv::CryptogramProfile* profile = emv::FindCryptogramProfile(profile_name);
    if (profile == nullptr) throw std::runtime_error("profile");
    const std::string_view imk = profile->cipher == tapstack::crypto::BlockCipher::kAes
                                     ? "2B7E151628AED2A6ABF7158809CF4F3C"
                                     : "0123456789ABCDEFFEDCBA9876543210";
    return emv::ArqcEngine::Create(*profile, tapstack::crypto::SecretBytes::FromHex(imk).value())
        .value();
  }

  static Bytes IadFor(const emv::CryptogramProfile& profile) {
    if (profile.name.substr(0, 4) == "visa") return Hex("06011203A0B800");
    if (profile.name.substr(0, 7) == "emv-ccd") {
      Bytes iad = Hex(profile.cipher == tapstack::crypto::BlockCipher::kAes ? "0FA601" : "0FA501");
      iad.resize(32, 0x00);
      return iad;
    }
    if (profile.name == "pboc-sm4") return Hex("07010403A0000001");
    return Hex("0114A00003220000000000000000000322FF");
  }

  emv::ArqcEngine engine;
  emv::TagValues terminal;
  emv::TagValues card;
  Bytes un;
  Bytes iad;
  emv::ArqcInput in;
};

void BM_ArqcGenerate(benchmark::State& state, std::string_view profile) {
  const ArqcFixture f(profile);
  for (auto _ : state) {
    auto arqc = f.engine.GenerateArqc(f.in);
    if (!arqc.ok()) throw std::runtime_error(arqc.status().ToString());
    benchmark::DoNotOptimize(arqc);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK_CAPTURE(BM_ArqcGenerate, mc_cvn20, "mc-cvn20");
BENCHMARK_CAPTURE(BM_ArqcGenerate, mc_cvn16, "mc-cvn16");
BENCHMARK_CAPTURE(BM_ArqcGenerate, visa_cvn10, "visa-cvn10");
BENCHMARK_CAPTURE(BM_ArqcGenerate, visa_cvn18, "visa-cvn18");
BENCHMARK_CAPTURE(BM_ArqcGenerate, emv_ccd_aes, "emv-ccd-aes");
BENCHMARK_CAPTURE(BM_ArqcGenerate, pboc_sm4, "pboc-sm4");

void BM_ArqcVerifyAndArpc(benchmark::State& state) {
  const ArqcFixture f("mc-cvn20");
  const auto arqc = f.engine.GenerateArqc(f.in).value();
  const Bytes arc = Hex("3030");
  emv::ArpcInput response;
  response.arc = arc;
  for (auto _ : state) {
    if (!f.engine.VerifyArqc(f.in, arqc).ok()) throw std::runtime_error("verify");
    auto arpc = f.engine.GenerateArpc(f.in, arqc, response);
    if (!arpc.ok()) throw std::runtime_error(arpc.status().ToString());
    benchmark::DoNotOptimize(arpc);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ArqcVerifyAndArpc);

}  // namespace
