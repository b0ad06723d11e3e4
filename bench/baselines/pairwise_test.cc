#include "bench/baselines/pairwise.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "art/demo/population.h"
#include "art/testing/group_fixture.h"
#include "bench/baselines/test_text.h"
#include "gtest/gtest.h"

namespace art::baselines {
namespace {

using testing::TestMember;
using testing::TestTenant;
using testing::ValueOrDie;

// Alice (member 0) has started a session with Bob (member 1), and Bob has accepted it.
struct Pair {
  TestTenant tenant;
  std::unique_ptr<TestMember> alice = tenant.NewMember("alice");
  std::unique_ptr<TestMember> bob = tenant.NewMember("bob");
  std::optional<PairwiseSession> alice_session;
  std::optional<PairwiseSession> bob_session;

  Pair() {
    PairwiseSession::Initiated initiated = ValueOrDie(
        PairwiseSession::Initiate(tenant.config(), alice->identity, 0, 1, bob->TakeBundle()));
    PairwiseMessage first = ValueOrDie(initiated.session.Encrypt(AsBytes("hello")));
    alice_session = std::move(initiated.session);
    bob_session = ValueOrDie(PairwiseSession::Accept(bob->identity, 1, 0, &bob->prekeys, initiated.header));
    EXPECT_EQ(Text(ValueOrDie(bob_session->Decrypt(first))), "hello");
  }
};

TEST(PairwiseTest, BothDirectionsDecryptInOrderAndAfterGaps) {
  Pair pair;
  for (int i = 0; i < 3; ++i) {
    const std::string text = absl::StrCat("to bob ", i);
    PairwiseMessage message = ValueOrDie(pair.alice_session->Encrypt(AsBytes(text)));
    EXPECT_EQ(Text(ValueOrDie(pair.bob_session->Decrypt(message))), text);
  }
  PairwiseMessage lost = ValueOrDie(pair.bob_session->Encrypt(AsBytes("lost")));
  PairwiseMessage later = ValueOrDie(pair.bob_session->Encrypt(AsBytes("to alice")));
  EXPECT_EQ(Text(ValueOrDie(pair.alice_session->Decrypt(later))), "to alice");
  // No skipped-key store: the earlier message's key was stepped over and is gone.
  EXPECT_FALSE(pair.alice_session->Decrypt(lost).ok());
}

TEST(PairwiseTest, OneTimePrekeyIsConsumed) {
  TestTenant tenant;
  std::unique_ptr<TestMember> alice = tenant.NewMember("alice");
  std::unique_ptr<TestMember> bob = tenant.NewMember("bob");
  PairwiseSession::Initiated initiated =
      ValueOrDie(PairwiseSession::Initiate(tenant.config(), alice->identity, 0, 1, bob->TakeBundle()));
  ASSERT_TRUE(initiated.header.one_time_prekey_id.has_value());
  ASSERT_TRUE(PairwiseSession::Accept(bob->identity, 1, 0, &bob->prekeys, initiated.header).ok());
  EXPECT_FALSE(PairwiseSession::Accept(bob->identity, 1, 0, &bob->prekeys, initiated.header).ok());
}

TEST(PairwiseTest, RefusesBundleOfAnotherTenant) {
  TestTenant tenant;
  TestTenant other("tenant-b");
  std::unique_ptr<TestMember> alice = tenant.NewMember("alice");
  std::unique_ptr<TestMember> mallory = other.NewMember("mallory");
  EXPECT_FALSE(
      PairwiseSession::Initiate(tenant.config(), alice->identity, 0, 1, mallory->TakeBundle()).ok());
}

TEST(PairwiseTest, TamperedMessageIsRejectedAndChangesNothing) {
  Pair pair;
  PairwiseMessage message = ValueOrDie(pair.alice_session->Encrypt(AsBytes("intact")));
  PairwiseMessage tampered = message;
  tampered.ciphertext[0] ^= 1;
  EXPECT_FALSE(pair.bob_session->Decrypt(tampered).ok());
  PairwiseMessage wrong_counter = message;
  wrong_counter.counter += 1;
  EXPECT_FALSE(pair.bob_session->Decrypt(wrong_counter).ok());
  EXPECT_EQ(Text(ValueOrDie(pair.bob_session->Decrypt(message))), "intact");
  // Replays are refused: the key was consumed.
  EXPECT_FALSE(pair.bob_session->Decrypt(message).ok());
}

TEST(PairwiseTest, HealLocksOutTheStolenState) {
  Pair pair;
  const PairwiseSession stolen = *pair.alice_session;
  // Before the heal, the stolen state reads Alice's next messages: the attacker model is real.
  PairwiseMessage before = ValueOrDie(pair.alice_session->Encrypt(AsBytes("still exposed")));
  EXPECT_EQ(Text(ValueOrDie(PairwiseSession::OpenWithStolenState(stolen, before))), "still exposed");
  EXPECT_EQ(Text(ValueOrDie(pair.bob_session->Decrypt(before))), "still exposed");

  ASSERT_TRUE(pair.alice_session->Heal().ok());
  PairwiseMessage after = ValueOrDie(pair.alice_session->Encrypt(AsBytes("healed")));
  EXPECT_EQ(after.sender_step, 1u);
  EXPECT_NE(after.ratchet_key, before.ratchet_key);
  EXPECT_EQ(Text(ValueOrDie(pair.bob_session->Decrypt(after))), "healed");
  EXPECT_FALSE(PairwiseSession::OpenWithStolenState(stolen, after).ok());
  // Messages of the superseded step are refused once the new one arrived.
  EXPECT_FALSE(pair.bob_session->Decrypt(before).ok());
}

TEST(PairwiseTest, StepsInBothDirectionsInterleave) {
  Pair pair;
  // Alice steps twice before Bob sees either; Bob steps against the key he knows.
  ASSERT_TRUE(pair.alice_session->Heal().ok());
  PairwiseMessage a1 = ValueOrDie(pair.alice_session->Encrypt(AsBytes("a1")));
  ASSERT_TRUE(pair.alice_session->Heal().ok());
  PairwiseMessage a2 = ValueOrDie(pair.alice_session->Encrypt(AsBytes("a2")));
  ASSERT_TRUE(pair.bob_session->Heal().ok());
  PairwiseMessage b1 = ValueOrDie(pair.bob_session->Encrypt(AsBytes("b1")));
  EXPECT_EQ(Text(ValueOrDie(pair.alice_session->Decrypt(b1))), "b1");
  EXPECT_EQ(Text(ValueOrDie(pair.bob_session->Decrypt(a1))), "a1");
  EXPECT_EQ(Text(ValueOrDie(pair.bob_session->Decrypt(a2))), "a2");
  // Now Bob steps against Alice's newest key.
  ASSERT_TRUE(pair.bob_session->Heal().ok());
  PairwiseMessage b2 = ValueOrDie(pair.bob_session->Encrypt(AsBytes("b2")));
  EXPECT_EQ(b2.recipient_step, 2u);
  EXPECT_EQ(Text(ValueOrDie(pair.alice_session->Decrypt(b2))), "b2");
}

TEST(PairwiseTest, WireSizesMatchTheModel) {
  Pair pair;
  for (size_t payload_size : {0, 1, 1024}) {
    const Bytes payload(payload_size, 0x5a);
    PairwiseMessage message = ValueOrDie(pair.alice_session->Encrypt(payload));
    Encoder encoder;
    message.EncodeTo(encoder);
    EXPECT_EQ(encoder.bytes().size(), message.WireSize());
    EXPECT_EQ(message.WireSize(), kPairwiseMessageOverhead + payload_size);
  }
  EXPECT_EQ(kPairwiseMessageOverhead, 68u);
  PrekeyHeader header;
  Encoder encoder;
  header.EncodeTo(encoder);
  EXPECT_EQ(encoder.bytes().size(), kPrekeyHeaderSize);
}

TEST(PairwiseFanoutTest, EveryMemberDecryptsSetupMessagesAndHeals) {
  constexpr int kMembers = 6;
  demo::Population population = demo::MakePopulation(kMembers);
  auto& devices = population.devices;
  PairwiseFanout::Created created = ValueOrDie(PairwiseFanout::Create(
      population.config(), devices[0]->identity, population.bundles, AsBytes("group-1")));
  ASSERT_EQ(created.setup_messages.size(), kMembers - 1u);
  EXPECT_EQ(TotalWireSize(created.setup_messages),
            (kMembers - 1) * (kPrekeyHeaderSize + kPairwiseMessageOverhead + 7));
  std::vector<PairwiseSession> receivers;
  for (int i = 1; i < kMembers; ++i) {
    const PrekeyMessage& setup = created.setup_messages[i - 1];
    EXPECT_EQ(setup.message.recipient, static_cast<uint32_t>(i));
    receivers.push_back(ValueOrDie(
        PairwiseSession::Accept(devices[i]->identity, i, 0, &devices[i]->prekeys, setup.header)));
    EXPECT_EQ(Text(ValueOrDie(receivers.back().Decrypt(setup.message))), "group-1");
  }
  const std::vector<PairwiseMessage> sent = ValueOrDie(created.fanout.Send(AsBytes("hi all")));
  ASSERT_EQ(sent.size(), kMembers - 1u);
  EXPECT_EQ(TotalWireSize(sent), (kMembers - 1) * (kPairwiseMessageOverhead + 6));
  for (size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(Text(ValueOrDie(receivers[i].Decrypt(sent[i]))), "hi all");

  const std::vector<PairwiseSession> stolen = created.fanout.sessions();
  const std::vector<PairwiseMessage> heal = ValueOrDie(created.fanout.HealAndSend({}));
  EXPECT_EQ(TotalWireSize(heal), (kMembers - 1) * kPairwiseMessageOverhead);
  const std::vector<PairwiseMessage> after = ValueOrDie(created.fanout.Send(AsBytes("after")));
  for (size_t i = 0; i < heal.size(); ++i) {
    EXPECT_TRUE(receivers[i].Decrypt(heal[i]).ok());
    EXPECT_EQ(Text(ValueOrDie(receivers[i].Decrypt(after[i]))), "after");
    EXPECT_FALSE(PairwiseSession::OpenWithStolenState(stolen[i], after[i]).ok());
  }
}

}  // namespace
}  // namespace art::baselines
