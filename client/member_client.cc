#include "client/member_client.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "art/base/status_macros.h"
#include "art/crypto/random.h"
#include "art/encoding/encoder.h"
#include "art/identity/credential.h"
#include "art/identity/prekeys.h"
#include "art/protocol/member_group.h"
#include "art/requests/request_signature.h"
#include "client/service_connection.h"

namespace artd::client {
namespace {

namespace v1 = ::art::v1;

// Blob names. Group ids are hex-encoded so that any id makes a valid name.
constexpr char kIdentityBlob[] = "identity";
std::string GroupBlob(const std::string& group_id) { return "group:" + art::ToHex(art::AsBytes(group_id)); }
std::string PendingBlob(const std::string& group_id) { return "pending:" + art::ToHex(art::AsBytes(group_id)); }

// Format tags of the blobs this file writes, checked on load.
constexpr uint32_t kIdentityFormat = 1;
constexpr uint32_t kGroupFormat = 3;  // 2: with the inbox and leave requests; 3: and an alarm.
constexpr uint32_t kPendingFormat = 1;

absl::Status Corrupt(const std::string& blob) {
  return absl::DataLossError(absl::StrCat("state blob \"", blob, "\" is malformed"));
}

// A commit this member made and sent (or was about to send) when the process stopped: kept until
// the service's log says whether it won its epoch.
struct PendingRecord {
  uint64_t base_epoch = 0;
  v1::Commit commit;
  art::SecretBytes path_leaf_secret;
};

art::SecretBytes EncodePending(const art::PendingCommit& pending, uint64_t base_epoch) {
  art::Encoder encoder;
  encoder.Uint32(kPendingFormat).Uint64(base_epoch).String(pending.commit.SerializeAsString());
  encoder.Vector(pending.path_leaf_secret.span());
  return encoder.TakeSecret();
}

absl::StatusOr<std::optional<PendingRecord>> DecodePending(const std::string& blob, const art::SecretBytes& bytes) {
  if (bytes.empty()) return std::nullopt;  // Cleared: no commit in flight.
  art::Decoder decoder(bytes.span());
  PendingRecord record;
  uint32_t format = 0;
  std::string commit;
  if (!decoder.ReadUint32(&format) || format != kPendingFormat || !decoder.ReadUint64(&record.base_epoch) ||
      !decoder.ReadString(&commit) || !record.commit.ParseFromString(commit) ||
      !decoder.ReadSecret(&record.path_leaf_secret) || !decoder.done()) {
    return Corrupt(blob);
  }
  return record;
}

// A group this member is in (or was removed from), as stored.
struct GroupSlot {
  std::optional<art::MemberGroup> group;
  uint64_t last_sequence = 0;  // The last message sequence read.
  uint64_t join_epoch = 0;     // Messages of earlier epochs were never meant for this member.
  uint64_t version = 0;        // Of the group blob.
  uint64_t pending_version = 0;
  // Read while catching up (every catch-up reads messages in epoch order, so none is left behind an
  // epoch whose keys are gone) and not yet handed to the application by Receive. Kept, encrypted,
  // in the group blob, as are the leave requests not yet acted on.
  std::vector<ReceivedMessage> inbox;
  std::set<std::string> leave_requests;
  // Messages that could not be read since the last Receive, and why the first one failed.
  int unreadable = 0;
  absl::Status first_unreadable;
  // Set when this member rejected a commit the service had accepted (the protocol's alarm): the group
  // is no longer used, and the commit goes to the service as evidence until it has been reported.
  struct Alarm {
    uint64_t epoch = 0;  // The epoch the commit was made from.
    uint32_t reason = 0;  // art.v1.AlarmReason.
    std::string detail;
    std::string commit;  // Serialized art.v1.Commit.
    bool reported = false;
  };
  std::optional<Alarm> alarm;
};

// At most |max_bytes| of |text|, not cutting a UTF-8 sequence in two.
std::string Utf8Prefix(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

// Jittered exponential backoff: |base| * 2^(attempt-1), times a factor in [0.5, 1.5).
absl::Duration Backoff(absl::Duration base, int attempt, std::mt19937_64& random) {
  std::uniform_real_distribution<double> jitter(0.5, 1.5);
  return base * (1 << std::min(attempt - 1, 10)) * jitter(random);
}

}  // namespace

class MemberClient::Impl {
 public:
  Impl(ClientOptions options, std::string member_id, std::unique_ptr<StateStore> store)
      : options_(std::move(options)),
        member_id_(std::move(member_id)),
        store_(std::move(store)),
        connection_(options_),
        random_(std::random_device()()) {
    config_.tenant_id = options_.tenant_id;
    config_.trusted_tenant_keys = options_.trusted_tenant_keys;
  }

  const std::string& member_id() const { return member_id_; }
  const art::Ed25519PrivateKey& signing_key() const { return identity_->signing_key; }

  // ---- Register and Open ----

  absl::Status Register(const Certifier& certify) {
    ART_ASSIGN_OR_RETURN(art::MemberIdentity identity, art::GenerateMemberIdentity(options_.tenant_id, member_id_));
    ART_RETURN_IF_ERROR(certify(&identity.credential));
    // Caught here rather than by every member that would later refuse this credential.
    ART_RETURN_IF_ERROR(
        art::VerifyCredential(identity.credential, options_.tenant_id, options_.trusted_tenant_keys).status());
    identity_ = std::move(identity);
    store_->UseSigningKey(identity_->signing_key);
    ART_ASSIGN_OR_RETURN(v1::SignedPrekey signed_prekey, NewSignedPrekey());
    ART_ASSIGN_OR_RETURN(std::vector<v1::OneTimePrekey> one_time, NewOneTimePrekeys(options_.one_time_prekeys));
    // Published first: a store kept in the service accepts only requests signed by a published
    // identity. (A process that stops before the save leaves the member id taken by keys nobody
    // holds; the tenant must then reset it.)
    v1::PublishIdentityRequest publish;
    *publish.mutable_credential() = identity_->credential;
    ART_RETURN_IF_ERROR(SignAs(art::kPublishIdentityMethod, &publish));
    v1::PublishIdentityResponse published;
    ART_RETURN_IF_ERROR(connection_.Call("PublishIdentity", [&](grpc::ClientContext* context) {
      return connection_.keys().PublishIdentity(context, publish, &published);
    }));
    // Prekey secrets are saved before their public keys are uploaded, so that no published prekey
    // lacks its secret. Creating version 1 fails with ALREADY_EXISTS for a member already stored.
    ART_RETURN_IF_ERROR(SaveIdentity());
    ART_RETURN_IF_ERROR(UploadPrekeys(&signed_prekey, one_time));
    ready_ = true;
    return absl::OkStatus();
  }

  absl::Status Open() {
    ART_RETURN_IF_ERROR(LoadAll());
    ready_ = true;
    return absl::OkStatus();
  }

  // ---- Prekeys ----

