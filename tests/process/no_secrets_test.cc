// The service is end-to-end encrypted only if nothing it keeps could decrypt: after a whole group
// lifetime (setup, updates, an add through a Welcome, a removal, messages and an encrypted state blob),
// no secret any client held may appear in the database files or the server's log, in raw bytes or
// in a printable encoding a log line or a debug dump would use.
#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <map>
#include <sstream>

#include <gmock/gmock.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "art/crypto/aead.h"
#include "art/crypto/random.h"
#include "tests/process/process_test.h"

namespace artd::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::IsSupersetOf;

// Every secret the clients held, each under the name of where it came from.
class SecretInventory {
 public:
  void Add(const std::string& name, art::ByteSpan secret) {
    if (!secret.empty()) secrets_.emplace(std::string(secret.begin(), secret.end()), name);
  }

  // A member's identity and prekey private keys (one-time prekeys are erased once used, so take
  // these before the member joins anything).
  void AddDevice(const art::testing::TestMember& member) {
    const std::string& id = member.member_id();
    Add(id + " identity signing seed", member.identity.signing_key.seed().span());
    Add(id + " identity DH key", member.identity.dh_key.secret().span());
    for (const auto& [prekey_id, key] : member.prekeys.signed_prekeys) {
      Add(absl::StrCat(id, " signed prekey ", prekey_id), key.secret().span());
    }
    for (const auto& [prekey_id, key] : member.prekeys.one_time_prekeys) {
      Add(absl::StrCat(id, " one-time prekey ", prekey_id), key.secret().span());
    }
  }

  // What a member holds for the group's current epoch: its path's private keys, the epoch secrets and
  // a secret exported to the application.
  void AddGroupState(const std::string& member_id, const art::MemberGroup& group) {
    const std::string at = absl::StrCat(member_id, " at epoch ", group.epoch(), " ");
    for (const auto& [node, key] : group.path_keys_for_testing()) {
      Add(absl::StrCat(at, "path key of node ", node), key.secret().span());
    }
    const art::EpochSecrets& epoch = group.secrets_for_testing();
    Add(at + "init_secret", epoch.init_secret.span());
    Add(at + "confirmation_key", epoch.confirmation_key.span());
    Add(at + "application_secret", epoch.application_secret.span());
    Add(at + "exporter_secret", epoch.exporter_secret.span());
    Add(at + "authenticator", epoch.authenticator.span());
    absl::StatusOr<art::SecretBytes> exported = group.Export("process-test", art::AsBytes("context"), 32);
    if (exported.ok()) Add(at + "exported secret", exported->span());
  }

  // The secrets found in |contents|, named with the encoding they were found in.
  std::vector<std::string> FoundIn(const std::string& contents) const {
    std::vector<std::string> found;
    for (const auto& [secret, name] : secrets_) {
      const std::map<std::string, std::string> encodings = {
          {"raw", secret},
          {"hex", absl::BytesToHexString(secret)},
          {"HEX", absl::AsciiStrToUpper(absl::BytesToHexString(secret))},
          {"base64", absl::Base64Escape(secret)},
          {"C-escaped", absl::CEscape(secret)},
      };
      for (const auto& [encoding, text] : encodings) {
        if (contents.find(text) != std::string::npos) found.push_back(absl::StrCat(name, " (", encoding, ")"));
      }
    }
    return found;
  }

  size_t size() const { return secrets_.size(); }

 private:
  std::map<std::string, std::string> secrets_;
};

// The bytes of |paths| one after another; a missing file (e.g. a WAL checkpointed away) is empty.
std::string ReadFiles(const std::vector<std::string>& paths) {
  std::string contents;
  for (const std::string& path : paths) {
    std::ifstream file(path, std::ios::binary);
    std::ostringstream bytes;
    bytes << file.rdbuf();
    contents += bytes.str();
  }
  return contents;
}

std::string AsString(art::ByteSpan bytes) { return std::string(bytes.begin(), bytes.end()); }

