#include "emv/apdu_chaining.h"

#include <gtest/gtest.h>

namespace tapstack::emv {
namespace {

CommandApdu Long(std::size_t bytes, std::optional<std::uint16_t> le = std::nullopt) {
  CommandApdu c{0x80, 0x62, 0x00, 0x00, Bytes(bytes), le};
  for (std::size_t i = 0; i < bytes; ++i) c.data[i] = static_cast<std::uint8_t>(i * 7);
  return c;
}

TEST(ApduChainingTest, ShortCommandIsNotSplit) {
  auto links = SplitForChaining(Long(255, 256));
  ASSERT_TRUE(links.ok());
  ASSERT_EQ(links->size(), 1u);
  EXPECT_EQ((*links)[0], Long(255, 256));
}

TEST(ApduChainingTest, SplitSetsTheChainingBitOnAllButTheLast) {
  auto links = SplitForChaining(Long(600, 256));
  ASSERT_TRUE(links.ok());
  ASSERT_EQ(links->size(), 3u);
  EXPECT_EQ((*links)[0].cla, 0x90);
  EXPECT_EQ((*links)[1].cla, 0x90);
  EXPECT_EQ((*links)[2].cla, 0x80);
  EXPECT_EQ((*links)[0].data.size(), 255u);
  EXPECT_EQ((*links)[2].data.size(), 90u);
  EXPECT_FALSE((*links)[0].le.has_value());
  EXPECT_EQ((*links)[2].le, std::uint16_t{256});
  for (const CommandApdu& link : *links) EXPECT_TRUE(EncodeCommandApdu(link).ok());
}

TEST(ApduChainingTest, SplitRefusals) {
  CommandApdu chained = Long(10);
  chained.cla = 0x90;
  EXPECT_EQ(SplitForChaining(chained).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(SplitForChaining(Long(kChainedCommandBytesMax + 1)).status().code(),
            ErrorCode::kOutOfRange);
}

TEST(ApduChainingTest, AssemblerRebuildsTheCommand) {
  const CommandApdu whole = Long(700, 256);
  ChainAssembler assembler(1024);
  auto links = *SplitForChaining(whole);
  for (std::size_t i = 0; i + 1 < links.size(); ++i) {
    auto outcome = assembler.Accept(links[i]);
    EXPECT_FALSE(outcome.complete.has_value());
    EXPECT_EQ(outcome.sw, kSwSuccess);
    EXPECT_TRUE(assembler.in_chain());
  }
  auto outcome = assembler.Accept(links.back());
  ASSERT_TRUE(outcome.complete.has_value());
  EXPECT_EQ(*outcome.complete, whole);
  EXPECT_FALSE(assembler.in_chain());
  // A lone command passes through.
  auto lone = assembler.Accept(Long(5));
  ASSERT_TRUE(lone.complete.has_value());
  EXPECT_EQ(*lone.complete, Long(5));
}

TEST(ApduChainingTest, AssemblerRefusesAnInterleavedCommandWith6883) {
  ChainAssembler assembler(1024);
  auto links = *SplitForChaining(Long(300));
  ASSERT_EQ(assembler.Accept(links[0]).sw, kSwSuccess);
  CommandApdu other{0x80, 0xCA, 0x00, 0x02, {}, std::uint16_t{256}};
  auto outcome = assembler.Accept(other);
  EXPECT_FALSE(outcome.complete.has_value());
  EXPECT_EQ(outcome.sw, kSwLastCommandOfChainExpected);
  EXPECT_FALSE(assembler.in_chain());  // the chain is dropped
  // The last link alone is now a complete (short) command, not the 300-byte one.
  auto late = assembler.Accept(links[1]);
  ASSERT_TRUE(late.complete.has_value());
  EXPECT_EQ(late.complete->data.size(), 45u);
}

TEST(ApduChainingTest, AssemblerRefusesTooMuchData) {
  ChainAssembler assembler(400);
  auto links = *SplitForChaining(Long(600));
  EXPECT_EQ(assembler.Accept(links[0]).sw, kSwSuccess);
  auto outcome = assembler.Accept(links[1]);
  EXPECT_EQ(outcome.sw, kSwWrongLength);
  EXPECT_FALSE(assembler.in_chain());
}

TEST(ApduChainingTest, SpoolerServesLongResponsesIn256BytePieces) {
  ResponseSpooler spooler;
  Bytes data(600);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i);
  ResponseApdu first = spooler.Start(data, kSwSuccess);
  EXPECT_EQ(first.data.size(), 256u);
  EXPECT_EQ(first.sw, StatusWord(0x6100));  // 344 left: 256 or more
  CommandApdu get{0x00, kInsGetResponse, 0x00, 0x00, {}, std::uint16_t{256}};
  ResponseApdu second = spooler.Next(get);
  EXPECT_EQ(second.data.size(), 256u);
  EXPECT_EQ(second.sw, StatusWord(0x6158));  // 88 left
  get.le = 0x58;
  ResponseApdu third = spooler.Next(get);
  EXPECT_EQ(third.data.size(), 88u);
  EXPECT_EQ(third.sw, kSwSuccess);
  Bytes joined = Concat({first.data, second.data, third.data});
  EXPECT_EQ(joined, data);
  EXPECT_EQ(spooler.Next(get).sw, kSwConditionsNotSatisfied);  // nothing pending
}

TEST(ApduChainingTest, SpoolerShortAnswerAndRefusals) {
  ResponseSpooler spooler;
  ResponseApdu short_answer = spooler.Start(Bytes(10, 1), StatusWord(0x6283));
  EXPECT_EQ(short_answer.data.size(), 10u);
  EXPECT_EQ(short_answer.sw, StatusWord(0x6283));
  EXPECT_FALSE(spooler.pending());
  (void)spooler.Start(Bytes(300), kSwSuccess);
  CommandApdu bad{0x00, kInsGetResponse, 0x01, 0x00, {}, std::nullopt};
  EXPECT_EQ(spooler.Next(bad).sw, kSwIncorrectP1P2);
  EXPECT_TRUE(spooler.pending());
}

TEST(ApduChainingTest, TransmitChainedAgainstACardSide) {
  // A card that echoes the assembled data twice (a long answer) through assembler + spooler.
  ChainAssembler assembler(4096);
  ResponseSpooler spooler;
  int exchanges = 0;
  auto card = [&](ByteView apdu) -> Bytes {
    ++exchanges;
    auto command = ParseCommandApdu(apdu);
    EXPECT_TRUE(command.ok());
    ResponseApdu response;
    if (ResponseSpooler::IsGetResponse(*command)) {
      response = spooler.Next(*command);
    } else {
      auto outcome = assembler.Accept(*command);
      response = outcome.complete.has_value()
                     ? spooler.Start(Concat({outcome.complete->data, outcome.complete->data}),
                                     kSwSuccess)
                     : ResponseApdu{{}, outcome.sw};
    }
    return *EncodeResponseApdu(response);
  };
  const CommandApdu command = Long(700, 256);
  auto response = TransmitChained(card, command);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->sw, kSwSuccess);
  EXPECT_EQ(response->data, Concat({command.data, command.data}));
  EXPECT_EQ(exchanges, 3 + 5);  // 3 links; 1400 bytes = 6 pieces, the first with the last link
}

}  // namespace
}  // namespace tapstack::emv