  absl::Status MaintainPrekeys() {
    std::lock_guard<std::mutex> lock(mutex_);
    v1::CountPrekeysRequest request;
    request.set_member_id(member_id_);
    v1::CountPrekeysResponse counted;
    ART_RETURN_IF_ERROR(connection_.Call("CountPrekeys", [&](grpc::ClientContext* context) {
      return connection_.keys().CountPrekeys(context, request, &counted);
    }));
    const uint64_t now = UnixSeconds();
    bool changed = false;
    std::optional<v1::SignedPrekey> signed_prekey;
    const uint32_t current = signed_prekey_created_.empty() ? 0 : signed_prekey_created_.rbegin()->first;
    if (current == 0 || counted.signed_prekey_id() != current ||
        signed_prekey_created_[current] + absl::ToInt64Seconds(options_.signed_prekey_lifetime) <= now) {
      ART_ASSIGN_OR_RETURN(signed_prekey, NewSignedPrekey());
      changed = true;
    }
    std::vector<v1::OneTimePrekey> one_time;
    if (counted.one_time_prekeys_remaining() < options_.replenish_below &&
        counted.one_time_prekeys_remaining() < options_.one_time_prekeys) {
      ART_ASSIGN_OR_RETURN(one_time,
                           NewOneTimePrekeys(options_.one_time_prekeys - counted.one_time_prekeys_remaining()));
      changed = true;
    }
    // A retired signed prekey's secret stays for the grace period, for setups made just before the
    // rotation; then it goes, so a later compromise cannot open those setups.
    const uint32_t newest = signed_prekey_created_.rbegin()->first;
    for (auto it = signed_prekey_created_.begin(); it != signed_prekey_created_.end();) {
      if (it->first != newest && it->second + PublishedLifetimeSeconds() <= now) {
        identity_prekeys_.signed_prekeys.erase(it->first);
        it = signed_prekey_created_.erase(it);
        changed = true;
      } else {
        ++it;
      }
    }
    if (!changed) return absl::OkStatus();
    ART_RETURN_IF_ERROR(SaveIdentity());
    if (!signed_prekey.has_value() && one_time.empty()) return absl::OkStatus();
    return UploadPrekeys(signed_prekey.has_value() ? &*signed_prekey : nullptr, one_time);
  }

  // ---- Joining ----

  absl::StatusOr<GroupInfo> CreateGroup(const std::string& group_id, const std::vector<std::string>& member_ids) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (groups_.count(group_id) != 0) {
      return absl::AlreadyExistsError(absl::StrCat("this member already has group ", group_id));
    }
    std::vector<v1::PrekeyBundle> bundles;
    for (const std::string& other : member_ids) {
      ART_ASSIGN_OR_RETURN(v1::PrekeyBundle bundle, FetchBundle(other));
      bundles.push_back(std::move(bundle));
    }
    ART_ASSIGN_OR_RETURN(art::MemberGroup::Created created,
                         art::MemberGroup::Create(config_, *identity_, group_id, bundles));
    // Saved and listed before the service sees the Setup: a process that stopped after the service
    // accepted it would otherwise have lost the creator's place in its own group.
    ART_RETURN_IF_ERROR(SaveNewGroup(group_id, std::move(created.group), std::nullopt));
    v1::CreateGroupRequest request;
    *request.mutable_setup() = created.setup;
    v1::CreateGroupResponse response;
    absl::Status sent = connection_.Call("CreateGroup", [&](grpc::ClientContext* context) {
      return connection_.groups().CreateGroup(context, request, &response);
    });
    if (!sent.ok()) {
      // Refused for good (not merely unreachable): the group does not exist, so it is unlisted.
      if (!absl::IsUnavailable(sent) && !absl::IsDeadlineExceeded(sent)) {
        groups_.erase(group_id);
        SaveIdentity().IgnoreError();
      }
      return sent;
    }
    return InfoOf(group_id, groups_[group_id]);
  }

  absl::StatusOr<GroupInfo> JoinGroup(const std::string& group_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (groups_.count(group_id) != 0) {
      return absl::AlreadyExistsError(absl::StrCat("this member already has group ", group_id));
    }
    v1::GetSetupRequest request;
    request.set_group_id(group_id);
    v1::GetSetupResponse response;
    ART_RETURN_IF_ERROR(connection_.Call("GetSetup", [&](grpc::ClientContext* context) {
      return connection_.groups().GetSetup(context, request, &response);
    }));
    // Joining erases the one-time prekey it used: work on a copy, kept only once the group is saved.
    art::PrekeySecrets prekeys = identity_prekeys_;
    ART_ASSIGN_OR_RETURN(art::MemberGroup group,
                         art::MemberGroup::JoinFromSetup(config_, *identity_, &prekeys, response.setup()));
    return InstallGroup(group_id, std::move(group), std::move(prekeys));
  }

  absl::StatusOr<std::vector<GroupInfo>> AcceptWelcomes() {
    std::lock_guard<std::mutex> lock(mutex_);
    v1::FetchWelcomesRequest request;
    request.set_member_id(member_id_);
    ART_RETURN_IF_ERROR(SignAs(art::kFetchWelcomesMethod, &request));
    v1::FetchWelcomesResponse response;
    ART_RETURN_IF_ERROR(connection_.Call("FetchWelcomes", [&](grpc::ClientContext* context) {
      return connection_.mailbox().FetchWelcomes(context, request, &response);
    }));
    std::vector<GroupInfo> joined;
    absl::Status first_failure;
    for (const v1::PendingWelcome& pending : response.welcomes()) {
      const std::string group_id = pending.welcome().group_id();
      auto known = groups_.find(group_id);
      const bool stale = known != groups_.end() && known->second.group->is_active() &&
                         known->second.group->epoch() >= pending.welcome().epoch();
      if (!stale) {
        art::PrekeySecrets prekeys = identity_prekeys_;
        absl::StatusOr<art::MemberGroup> group = art::MemberGroup::JoinFromWelcome(
            config_, *identity_, &prekeys, pending.welcome(), pending.commit(), pending.state_after());
        absl::StatusOr<GroupInfo> info =
            group.ok() ? InstallGroup(group_id, *std::move(group), std::move(prekeys)) : group.status();
        if (!info.ok()) {
          // Left unacknowledged, to be retried; the others still proceed.
          if (first_failure.ok()) first_failure = info.status();
          continue;
        }
        joined.push_back(*std::move(info));
      }
      v1::AckWelcomeRequest ack;
      ack.set_member_id(member_id_);
      ack.set_welcome_id(pending.welcome_id());
      ART_RETURN_IF_ERROR(SignAs(art::kAckWelcomeMethod, &ack));
      v1::AckWelcomeResponse acked;
      ART_RETURN_IF_ERROR(connection_.Call("AckWelcome", [&](grpc::ClientContext* context) {
        return connection_.mailbox().AckWelcome(context, ack, &acked);
      }));
    }
    if (joined.empty() && !first_failure.ok()) return first_failure;
    return joined;
  }

  // ---- Commits ----

  using CommitBuilder = std::function<absl::StatusOr<art::PendingCommit>(const art::MemberGroup&)>;