class NoSecretsTest : public ProcessTest {
 protected:
  // Every member still in the group catches up; then what each holds joins the inventory.
  void Settle() {
    for (Seat& seat : seats_) {
      if (!seat.group.has_value() || !seat.state().is_active()) continue;
      ART_ASSERT_OK(CatchUp(*client_, seat.state()));
      if (seat.state().is_active()) secrets_.AddGroupState(seat.member_id(), seat.state());
    }
  }

  // Every active member posts a random message (a secret); the first member decrypts them all.
  void Converse() {
    const uint64_t read_so_far = messages_read_;
    std::map<std::string, std::string> sent;  // By sender.
    for (Seat& seat : seats_) {
      if (!seat.group.has_value() || !seat.state().is_active()) continue;
      ART_ASSERT_OK_AND_ASSIGN(art::SecretBytes plaintext, art::RandomSecret(48));
      secrets_.Add(seat.member_id() + " message plaintext", plaintext.span());
      ART_ASSERT_OK_AND_ASSIGN(v1::ApplicationMessage message, seat.state().Protect(1, plaintext.span()));
      ART_ASSERT_OK(PostMessage(*client_, *seat.device, message).status());
      sent[seat.member_id()] = AsString(plaintext.span());
    }
    ART_ASSERT_OK_AND_ASSIGN(std::vector<v1::StoredMessage> stored, FetchAllMessages(*client_, "secret-team"));
    for (const v1::StoredMessage& message : stored) {
      messages_read_ = std::max(messages_read_, message.sequence());
      // Its own message alice cannot decrypt: sending used up the key.
      if (message.sequence() <= read_so_far || message.message().sender_leaf() == seats_[0].state().own_leaf()) {
        continue;
      }
      ART_ASSERT_OK_AND_ASSIGN(art::ReceivedMessage received, seats_[0].state().Unprotect(message.message()));
      EXPECT_EQ(AsString(received.content.span()), sent[received.sender_member_id]);
    }
  }

  // |committer| submits |pending| and applies it once accepted; then everyone settles.
  void Commit(size_t committer, absl::StatusOr<art::PendingCommit> pending) {
    ASSERT_TRUE(pending.ok()) << pending.status();
    ART_ASSERT_OK(SubmitCommit(*client_, *seats_[committer].device, *pending).status());
    last_commit_signature_ = pending->commit.signature();
    seats_[committer].state().ApplyPendingCommit(*std::move(pending));
    Settle();
  }

  // Scans the database files (with the WAL, where recent pages live until a checkpoint) and the log.
  void ScanEverything(const std::string& log_path) {
    const std::string database = ReadFiles({database_, database_ + "-wal"});
    const std::string log = ReadFiles({log_path});
    ASSERT_FALSE(database.empty());
    ASSERT_THAT(log, HasSubstr("serving on port"));  // The log is the server's.
    // Public values the service must store are found by the same scan, so it can find what it seeks.
    SecretInventory public_values;
    public_values.Add("alice's identity public key", art::AsBytes(seats_[0].device->identity.credential.identity_signing_key()));
    public_values.Add("the last commit's signature", art::AsBytes(last_commit_signature_));
    public_values.Add("the state blob's ciphertext", art::AsBytes(state_ciphertext_));
    EXPECT_THAT(public_values.FoundIn(database),
                IsSupersetOf({"alice's identity public key (raw)", "the last commit's signature (raw)",
                              "the state blob's ciphertext (raw)"}));
    EXPECT_THAT(secrets_.FoundIn(database), IsEmpty()) << "in the database files";
    EXPECT_THAT(secrets_.FoundIn(log), IsEmpty()) << "in the log";
  }

  std::unique_ptr<TenantClient> client_;
  std::vector<Seat> seats_;
  SecretInventory secrets_;
  uint64_t messages_read_ = 0;
  std::string last_commit_signature_;
  std::string state_ciphertext_;
};

