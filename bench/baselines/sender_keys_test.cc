#include "bench/baselines/sender_keys.h"

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

using testing::ValueOrDie;

constexpr int kMembers = 5;
const std::string kGroupId = "group-1";

// Member 0 created a sender-keys group; every other member accepted its pairwise session and
// installed member 0's sender key from the setup message.
struct Group {
  demo::Population population = demo::MakePopulation(kMembers);
  std::vector<std::unique_ptr<testing::TestMember>>& devices = population.devices;
  std::optional<SenderKeySender> creator;
  std::vector<PrekeyMessage> setup_messages;
  std::vector<PairwiseSession> sessions;  // sessions[i - 1]: member i's session with member 0.
  std::vector<SenderKeyStore> stores;     // stores[i - 1]: the sender keys member i holds.

  Group() {
    SenderKeySender::Created created = ValueOrDie(SenderKeySender::Create(
        population.config(), devices[0]->identity, kGroupId, population.bundles));
    creator = std::move(created.sender);
    setup_messages = std::move(created.setup_messages);
    stores.resize(kMembers - 1);
    for (int i = 1; i < kMembers; ++i) {
      const PrekeyMessage& setup = setup_messages[i - 1];
      sessions.push_back(ValueOrDie(
          PairwiseSession::Accept(devices[i]->identity, i, 0, &devices[i]->prekeys, setup.header)));
      const SecretBytes payload = ValueOrDie(sessions.back().Decrypt(setup.message));
      EXPECT_TRUE(stores[i - 1].Install(ValueOrDie(SenderKeyDistribution::Decode(payload.span()))).ok());
    }
  }

  // Every member decrypts |messages| (one per member, from member 0) and installs the key inside.
  void InstallDistributions(const std::vector<PairwiseMessage>& messages) {
    ASSERT_EQ(messages.size(), sessions.size());
    for (size_t i = 0; i < messages.size(); ++i) {
      const SecretBytes payload = ValueOrDie(sessions[i].Decrypt(messages[i]));
      ASSERT_TRUE(stores[i].Install(ValueOrDie(SenderKeyDistribution::Decode(payload.span()))).ok());
    }
  }
};

TEST(SenderKeysTest, EveryMemberDecryptsTheOneCiphertext) {
  Group group;
  for (int round = 0; round < 3; ++round) {
    const std::string text = absl::StrCat("message ", round);
    const SenderKeyMessage message = ValueOrDie(group.creator->Send(AsBytes(text)));
    for (SenderKeyStore& store : group.stores) EXPECT_EQ(Text(ValueOrDie(store.Decrypt(message))), text);
  }
}

TEST(SenderKeysTest, ForgedOrTamperedMessagesAreRejectedAndChangeNothing) {
  Group group;
  const SenderKeyMessage message = ValueOrDie(group.creator->Send(AsBytes("signed")));
  SenderKeyMessage tampered = message;
  tampered.ciphertext[0] ^= 1;
  EXPECT_FALSE(group.stores[0].Decrypt(tampered).ok());
  SenderKeyMessage bad_signature = message;
  bad_signature.signature[0] ^= 1;
  EXPECT_FALSE(group.stores[0].Decrypt(bad_signature).ok());
  EXPECT_EQ(Text(ValueOrDie(group.stores[0].Decrypt(message))), "signed");
  EXPECT_FALSE(group.stores[0].Decrypt(message).ok());  // Replay: the key was consumed.
}