  absl::StatusOr<GroupInfo> Commit(const std::string& group_id, const CommitBuilder& build) {
    std::lock_guard<std::mutex> lock(mutex_);
    return CommitLocked(group_id, build);
  }

  CommitBuilder UpdateBuilder() {
    return [](const art::MemberGroup& group) { return group.CreateUpdate(); };
  }

  CommitBuilder AddBuilder(const std::string& member_id) {
    return [this, member_id](const art::MemberGroup& group) -> absl::StatusOr<art::PendingCommit> {
      if (group.public_group().tree().FindMember(member_id) != art::kNoLeaf) {
        return absl::AlreadyExistsError(absl::StrCat(member_id, " is already a member"));
      }
      // A fresh bundle per attempt: the one-time prekey of a lost attempt was spent when handed out.
      ART_ASSIGN_OR_RETURN(v1::PrekeyBundle bundle, FetchBundle(member_id));
      return group.CreateAdd(bundle);
    };
  }

  CommitBuilder RemoveBuilder(const std::string& member_id) {
    return [this, member_id](const art::MemberGroup& group) -> absl::StatusOr<art::PendingCommit> {
      if (member_id == member_id_) {
        return absl::InvalidArgumentError("a member cannot remove itself: use Leave");
      }
      art::LeafIndex leaf = group.public_group().tree().FindMember(member_id);
      if (leaf == art::kNoLeaf) return absl::NotFoundError(absl::StrCat(member_id, " is not a member"));
      return group.CreateRemove(leaf);
    };
  }

  absl::Status Leave(const std::string& group_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    ART_ASSIGN_OR_RETURN(GroupSlot * slot, ActiveSlot(group_id));
    ART_RETURN_IF_ERROR(CatchUpLocked(group_id, *slot));
    return PostLocked(group_id, *slot, kLeaveRequestContentType, {}).status();
  }

  // ---- Messages ----

  absl::StatusOr<uint64_t> Send(const std::string& group_id, art::ByteSpan content) {
    std::lock_guard<std::mutex> lock(mutex_);
    ART_ASSIGN_OR_RETURN(GroupSlot * slot, ActiveSlot(group_id));
    ART_RETURN_IF_ERROR(CatchUpLocked(group_id, *slot));
    // Double-join hygiene: nothing is sent under keys someone else chose for this member's leaf or
    // sibling subtree.
    if (slot->group->ShouldUpdateBeforeSending()) {
      ART_RETURN_IF_ERROR(CommitLocked(group_id, UpdateBuilder()).status());
      ART_ASSIGN_OR_RETURN(slot, ActiveSlot(group_id));
    }
    return PostLocked(group_id, *slot, kApplicationContentType, content);
  }

  absl::StatusOr<std::vector<ReceivedMessage>> Receive(const std::string& group_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    ART_ASSIGN_OR_RETURN(GroupSlot * slot, FindSlot(group_id));
    if (slot->alarm.has_value()) return AlarmErrorRetryingReport(group_id, *slot);
    if (slot->group->is_active()) ART_RETURN_IF_ERROR(CatchUpLocked(group_id, *slot));
    // Every member that reads a leave request tries to commit the removal; one wins, the others
    // find the leaver gone (NOT_FOUND from the builder) or lose the race: neither is this member's
    // error.
    const std::set<std::string> leavers = std::move(slot->leave_requests);
    slot->leave_requests.clear();
    for (const std::string& leaver : leavers) {
      if (!slot->group->is_active()) break;
      absl::Status removed = CommitLocked(group_id, RemoveBuilder(leaver)).status();
      if (!removed.ok() && !absl::IsNotFound(removed) && !absl::IsAborted(removed)) return removed;
      ART_ASSIGN_OR_RETURN(slot, FindSlot(group_id));
    }
    std::vector<ReceivedMessage> received = std::move(slot->inbox);
    slot->inbox.clear();
    const int unreadable = std::exchange(slot->unreadable, 0);
    const absl::Status first_unreadable = std::exchange(slot->first_unreadable, absl::OkStatus());
    ART_RETURN_IF_ERROR(SaveGroup(group_id, *slot));
    if (received.empty() && !slot->group->is_active()) return RemovedError(group_id, *slot->group);
    if (received.empty() && unreadable > 0) {
      return absl::Status(first_unreadable.code(), absl::StrCat(unreadable, " message(s) of group ", group_id,
                                                                " could not be read; the first: ",
                                                                first_unreadable.message()));
    }
    return received;
  }

  absl::Status Watch(const std::string& group_id, const std::function<bool(WatchUpdate)>& on_update,
                     absl::Time deadline) {
    std::optional<uint64_t> reported_epoch;
    bool keep_going = true;
    // Reads what is new (as Receive) and reports it when anything changed.
    auto deliver = [&]() -> absl::Status {
      absl::StatusOr<std::vector<ReceivedMessage>> received = Receive(group_id);
      if (!received.ok()) return received.status();
      ART_ASSIGN_OR_RETURN(GroupInfo info, Info(group_id));
      if (received->empty() && reported_epoch == info.epoch) return absl::OkStatus();
      reported_epoch = info.epoch;
      keep_going = on_update(WatchUpdate{std::move(info), *std::move(received)});
      return absl::OkStatus();
    };
    ART_RETURN_IF_ERROR(deliver());
    if (!keep_going) return absl::OkStatus();
    v1::WatchGroupRequest request;
    request.set_group_id(group_id);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ART_ASSIGN_OR_RETURN(GroupSlot * slot, ActiveSlot(group_id));
      request.set_after_epoch(slot->group->epoch());
      request.set_after_message_sequence(slot->last_sequence);
    }
    // The stream only says that something arrived; Receive then fetches it in order, so commits and
    // messages are handled exactly as without a watch.
    absl::Status delivered;
    absl::Status streamed = connection_.Call("WatchGroup", [&](grpc::ClientContext* context) {
      if (deadline != absl::InfiniteFuture()) context->set_deadline(absl::ToChronoTime(deadline));
      std::unique_ptr<grpc::ClientReader<v1::GroupEvent>> reader = connection_.groups().WatchGroup(context, request);
      v1::GroupEvent event;
      while (reader->Read(&event)) {
        delivered = deliver();
        if (!delivered.ok() || !keep_going) {
          context->TryCancel();
          break;
        }
      }
      return reader->Finish();
    });
    if (!delivered.ok()) return delivered;
    if (!keep_going || absl::IsDeadlineExceeded(streamed)) return absl::OkStatus();
    return streamed;
  }

  absl::StatusOr<GroupInfo> CatchUp(const std::string& group_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    ART_ASSIGN_OR_RETURN(GroupSlot * slot, ActiveSlot(group_id));
    ART_RETURN_IF_ERROR(CatchUpLocked(group_id, *slot));
    return InfoOf(group_id, *slot);
  }

  // ---- Queries ----