TEST_F(NoSecretsTest, TheServiceStoresAndLogsNoSecret) {
  const std::string log_path = TempPath("artd.log");
  ART_ASSERT_OK_AND_ASSIGN(std::unique_ptr<ArtdProcess> server, StartServer({}, log_path));
  client_ = Connect(*server);
  secrets_.Add("the API key", art::AsBytes(tenant_->api_key));
  secrets_.Add("the tenant credential key", tenant_->authority.credential_key().seed().span());

  // alice, bob, carol and dave form the group; erin waits to be added.
  ART_ASSERT_OK_AND_ASSIGN(seats_, NewSeats({client_.get()}, {"alice", "bob", "carol", "dave", "erin"}));
  for (const Seat& seat : seats_) secrets_.AddDevice(*seat.device);
  Seat erin = std::move(seats_.back());
  seats_.pop_back();
  ART_ASSERT_OK(FormGroup({client_.get()}, seats_, "secret-team"));
  ASSERT_NO_FATAL_FAILURE(Settle());
  ASSERT_NO_FATAL_FAILURE(Converse());

  // Everyone updates in turn.
  for (size_t member = 0; member < seats_.size(); ++member) {
    ASSERT_NO_FATAL_FAILURE(Commit(member, seats_[member].state().CreateUpdate()));
    ASSERT_NO_FATAL_FAILURE(Converse());
  }

  // alice adds erin, who joins from her Welcome.
  ART_ASSERT_OK_AND_ASSIGN(v1::PrekeyBundle erin_bundle, FetchPrekeyBundle(*client_, "erin"));
  ASSERT_NO_FATAL_FAILURE(Commit(0, seats_[0].state().CreateAdd(erin_bundle)));
  ART_ASSERT_OK_AND_ASSIGN(erin.group, JoinFromWelcome(*client_, *erin.device));
  seats_.push_back(std::move(erin));
  ASSERT_NO_FATAL_FAILURE(Settle());
  EXPECT_EQ(seats_.back().state().epoch_authenticator(), seats_[0].state().epoch_authenticator());
  ASSERT_NO_FATAL_FAILURE(Converse());

  // carol removes bob; erin updates.
  ASSERT_NO_FATAL_FAILURE(Commit(2, seats_[2].state().CreateRemove(seats_[1].state().own_leaf())));
  EXPECT_FALSE(seats_[1].state().is_active());
  ASSERT_NO_FATAL_FAILURE(Converse());
  ASSERT_NO_FATAL_FAILURE(Commit(4, seats_[4].state().CreateUpdate()));
  ASSERT_NO_FATAL_FAILURE(Converse());

  // alice keeps her client state in the service, encrypted under a key only members can export.
  ART_ASSERT_OK_AND_ASSIGN(art::SecretBytes state, art::RandomSecret(64));
  ART_ASSERT_OK_AND_ASSIGN(art::SecretBytes key, seats_[0].state().Export("state blob", {}, 32));
  secrets_.Add("alice's state blob plaintext", state.span());
  secrets_.Add("alice's state blob key", key.span());
  art::Bytes nonce(art::kAes256GcmNonceSize);
  ART_ASSERT_OK(art::RandomFill(absl::MakeSpan(nonce)));
  ART_ASSERT_OK_AND_ASSIGN(art::Bytes sealed, art::Aes256GcmSeal(key.span(), nonce, {}, state.span()));
  state_ciphertext_ = AsString(nonce) + AsString(sealed);
  ART_ASSERT_OK(PutState(*client_, *seats_[0].device, "secret-team", 0, state_ciphertext_).status());
  RecordProperty("secrets", static_cast<int>(secrets_.size()));

  // While the server runs (recent pages in the WAL), and after it stopped (checkpointed).
  {
    SCOPED_TRACE("while serving");
    ASSERT_NO_FATAL_FAILURE(ScanEverything(log_path));
  }
  ART_ASSERT_OK(server->Signal(SIGTERM));
  ART_ASSERT_OK_AND_ASSIGN(int wait_status, server->WaitForExit(absl::Seconds(30)));
  EXPECT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) << "wait status " << wait_status;
  {
    SCOPED_TRACE("after stopping");
    ASSERT_NO_FATAL_FAILURE(ScanEverything(log_path));
  }
}

}  // namespace
}  // namespace artd::testing