TEST(SenderKeysTest, HealReplacesTheStolenSenderKey) {
  Group group;
  const OwnSenderKey stolen = group.creator->own_key();
  SenderKeyStore attacker;
  ASSERT_TRUE(attacker.Install(stolen.Distribution()).ok());
  // Before the heal the stolen key reads the group's messages: the attacker model is real.
  const SenderKeyMessage before = ValueOrDie(group.creator->Send(AsBytes("exposed")));
  EXPECT_EQ(Text(ValueOrDie(attacker.Decrypt(before))), "exposed");
  for (SenderKeyStore& store : group.stores) ASSERT_TRUE(store.Decrypt(before).ok());

  group.InstallDistributions(ValueOrDie(group.creator->Heal()));
  EXPECT_EQ(group.creator->own_key().key_id(), 1u);
  const SenderKeyMessage after = ValueOrDie(group.creator->Send(AsBytes("healed")));
  for (SenderKeyStore& store : group.stores) EXPECT_EQ(Text(ValueOrDie(store.Decrypt(after))), "healed");
  EXPECT_FALSE(attacker.Decrypt(after).ok());
  // Even told the new key id, the stolen chain and signature key do not fit.
  SenderKeyDistribution guessed = stolen.Distribution();
  guessed.key_id = 1;
  SenderKeyStore guessing;
  ASSERT_TRUE(guessing.Install(guessed).ok());
  EXPECT_FALSE(guessing.Decrypt(after).ok());
  // Messages the attacker forges with the stolen key are refused by every member.
  OwnSenderKey forger = stolen;
  const SenderKeyMessage forged = ValueOrDie(forger.Encrypt(kGroupId, AsBytes("forged")));
  for (SenderKeyStore& store : group.stores) EXPECT_FALSE(store.Decrypt(forged).ok());
  // The new key was sent over healed pairwise sessions: the stolen ones do not open it.
}

TEST(SenderKeysTest, HealTravelsOverHealedPairwiseSessions) {
  Group group;
  const std::vector<PairwiseSession> stolen = group.creator->fanout().sessions();
  const std::vector<PairwiseMessage> heal = ValueOrDie(group.creator->Heal());
  for (size_t i = 0; i < heal.size(); ++i) {
    EXPECT_FALSE(PairwiseSession::OpenWithStolenState(stolen[i], heal[i]).ok());
  }
  group.InstallDistributions(heal);
}

// What the victim's heal does not cover: the other members' sender keys its device held.
TEST(SenderKeysTest, OtherMembersKeysStayCompromisedUntilTheyRotate) {
  Group group;
  // Member 1's own sender key, as member 0's device (the victim) would hold it.
  OwnSenderKey member1 = ValueOrDie(OwnSenderKey::Generate(1, 0));
  SenderKeyStore victim_device;
  ASSERT_TRUE(victim_device.Install(member1.Distribution()).ok());
  const SenderKeyStore stolen = victim_device;
  group.InstallDistributions(ValueOrDie(group.creator->Heal()));
  // Member 0 healed, but member 1 has not rotated: the stolen copy still reads member 1.
  SenderKeyStore attacker = stolen;
  const SenderKeyMessage from_member1 = ValueOrDie(member1.Encrypt(kGroupId, AsBytes("member 1")));
  EXPECT_EQ(Text(ValueOrDie(attacker.Decrypt(from_member1))), "member 1");
}

TEST(SenderKeysTest, WireSizesMatchTheModel) {
  Group group;
  EXPECT_EQ(kSenderKeyMessageOverhead, 100u);
  for (size_t payload_size : {0, 1, 1024}) {
    const SenderKeyMessage message = ValueOrDie(group.creator->Send(Bytes(payload_size, 0x5a)));
    Encoder encoder;
    message.EncodeTo(encoder);
    EXPECT_EQ(encoder.bytes().size(), message.WireSize());
    EXPECT_EQ(message.WireSize(), kSenderKeyMessageOverhead + kGroupId.size() + payload_size);
  }
  EXPECT_EQ(group.creator->own_key().Distribution().Encode().size(), kSenderKeyDistributionSize);
  EXPECT_EQ(TotalWireSize(group.setup_messages),
            (kMembers - 1) * (kPrekeyHeaderSize + kPairwiseMessageOverhead + kSenderKeyDistributionSize));
  EXPECT_EQ(TotalWireSize(ValueOrDie(group.creator->Heal())),
            (kMembers - 1) * (kPairwiseMessageOverhead + kSenderKeyDistributionSize));
}

}  // namespace
}  // namespace art::baselines