  absl::StatusOr<GroupInfo> Info(const std::string& group_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    ART_ASSIGN_OR_RETURN(GroupSlot * slot, FindSlot(group_id));
    return InfoOf(group_id, *slot);
  }

  std::vector<std::string> GroupIds() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> ids;
    for (const auto& [group_id, slot] : groups_) {
      // A group this member was removed from keeps its state (Info and Receive report the removal)
      // but is no longer one of its groups.
      if (slot.group.has_value() && slot.group->is_active()) ids.push_back(group_id);
    }
    return ids;
  }

  absl::StatusOr<art::SecretBytes> Export(const std::string& group_id, std::string_view label,
                                          art::ByteSpan context, size_t length) {
    std::lock_guard<std::mutex> lock(mutex_);
    ART_ASSIGN_OR_RETURN(GroupSlot * slot, ActiveSlot(group_id));
    return slot->group->Export(label, context, length);
  }

 private:
  // ---- The commit protocol ----

  // Persist the commit, submit it, then apply and save; on a lost race catch up and rebuild.
  absl::StatusOr<GroupInfo> CommitLocked(const std::string& group_id, const CommitBuilder& build) {
    absl::Status last_loss;
    for (int attempt = 1; attempt <= options_.max_commit_attempts; ++attempt) {
      ART_ASSIGN_OR_RETURN(GroupSlot * slot, ActiveSlot(group_id));
      ART_ASSIGN_OR_RETURN(art::PendingCommit pending, build(*slot->group));
      // Saved before it leaves this process: if the service accepts it and the process stops
      // before the group is saved, Open finds it in the log and recovers the new epoch from it.
      ART_RETURN_IF_ERROR(SavePending(group_id, *slot, EncodePending(pending, slot->group->epoch())));
      CrashPoint("before-submit");
      v1::SubmitCommitRequest request;
      *request.mutable_commit() = pending.commit;
      if (pending.welcome.has_value()) *request.mutable_welcome() = *pending.welcome;
      // No MemberAuth, as for a Setup: the commit is signed by this member over all its content and
      // the epoch compare-and-swap refuses a replay (docs/api.md); one would cost the service a second
      // signature check per commit.
      v1::SubmitCommitResponse response;
      absl::Status submitted = connection_.Call("SubmitCommit", [&](grpc::ClientContext* context) {
        return connection_.groups().SubmitCommit(context, request, &response);
      });
      if (submitted.ok()) {
        CrashPoint("after-submit-before-save");
        slot->group->ApplyPendingCommit(std::move(pending));
        ART_RETURN_IF_ERROR(SaveGroup(group_id, *slot));
        CrashPoint("after-save");
        ART_RETURN_IF_ERROR(SavePending(group_id, *slot, art::SecretBytes()));
        return InfoOf(group_id, *slot);
      }
      if (!absl::IsAborted(submitted)) {
        // The outcome may be unknown (a timeout after the service accepted it): the log decides.
        ART_ASSIGN_OR_RETURN(bool recovered, ResolvePending(group_id, *slot));
        if (recovered) return InfoOf(group_id, *slot);
        return submitted;
      }
      last_loss = submitted;
      ART_RETURN_IF_ERROR(SavePending(group_id, *slot, art::SecretBytes()));
      ART_RETURN_IF_ERROR(CatchUpLocked(group_id, *slot));
      if (attempt < options_.max_commit_attempts) {
        absl::SleepFor(Backoff(options_.retry_base, attempt, random_));
      }
    }
    return absl::AbortedError(absl::StrCat("the commit to group ", group_id, " lost the race for its epoch ",
                                           options_.max_commit_attempts,
                                           " times (max_commit_attempts); the last: ", last_loss.message()));
  }

  // Settles a commit left in flight: applied if the service's log holds it at the next epoch,
  // otherwise dropped (never accepted, or another commit won) and the group caught up. True when it
  // was this member's commit that made the next epoch.
  absl::StatusOr<bool> ResolvePending(const std::string& group_id, GroupSlot& slot) {
    ART_ASSIGN_OR_RETURN(std::optional<PendingRecord> record, LoadPending(group_id, &slot.pending_version));
    if (!record.has_value()) return false;
    art::MemberGroup& group = *slot.group;
    bool recovered = false;
    // At a later epoch, the group was saved after the commit applied (or moved past it).
    if (group.is_active() && group.epoch() == record->base_epoch) {
      ART_ASSIGN_OR_RETURN(std::vector<v1::Commit> commits, FetchCommits(group_id, group.epoch(), 1));
      if (!commits.empty() && commits[0].signature() == record->commit.signature()) {
        ART_RETURN_IF_ERROR(group.RecoverOwnCommit(commits[0], record->path_leaf_secret.span()));
        ART_RETURN_IF_ERROR(SaveGroup(group_id, slot));
        recovered = true;
      }
    }
    ART_RETURN_IF_ERROR(SavePending(group_id, slot, art::SecretBytes()));
    if (group.is_active()) ART_RETURN_IF_ERROR(CatchUpLocked(group_id, slot));
    return recovered;
  }

  // The commit in flight for |group_id| as its pending blob records it now (written by this process
  // or another acting for this member), or nullopt when none is; |version|, when given, is set to the
  // blob's version if the blob exists.
  absl::StatusOr<std::optional<PendingRecord>> LoadPending(const std::string& group_id, uint64_t* version) {
    const std::string blob = PendingBlob(group_id);
    ART_ASSIGN_OR_RETURN(std::optional<VersionedState> stored, store_->Load(blob));
    if (!stored.has_value()) return std::nullopt;
    if (version != nullptr) *version = stored->version;
    return DecodePending(blob, stored->plaintext);
  }

  // Every commit after |after_epoch| (at most |limit| when non-zero), oldest first.
  absl::StatusOr<std::vector<v1::Commit>> FetchCommits(const std::string& group_id, uint64_t after_epoch,
                                                       uint32_t limit = 0) {
    std::vector<v1::Commit> commits;
    while (true) {
      v1::ListCommitsRequest request;
      request.set_group_id(group_id);
      request.set_after_epoch(after_epoch + commits.size());
      request.set_limit(limit);
      v1::ListCommitsResponse response;
      ART_RETURN_IF_ERROR(connection_.Call("ListCommits", [&](grpc::ClientContext* context) {
        return connection_.groups().ListCommits(context, request, &response);
      }));
      for (v1::Commit& commit : *response.mutable_commits()) commits.push_back(std::move(commit));
      if (response.commits().empty() || limit != 0 || after_epoch + commits.size() >= response.current_epoch()) {
        return commits;
      }
    }
  }

  absl::Status ProcessCommit(const std::string& group_id, GroupSlot& slot, const v1::Commit& commit) {
    absl::Status status = slot.group->ProcessCommit(commit);
    if (status.ok()) return status;
    const bool own_leaf = commit.signer_leaf() == slot.group->own_leaf();
    if (own_leaf) {
      // Another process acting for this member (sharing its state store) may have made the commit
      // and not saved the group yet: its pending record holds it until then. (The record's version
      // is not taken into this slot: this process did not make that write.)
      ART_ASSIGN_OR_RETURN(std::optional<PendingRecord> record, LoadPending(group_id, nullptr));
      if (record.has_value() && record->commit.signature() == commit.signature()) {
        return absl::FailedPreconditionError(
            absl::StrCat("the commit for epoch ", commit.epoch() + 1, " of group ", group_id,
                         " was made by another process of member ", member_id_, " that has not saved it yet: retry"));
      }
    }
    // The service accepted a commit this member rejects: the group can no longer be trusted. The
    // alarm is saved before anything else, so that no restart resumes using the group.
    GroupSlot::Alarm alarm;
    alarm.epoch = commit.epoch();
    alarm.reason = own_leaf ? v1::ALARM_REASON_COMMIT_FOR_OWN_LEAF : v1::ALARM_REASON_COMMIT_REJECTED;
    alarm.detail = Utf8Prefix(std::string(status.message()), art::kMaxAlarmDetailBytes);
    alarm.commit = commit.SerializeAsString();
    slot.alarm = std::move(alarm);
    ART_RETURN_IF_ERROR(SaveGroup(group_id, slot));
    return AlarmError(group_id, slot, ReportAlarmLocked(group_id, slot));
  }

  // Sends the alarm's evidence to the service, once; a failure leaves it for the next call.
  absl::Status ReportAlarmLocked(const std::string& group_id, GroupSlot& slot) {
    v1::ReportAlarmRequest request;
    if (!request.mutable_commit()->ParseFromString(slot.alarm->commit)) return Corrupt(GroupBlob(group_id));
    request.set_reason(static_cast<v1::AlarmReason>(slot.alarm->reason));
    request.set_detail(slot.alarm->detail);
    request.set_reporter_leaf(slot.group->own_leaf());
    ART_RETURN_IF_ERROR(SignAs(art::kReportAlarmMethod, &request));
    v1::ReportAlarmResponse response;
    ART_RETURN_IF_ERROR(connection_.Call("ReportAlarm", [&](grpc::ClientContext* context) {
      return connection_.groups().ReportAlarm(context, request, &response);
    }));
    slot.alarm->reported = true;
    return SaveGroup(group_id, slot);
  }

  // The error every use of a group with an alarm gets (retrying the report first if it is due).
  absl::Status AlarmError(const std::string& group_id, GroupSlot& slot, absl::Status reported) {
    const GroupSlot::Alarm& alarm = *slot.alarm;
    return absl::FailedPreconditionError(absl::StrCat(
        "group ", group_id, " is no longer used: member ", member_id_, " rejected the commit for epoch ",
        alarm.epoch + 1, " that the service accepted (",
        alarm.reason == v1::ALARM_REASON_COMMIT_FOR_OWN_LEAF ? "signed for this member's own leaf: its identity key "
                                                               "may be compromised"
                                                             : "it fails this member's checks",
        "): ", alarm.detail, "; ",
        reported.ok() ? "reported to the service" : absl::StrCat("not yet reported (", reported.message(), ")"),
        "; re-create the group"));
  }

  absl::Status AlarmErrorRetryingReport(const std::string& group_id, GroupSlot& slot) {
    return AlarmError(group_id, slot, slot.alarm->reported ? absl::OkStatus() : ReportAlarmLocked(group_id, slot));
  }

  // Applies new commits and reads new messages, in epoch order, so that a message is read in the
  // epoch it was sent in (the previous epoch's keys cover messages posted late): messages go to the
  // inbox, leave requests to |leave_requests|.
  absl::Status CatchUpLocked(const std::string& group_id, GroupSlot& slot) {
    ART_ASSIGN_OR_RETURN(std::vector<v1::Commit> commits, FetchCommits(group_id, slot.group->epoch()));
    std::vector<v1::StoredMessage> stored;
    while (true) {
      v1::FetchMessagesRequest request;
      request.set_group_id(group_id);
      request.set_after_sequence(stored.empty() ? slot.last_sequence : stored.back().sequence());
      v1::FetchMessagesResponse response;
      ART_RETURN_IF_ERROR(connection_.Call("FetchMessages", [&](grpc::ClientContext* context) {
        return connection_.mailbox().FetchMessages(context, request, &response);
      }));
      if (response.messages().empty()) break;
      for (v1::StoredMessage& message : *response.mutable_messages()) stored.push_back(std::move(message));
    }
    if (commits.empty() && stored.empty()) return absl::OkStatus();
    size_t next_commit = 0;
    art::MemberGroup& group = *slot.group;
    for (const v1::StoredMessage& message : stored) {
      const v1::ApplicationMessage& body = message.message();
      while (group.is_active() && next_commit < commits.size() && group.epoch() < body.epoch()) {
        ART_RETURN_IF_ERROR(ProcessCommit(group_id, slot, commits[next_commit++]));
      }
      if (!group.is_active()) break;
      slot.last_sequence = message.sequence();
      if (body.epoch() < slot.join_epoch || body.sender_leaf() == group.own_leaf()) continue;
      absl::StatusOr<art::ReceivedMessage> opened = group.Unprotect(body);
      if (!opened.ok()) {
        if (slot.unreadable++ == 0) slot.first_unreadable = opened.status();
        continue;
      }
      if (opened->content_type == kLeaveRequestContentType) {
        slot.leave_requests.insert(opened->sender_member_id);
        continue;
      }
      slot.inbox.push_back(ReceivedMessage{group_id, opened->epoch, opened->sender_member_id,
                                           std::move(opened->content)});
    }
    while (group.is_active() && next_commit < commits.size()) {
      ART_RETURN_IF_ERROR(ProcessCommit(group_id, slot, commits[next_commit++]));
    }
    return SaveGroup(group_id, slot);
  }

  // Protects under the next message key, saves the advanced ratchet, then posts.
  absl::StatusOr<uint64_t> PostLocked(const std::string& group_id, GroupSlot& slot, uint32_t content_type,
                                      art::ByteSpan content) {
    v1::PostMessageRequest request;
    ART_ASSIGN_OR_RETURN(*request.mutable_message(), slot.group->Protect(content_type, content));
    // Never two messages under one key, even if this process stops right after posting.
    ART_RETURN_IF_ERROR(SaveGroup(group_id, slot));
    ART_RETURN_IF_ERROR(SignAs(art::kPostMessageMethod, &request));
    v1::PostMessageResponse response;
    ART_RETURN_IF_ERROR(connection_.Call("PostMessage", [&](grpc::ClientContext* context) {
      return connection_.mailbox().PostMessage(context, request, &response);
    }));
    return response.sequence();
  }

  // ---- Groups in memory ----

  absl::StatusOr<GroupSlot*> FindSlot(const std::string& group_id) {
    auto it = groups_.find(group_id);
    if (it == groups_.end()) {
      return absl::NotFoundError(absl::StrCat("member ", member_id_, " is not in group ", group_id));
    }
    return &it->second;
  }

  absl::StatusOr<GroupSlot*> ActiveSlot(const std::string& group_id) {
    ART_ASSIGN_OR_RETURN(GroupSlot * slot, FindSlot(group_id));
    if (slot->alarm.has_value()) return AlarmErrorRetryingReport(group_id, *slot);
    if (!slot->group->is_active()) return RemovedError(group_id, *slot->group);
    return slot;
  }

  absl::Status RemovedError(const std::string& group_id, const art::MemberGroup& group) const {
    return absl::FailedPreconditionError(
        absl::StrCat("member ", member_id_, " was removed from group ", group_id, " (epoch ", group.epoch(), ")"));
  }

  GroupInfo InfoOf(const std::string& group_id, const GroupSlot& slot) const {
    const art::MemberGroup& group = *slot.group;
    GroupInfo info;
    info.group_id = group_id;
    info.epoch = group.epoch();
    const art::PublicTree& tree = group.public_group().tree();
    for (art::LeafIndex leaf = 0; leaf < tree.leaf_count(); ++leaf) {
      if (const art::LeafOccupant* occupant = tree.occupant(leaf)) info.members.push_back(occupant->member_id);
    }
    info.epoch_authenticator = group.epoch_authenticator();
    return info;
  }

  // A group just created or joined: saved, then listed in the identity blob together with the
  // prekeys the join spent (|prekeys|, if any), then caught up to the service's epoch.
  absl::StatusOr<GroupInfo> InstallGroup(const std::string& group_id, art::MemberGroup group,
                                         std::optional<art::PrekeySecrets> prekeys = std::nullopt) {
    ART_RETURN_IF_ERROR(SaveNewGroup(group_id, std::move(group), std::move(prekeys)));
    GroupSlot& installed = groups_[group_id];
    ART_RETURN_IF_ERROR(CatchUpLocked(group_id, installed));
    // Messages of the epochs caught up over, except the previous one (whose keys are retained),
    // can no longer be read: they are skipped, not reported as failures.
    if (installed.group->epoch() > installed.join_epoch + 1) {
      installed.join_epoch = installed.group->epoch() - 1;
      ART_RETURN_IF_ERROR(SaveGroup(group_id, installed));
    }
    return InfoOf(group_id, installed);
  }

  // Saves a new group's state and lists it in the identity blob (with the prekeys a join spent).
  absl::Status SaveNewGroup(const std::string& group_id, art::MemberGroup group,
                            std::optional<art::PrekeySecrets> prekeys) {
    GroupSlot slot;
    slot.join_epoch = group.epoch();
    slot.group = std::move(group);
    // A member re-added to a group it was removed from replaces its old (inactive) blob.
    auto old = groups_.find(group_id);
    if (old != groups_.end()) {
      slot.version = old->second.version;
      slot.pending_version = old->second.pending_version;
    }
    ART_RETURN_IF_ERROR(SaveGroup(group_id, slot));
    groups_[group_id] = std::move(slot);
    if (prekeys.has_value()) identity_prekeys_ = *std::move(prekeys);
    return SaveIdentity();
  }

  // ---- Persistence ----

  absl::Status LoadAll() {
    ART_ASSIGN_OR_RETURN(std::optional<VersionedState> stored, store_->Load(kIdentityBlob));
    if (!stored.has_value()) {
      return absl::NotFoundError(absl::StrCat("no state of member ", member_id_, " in this store: Register it"));
    }
    std::vector<std::string> group_ids;
    ART_RETURN_IF_ERROR(DecodeIdentity(stored->plaintext, &group_ids));
    identity_version_ = stored->version;
    store_->UseSigningKey(identity_->signing_key);
    groups_.clear();
    for (const std::string& group_id : group_ids) {
      ART_RETURN_IF_ERROR(LoadGroup(group_id));
      ART_RETURN_IF_ERROR(ResolvePending(group_id, groups_[group_id]).status());
    }
    return absl::OkStatus();
  }

  absl::Status LoadGroup(const std::string& group_id) {
    const std::string blob = GroupBlob(group_id);
    ART_ASSIGN_OR_RETURN(std::optional<VersionedState> stored, store_->Load(blob));
    if (!stored.has_value()) return absl::DataLossError(absl::StrCat("state blob \"", blob, "\" is missing"));
    art::Decoder decoder(stored->plaintext.span());
    GroupSlot slot;
    slot.version = stored->version;
    uint32_t format = 0;
    art::ByteSpan serialized;
    uint32_t inbox_size = 0, leave_request_count = 0;
    if (!decoder.ReadUint32(&format) || (format != 2 && format != kGroupFormat) ||
        !decoder.ReadUint64(&slot.last_sequence) ||
        !decoder.ReadUint64(&slot.join_epoch) || !decoder.ReadUint32(&inbox_size)) {
      return Corrupt(blob);
    }
    for (uint32_t i = 0; i < inbox_size; ++i) {
      ReceivedMessage message;
      message.group_id = group_id;
      if (!decoder.ReadUint64(&message.epoch) || !decoder.ReadString(&message.sender_member_id) ||
          !decoder.ReadSecret(&message.content)) {
        return Corrupt(blob);
      }
      slot.inbox.push_back(std::move(message));
    }
    if (!decoder.ReadUint32(&leave_request_count)) return Corrupt(blob);
    for (uint32_t i = 0; i < leave_request_count; ++i) {
      std::string leaver;
      if (!decoder.ReadString(&leaver)) return Corrupt(blob);
      slot.leave_requests.insert(std::move(leaver));
    }
    bool has_alarm = false;
    if (format >= 3 && !decoder.ReadBool(&has_alarm)) return Corrupt(blob);
    if (has_alarm) {
      GroupSlot::Alarm& alarm = slot.alarm.emplace();
      if (!decoder.ReadUint64(&alarm.epoch) || !decoder.ReadUint32(&alarm.reason) ||
          !decoder.ReadString(&alarm.detail) || !decoder.ReadString(&alarm.commit) ||
          !decoder.ReadBool(&alarm.reported)) {
        return Corrupt(blob);
      }
    }
    if (!decoder.ReadVector(&serialized) || !decoder.done()) return Corrupt(blob);
    ART_ASSIGN_OR_RETURN(slot.group, art::MemberGroup::Deserialize(config_, *identity_, serialized));
    groups_[group_id] = std::move(slot);
    return absl::OkStatus();
  }

  absl::Status SaveGroup(const std::string& group_id, GroupSlot& slot) {
    ART_ASSIGN_OR_RETURN(art::SecretBytes serialized, slot.group->Serialize());
    art::Encoder encoder;
    encoder.Uint32(kGroupFormat).Uint64(slot.last_sequence).Uint64(slot.join_epoch);
    encoder.Uint32(static_cast<uint32_t>(slot.inbox.size()));
    for (const ReceivedMessage& message : slot.inbox) {
      encoder.Uint64(message.epoch).String(message.sender_member_id).Vector(message.content.span());
    }
    encoder.Uint32(static_cast<uint32_t>(slot.leave_requests.size()));
    for (const std::string& leaver : slot.leave_requests) encoder.String(leaver);
    encoder.Bool(slot.alarm.has_value());
    if (slot.alarm.has_value()) {
      encoder.Uint64(slot.alarm->epoch)
          .Uint32(slot.alarm->reason)
          .String(slot.alarm->detail)
          .String(slot.alarm->commit)
          .Bool(slot.alarm->reported);
    }
    encoder.Vector(serialized.span());
    return Put(GroupBlob(group_id), &slot.version, encoder.TakeSecret());
  }

  absl::Status SavePending(const std::string& group_id, GroupSlot& slot, const art::SecretBytes& record) {
    return Put(PendingBlob(group_id), &slot.pending_version, record);
  }

  art::SecretBytes EncodeIdentity() const {
    art::Encoder encoder;
    encoder.Uint32(kIdentityFormat)
        .Vector(identity_->signing_key.seed().span())
        .Vector(identity_->dh_key.secret().span())
        .String(identity_->credential.SerializeAsString())
        .Uint32(next_prekey_id_);
    encoder.Uint32(static_cast<uint32_t>(identity_prekeys_.signed_prekeys.size()));
    for (const auto& [id, key] : identity_prekeys_.signed_prekeys) {
      encoder.Uint32(id).Uint64(signed_prekey_created_.at(id)).Vector(key.secret().span());
    }
    encoder.Uint32(static_cast<uint32_t>(identity_prekeys_.one_time_prekeys.size()));
    for (const auto& [id, key] : identity_prekeys_.one_time_prekeys) encoder.Uint32(id).Vector(key.secret().span());
    encoder.Uint32(static_cast<uint32_t>(groups_.size()));
    for (const auto& [group_id, slot] : groups_) encoder.String(group_id);
    return encoder.TakeSecret();
  }

  absl::Status DecodeIdentity(const art::SecretBytes& bytes, std::vector<std::string>* group_ids) {
    art::Decoder decoder(bytes.span());
    uint32_t format = 0;
    art::SecretBytes seed, dh_secret;
    std::string credential;
    uint32_t count = 0;
    if (!decoder.ReadUint32(&format) || format != kIdentityFormat || !decoder.ReadSecret(&seed) ||
        !decoder.ReadSecret(&dh_secret) || !decoder.ReadString(&credential) ||
        !decoder.ReadUint32(&next_prekey_id_)) {
      return Corrupt(kIdentityBlob);
    }
    ART_ASSIGN_OR_RETURN(art::Ed25519PrivateKey signing_key, art::Ed25519PrivateKey::FromSeed(seed.span()));
    ART_ASSIGN_OR_RETURN(art::X25519PrivateKey dh_key, art::X25519PrivateKey::FromSecret(dh_secret.span()));
    identity_ = art::MemberIdentity{std::move(signing_key), std::move(dh_key), v1::Credential()};
    if (!identity_->credential.ParseFromString(credential) || identity_->credential.member_id() != member_id_) {
      return absl::DataLossError(absl::StrCat("the stored identity is not member ", member_id_, "'s"));
    }
    identity_prekeys_ = art::PrekeySecrets();
    signed_prekey_created_.clear();
    if (!decoder.ReadUint32(&count)) return Corrupt(kIdentityBlob);
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t id = 0;
      uint64_t created = 0;
      art::SecretBytes secret;
      if (!decoder.ReadUint32(&id) || !decoder.ReadUint64(&created) || !decoder.ReadSecret(&secret)) {
        return Corrupt(kIdentityBlob);
      }
      ART_ASSIGN_OR_RETURN(art::X25519PrivateKey key, art::X25519PrivateKey::FromSecret(secret.span()));
      identity_prekeys_.signed_prekeys.emplace(id, std::move(key));
      signed_prekey_created_[id] = created;
    }
    if (!decoder.ReadUint32(&count)) return Corrupt(kIdentityBlob);
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t id = 0;
      art::SecretBytes secret;
      if (!decoder.ReadUint32(&id) || !decoder.ReadSecret(&secret)) return Corrupt(kIdentityBlob);
      ART_ASSIGN_OR_RETURN(art::X25519PrivateKey key, art::X25519PrivateKey::FromSecret(secret.span()));
      identity_prekeys_.one_time_prekeys.emplace(id, std::move(key));
    }
    if (!decoder.ReadUint32(&count)) return Corrupt(kIdentityBlob);
    group_ids->resize(count);
    for (std::string& group_id : *group_ids) {
      if (!decoder.ReadString(&group_id)) return Corrupt(kIdentityBlob);
    }
    if (!decoder.done()) return Corrupt(kIdentityBlob);
    return absl::OkStatus();
  }

  absl::Status SaveIdentity() { return Put(kIdentityBlob, &identity_version_, EncodeIdentity()); }

  // Stores the next version of |name| after |*version|. If another process (or another MemberClient
  // on the same store) wrote first, this one's state is stale: it reloads everything from the store
  // and fails with FAILED_PRECONDITION, so the caller retries on fresh state.
  absl::Status Put(const std::string& name, uint64_t* version, const art::SecretBytes& plaintext) {
    absl::StatusOr<uint64_t> stored = store_->Store(name, *version, plaintext);
    if (stored.ok()) {
      *version = *stored;
      return absl::OkStatus();
    }
    if (!ready_ || reloading_ || (!absl::IsFailedPrecondition(stored.status()) &&
                                  !absl::IsAlreadyExists(stored.status()))) {
      return stored.status();
    }
    reloading_ = true;
    absl::Status reloaded = LoadAll();
    reloading_ = false;
    return absl::FailedPreconditionError(absl::StrCat(
        "member ", member_id_, "'s state was changed by another writer (", stored.status().message(), "); ",
        reloaded.ok() ? "reloaded it: retry" : absl::StrCat("reloading failed: ", reloaded.message())));
  }

  // ---- Prekeys ----

  uint64_t UnixSeconds() const {
    return static_cast<uint64_t>(absl::ToUnixSeconds(ClientNow(options_.clock_for_testing)));
  }

  int64_t PublishedLifetimeSeconds() const {
    return absl::ToInt64Seconds(options_.signed_prekey_lifetime + options_.signed_prekey_grace);
  }

  absl::StatusOr<v1::SignedPrekey> NewSignedPrekey() {
    ART_ASSIGN_OR_RETURN(art::X25519PrivateKey key, art::X25519PrivateKey::Generate());
    const uint32_t id = next_prekey_id_++;
    const uint64_t now = UnixSeconds();
    ART_ASSIGN_OR_RETURN(v1::SignedPrekey prekey,
                         art::SignSignedPrekey(*identity_, id, now + PublishedLifetimeSeconds(), key.public_key()));
    identity_prekeys_.signed_prekeys.emplace(id, std::move(key));
    signed_prekey_created_[id] = now;
    return prekey;
  }

  absl::StatusOr<std::vector<v1::OneTimePrekey>> NewOneTimePrekeys(uint32_t count) {
    std::vector<v1::OneTimePrekey> prekeys;
    for (uint32_t i = 0; i < count; ++i) {
      ART_ASSIGN_OR_RETURN(art::X25519PrivateKey key, art::X25519PrivateKey::Generate());
      const uint32_t id = next_prekey_id_++;
      prekeys.push_back(art::MakeOneTimePrekey(id, key.public_key()));
      identity_prekeys_.one_time_prekeys.emplace(id, std::move(key));
    }
    return prekeys;
  }

  absl::Status UploadPrekeys(const v1::SignedPrekey* signed_prekey, const std::vector<v1::OneTimePrekey>& one_time) {
    v1::UploadPrekeysRequest request;
    request.set_member_id(member_id_);
    if (signed_prekey != nullptr) *request.mutable_signed_prekey() = *signed_prekey;
    for (const v1::OneTimePrekey& prekey : one_time) *request.add_one_time_prekeys() = prekey;
    ART_RETURN_IF_ERROR(SignAs(art::kUploadPrekeysMethod, &request));
    v1::UploadPrekeysResponse response;
    return connection_.Call("UploadPrekeys", [&](grpc::ClientContext* context) {
      return connection_.keys().UploadPrekeys(context, request, &response);
    });
  }

  absl::StatusOr<v1::PrekeyBundle> FetchBundle(const std::string& member_id) {
    v1::FetchPrekeyBundleRequest request;
    request.set_member_id(member_id);
    v1::FetchPrekeyBundleResponse response;
    ART_RETURN_IF_ERROR(connection_.Call("FetchPrekeyBundle", [&](grpc::ClientContext* context) {
      return connection_.keys().FetchPrekeyBundle(context, request, &response);
    }));
    return response.bundle();
  }

  // ---- Helpers ----

  template <typename Request>
  absl::Status SignAs(std::string_view method, Request* request) const {
    return connection_.SignAs(identity_->signing_key, member_id_, method, request);
  }

  void CrashPoint(std::string_view point) const {
    if (options_.crash_point_for_testing) options_.crash_point_for_testing(point);
  }

  const ClientOptions options_;
  const std::string member_id_;
  const std::unique_ptr<StateStore> store_;
  ServiceConnection connection_;
  art::GroupConfig config_;
  std::mt19937_64 random_;

  std::mutex mutex_;
  bool ready_ = false;      // Registered or opened: conflicts from then on mean another writer.
  bool reloading_ = false;  // A reload's own writes do not reload again.
  std::optional<art::MemberIdentity> identity_;
  art::PrekeySecrets identity_prekeys_;
  std::map<uint32_t, uint64_t> signed_prekey_created_;  // Unix seconds, by signed prekey id.
  uint32_t next_prekey_id_ = 1;
  uint64_t identity_version_ = 0;
  std::map<std::string, GroupSlot> groups_;
};

