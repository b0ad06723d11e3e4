// The client SDK: one member's device. It holds every private key, runs the ART cryptography
// (art::MemberGroup), talks to the artd service, recovers from lost commit races and from crashes,
// and keeps its state in a StateStore (encrypted). Errors are absl::Status values with messages a
// developer can act on; nothing throws.
//
// Thread safety: a MemberClient may be used from several threads; its operations are serialized by
// an internal mutex (one member's operations are inherently ordered by its group epochs).
#ifndef CLIENT_MEMBER_CLIENT_H_
#define CLIENT_MEMBER_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/art/v1/protocol.pb.h"
#include "art/crypto/bytes.h"
#include "art/crypto/ed25519.h"
#include "art/crypto/secret_bytes.h"
#include "client/state_store.h"

namespace artd::client {

struct ClientOptions {
  // The service and the tenant whose backend this client's calls go through.
  std::shared_ptr<grpc::Channel> channel;
  std::string api_key;
  std::string tenant_id;
  // The tenant's credential public keys: identities not certified by one of them are refused.
  std::vector<art::Ed25519PublicKey> trusted_tenant_keys;

  // Prekey upkeep: keep this many one-time prekeys published, topping up below the threshold;
  // rotate the signed prekey after its lifetime and delete its secret after the grace period.
  uint32_t one_time_prekeys = 20;
  uint32_t replenish_below = 5;
  absl::Duration signed_prekey_lifetime = absl::Hours(24 * 7);
  absl::Duration signed_prekey_grace = absl::Hours(24 * 2);

  // Lost commit races: retries with jittered exponential backoff from |retry_base|, at most
  // |max_commit_attempts| attempts in all.
  int max_commit_attempts = 8;
  absl::Duration retry_base = absl::Milliseconds(20);

  // Test hook: called at each named point of a commit; a test may end the process there.
  std::function<void(std::string_view point)> crash_point_for_testing;
  // Test hook: the wall clock the client reads for prekey upkeep and request timestamps (absl::Now
  // when empty), so a test can move past a lifetime without waiting, or be off by some amount.
  std::function<absl::Time()> clock_for_testing;
};

// The time by |clock_for_testing| (ClientOptions'), or absl::Now without one.
inline absl::Time ClientNow(const std::function<absl::Time()>& clock_for_testing) {
  return clock_for_testing ? clock_for_testing() : absl::Now();
}

// Content types of application messages. Send uses kApplicationContentType. Leave posts a message
// of the reserved kLeaveRequestContentType (empty content): a member that receives it commits the
// sender's removal; it is never returned to the application.
inline constexpr uint32_t kApplicationContentType = 1;
inline constexpr uint32_t kLeaveRequestContentType = 0xFFFF0001;

// What the application learns from a group.
struct ReceivedMessage {
  std::string group_id;
  uint64_t epoch = 0;
  std::string sender_member_id;
  art::SecretBytes content;
};

struct GroupInfo {
  std::string group_id;
  uint64_t epoch = 0;
  std::vector<std::string> members;  // In leaf order; blank leaves omitted.
  art::SecretBytes epoch_authenticator;  // Equal across members of an epoch; safe to compare openly.
};

// What a watch reports after each batch of news: the group as it now stands and the messages read.
struct WatchUpdate {
  GroupInfo info;
  std::vector<ReceivedMessage> messages;
};

// Signs a new member's credential as the tenant (its authentication service): in production the
// tenant's backend does it after authenticating the user.
using Certifier = std::function<absl::Status(art::v1::Credential* credential)>;

// Alarms: when this member rejects a commit the service accepted (one signed for its own leaf that it
// did not make, which means its identity key may be compromised, or one failing its checks), the
// group is no longer used: the alarm is saved, the commit is reported to the service as evidence
// (Groups.ReportAlarm, for the tenant's backend to re-create the group), and every later call on the
// group fails with FAILED_PRECONDITION naming the alarm, across restarts.
class MemberClient {
 public:
  // A new member: fresh identity keys, certified by |certify|, published with prekeys, saved.
  static absl::StatusOr<std::unique_ptr<MemberClient>> Register(ClientOptions options, std::string member_id,
                                                                const Certifier& certify,
                                                                std::unique_ptr<StateStore> store);
  // A member saved before (in |store|). Completes or discards any commit a crash interrupted.
  static absl::StatusOr<std::unique_ptr<MemberClient>> Open(ClientOptions options, std::string member_id,
                                                            std::unique_ptr<StateStore> store);
  ~MemberClient();

  const std::string& member_id() const;
  // The member's identity signing key (IKs). Only for applications that keep the member's state in
  // the service (service_state_store.h): reading it back needs requests signed with this key, so the
  // application keeps it (e.g. its seed in the platform keystore) to reopen the member.
  const art::Ed25519PrivateKey& signing_key() const;

  // Tops up one-time prekeys and rotates the signed prekey when due; erases expired prekey secrets.
  absl::Status MaintainPrekeys();

  // Creates a group of this member and |member_ids| (fetching their bundles). Returns its info.
  absl::StatusOr<GroupInfo> CreateGroup(const std::string& group_id, const std::vector<std::string>& member_ids);
  // Joins a group whose Setup names this member.
  absl::StatusOr<GroupInfo> JoinGroup(const std::string& group_id);
  // Joins every group this member was added to since it last looked (from its Welcomes).
  absl::StatusOr<std::vector<GroupInfo>> AcceptWelcomes();

  // Commits, each retried after a lost race: fetch what was missed, apply it, rebuild, retry.
  absl::StatusOr<GroupInfo> Update(const std::string& group_id);
  absl::StatusOr<GroupInfo> Add(const std::string& group_id, const std::string& member_id);
  absl::StatusOr<GroupInfo> Remove(const std::string& group_id, const std::string& member_id);
  // Asks the others to remove this member (another member commits the removal when it receives it).
  absl::Status Leave(const std::string& group_id);

  // Encrypts and posts |content|; updates first if this member's leaf or sibling subtree is tainted.
  absl::StatusOr<uint64_t> Send(const std::string& group_id, art::ByteSpan content);
  // Applies new commits and decrypts new messages, in order; messages this member cannot read are
  // skipped with their reason logged in the result's status only if nothing could be read.
  absl::StatusOr<std::vector<ReceivedMessage>> Receive(const std::string& group_id);
  // Watches a group: delivers what is already waiting, then, each time the service announces new
  // commits or messages (its WatchGroup stream), applies and reads them as Receive does and calls
  // |on_update| with the result (only when something changed). Blocks until |on_update| returns
  // false (OK), |deadline| passes (OK), or an error (e.g. this member was removed: FAILED_PRECONDITION
  // after the last update). Other calls on this MemberClient may run meanwhile.
  absl::Status Watch(const std::string& group_id, const std::function<bool(WatchUpdate)>& on_update,
                     absl::Time deadline = absl::InfiniteFuture());

  // Applies new commits only.
  absl::StatusOr<GroupInfo> CatchUp(const std::string& group_id);

  absl::StatusOr<GroupInfo> Info(const std::string& group_id);
  // The groups this member is in, sorted. A group it was removed from (or left) drops out once this
  // member has read its removal.
  std::vector<std::string> GroupIds();

  // A secret for the application bound to the group's current epoch.
  absl::StatusOr<art::SecretBytes> Export(const std::string& group_id, std::string_view label,
                                          art::ByteSpan context, size_t length);

  class Impl;

 private:
  explicit MemberClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace artd::client

#endif  // CLIENT_MEMBER_CLIENT_H_