// ---- MemberClient ----

MemberClient::MemberClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MemberClient::~MemberClient() = default;

namespace {

absl::Status CheckArguments(const ClientOptions& options, const std::string& member_id, const StateStore* store) {
  if (options.channel == nullptr) return absl::InvalidArgumentError("options.channel must be set");
  if (options.tenant_id.empty()) return absl::InvalidArgumentError("options.tenant_id must be set");
  if (options.trusted_tenant_keys.empty()) {
    return absl::InvalidArgumentError("options.trusted_tenant_keys must name the tenant's credential keys");
  }
  if (options.max_commit_attempts < 1) return absl::InvalidArgumentError("options.max_commit_attempts must be >= 1");
  if (member_id.empty()) return absl::InvalidArgumentError("member_id must not be empty");
  if (store == nullptr) return absl::InvalidArgumentError("a state store is required");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<MemberClient>> MemberClient::Register(ClientOptions options, std::string member_id,
                                                                     const Certifier& certify,
                                                                     std::unique_ptr<StateStore> store) {
  ART_RETURN_IF_ERROR(CheckArguments(options, member_id, store.get()));
  auto impl = std::make_unique<Impl>(std::move(options), std::move(member_id), std::move(store));
  ART_RETURN_IF_ERROR(impl->Register(certify));
  return std::unique_ptr<MemberClient>(new MemberClient(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<MemberClient>> MemberClient::Open(ClientOptions options, std::string member_id,
                                                                 std::unique_ptr<StateStore> store) {
  ART_RETURN_IF_ERROR(CheckArguments(options, member_id, store.get()));
  auto impl = std::make_unique<Impl>(std::move(options), std::move(member_id), std::move(store));
  ART_RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<MemberClient>(new MemberClient(std::move(impl)));
}

const std::string& MemberClient::member_id() const { return impl_->member_id(); }
const art::Ed25519PrivateKey& MemberClient::signing_key() const { return impl_->signing_key(); }
absl::Status MemberClient::MaintainPrekeys() { return impl_->MaintainPrekeys(); }

absl::StatusOr<GroupInfo> MemberClient::CreateGroup(const std::string& group_id,
                                                    const std::vector<std::string>& member_ids) {
  return impl_->CreateGroup(group_id, member_ids);
}
absl::StatusOr<GroupInfo> MemberClient::JoinGroup(const std::string& group_id) { return impl_->JoinGroup(group_id); }
absl::StatusOr<std::vector<GroupInfo>> MemberClient::AcceptWelcomes() { return impl_->AcceptWelcomes(); }

absl::StatusOr<GroupInfo> MemberClient::Update(const std::string& group_id) {
  return impl_->Commit(group_id, impl_->UpdateBuilder());
}
absl::StatusOr<GroupInfo> MemberClient::Add(const std::string& group_id, const std::string& member_id) {
  return impl_->Commit(group_id, impl_->AddBuilder(member_id));
}
absl::StatusOr<GroupInfo> MemberClient::Remove(const std::string& group_id, const std::string& member_id) {
  return impl_->Commit(group_id, impl_->RemoveBuilder(member_id));
}
absl::Status MemberClient::Leave(const std::string& group_id) { return impl_->Leave(group_id); }

absl::StatusOr<uint64_t> MemberClient::Send(const std::string& group_id, art::ByteSpan content) {
  return impl_->Send(group_id, content);
}
absl::StatusOr<std::vector<ReceivedMessage>> MemberClient::Receive(const std::string& group_id) {
  return impl_->Receive(group_id);
}
absl::StatusOr<GroupInfo> MemberClient::CatchUp(const std::string& group_id) { return impl_->CatchUp(group_id); }
absl::Status MemberClient::Watch(const std::string& group_id, const std::function<bool(WatchUpdate)>& on_update,
                                 absl::Time deadline) {
  return impl_->Watch(group_id, on_update, deadline);
}
absl::StatusOr<GroupInfo> MemberClient::Info(const std::string& group_id) { return impl_->Info(group_id); }
std::vector<std::string> MemberClient::GroupIds() { return impl_->GroupIds(); }

absl::StatusOr<art::SecretBytes> MemberClient::Export(const std::string& group_id, std::string_view label,
                                                      art::ByteSpan context, size_t length) {
  return impl_->Export(group_id, label, context, length);
}

}  // namespace artd::client
