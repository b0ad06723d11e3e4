#include "art/testing/group_fixture.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "art/base/status_macros.h"

namespace art::testing {

v1::PrekeyBundle TestMember::TakeBundle() {
  v1::PrekeyBundle bundle;
  *bundle.mutable_credential() = identity.credential;
  *bundle.mutable_signed_prekey() = signed_prekey;
  if (!one_time_prekeys.empty()) {
    *bundle.mutable_one_time_prekey() = one_time_prekeys.back();
    one_time_prekeys.pop_back();
  }
  return bundle;
}

TestTenant::TestTenant(std::string tenant_id) {
  credential_key_ = ValueOrDie(Ed25519PrivateKey::Generate());
  config_.tenant_id = std::move(tenant_id);
  config_.trusted_tenant_keys = {credential_key_->public_key()};
}

std::unique_ptr<TestMember> TestTenant::NewMember(const std::string& member_id,
                                                  int one_time_prekeys) {
  auto member = std::make_unique<TestMember>(
      TestMember{ValueOrDie(GenerateMemberIdentity(config_.tenant_id, member_id)), {}, {}, {}});
  absl::Status certified = CertifyCredential(*credential_key_, &member->identity.credential);
  if (!certified.ok()) abort();
  X25519PrivateKey signed_prekey = ValueOrDie(X25519PrivateKey::Generate());
  const uint64_t expiry = static_cast<uint64_t>(absl::ToUnixSeconds(absl::Now())) + 86400 * 30;
  member->signed_prekey =
      ValueOrDie(SignSignedPrekey(member->identity, 1, expiry, signed_prekey.public_key()));
  member->prekeys.signed_prekeys.emplace(1, std::move(signed_prekey));
  for (int i = 0; i < one_time_prekeys; ++i) {
    const uint32_t id = 100 + static_cast<uint32_t>(i);
    X25519PrivateKey one_time = ValueOrDie(X25519PrivateKey::Generate());
    member->one_time_prekeys.push_back(MakeOneTimePrekey(id, one_time.public_key()));
    member->prekeys.one_time_prekeys.emplace(id, std::move(one_time));
  }
  credentials_[member_id] = member->identity.credential;
  return member;
}

const v1::Credential* TestTenant::CredentialOf(const std::string& member_id) const {
  auto found = credentials_.find(member_id);
  return found == credentials_.end() ? nullptr : &found->second;
}

v1::PublicGroupState TestTenant::PublicStateOf(const PublicGroup& group) const {
  return group.ToProto([&](LeafIndex leaf) -> const v1::Credential* {
    const LeafOccupant* occupant = group.tree().occupant(leaf);
    return occupant == nullptr ? nullptr : CredentialOf(occupant->member_id);
  });
}

absl::StatusOr<std::unique_ptr<SimulatedGroup>> SimulatedGroup::Create(TestTenant& tenant,
                                                                      int member_count,
                                                                      const std::string& group_id) {
  auto simulation = std::make_unique<SimulatedGroup>();
  simulation->tenant_ = &tenant;
  std::vector<std::unique_ptr<TestMember>> devices;
  std::vector<v1::PrekeyBundle> bundles;
  for (int i = 0; i < member_count; ++i) {
    devices.push_back(tenant.NewMember(absl::StrCat("member-", i)));
    if (i > 0) bundles.push_back(devices.back()->TakeBundle());
  }
  ART_ASSIGN_OR_RETURN(MemberGroup::Created created,
                       MemberGroup::Create(tenant.config(), devices[0]->identity, group_id, bundles));
  ART_ASSIGN_OR_RETURN(simulation->service_view_,
                       PublicGroup::FromSetup(tenant.config().tenant_id, created.setup,
                                              tenant.config().trusted_tenant_keys));
  simulation->seats_.emplace(0, Seat{std::move(devices[0]), std::move(created.group)});
  for (int i = 1; i < member_count; ++i) {
    ART_ASSIGN_OR_RETURN(MemberGroup joined,
                         MemberGroup::JoinFromSetup(tenant.config(), devices[i]->identity,
                                                    &devices[i]->prekeys, created.setup));
    simulation->seats_.emplace(static_cast<LeafIndex>(i), Seat{std::move(devices[i]), std::move(joined)});
  }
  return simulation;
}

absl::Status SimulatedGroup::Deliver(LeafIndex committer, PendingCommit pending,
                                     std::unique_ptr<TestMember> newcomer) {
  ART_ASSIGN_OR_RETURN(StagedPublicCommit staged,
                       service_view_.StageCommit(pending.commit, tenant_->config().trusted_tenant_keys));
  const v1::Commit commit = pending.commit;
  std::optional<v1::Welcome> welcome = pending.welcome;
  service_view_.Apply(std::move(staged));
  std::vector<LeafIndex> removed;
  for (auto& [leaf, seat] : seats_) {
    if (leaf == committer) {
      seat.group.ApplyPendingCommit(std::move(pending));
      continue;
    }
    ART_RETURN_IF_ERROR(seat.group.ProcessCommit(commit));
    if (!seat.group.is_active()) removed.push_back(leaf);
  }
  for (LeafIndex leaf : removed) seats_.erase(leaf);
  if (newcomer != nullptr) {
    const v1::PublicGroupState state = tenant_->PublicStateOf(service_view_);
    ART_ASSIGN_OR_RETURN(MemberGroup joined,
                         MemberGroup::JoinFromWelcome(tenant_->config(), newcomer->identity,
                                                      &newcomer->prekeys, *welcome, commit, state));
    const LeafIndex leaf = joined.own_leaf();
    seats_.erase(leaf);
    seats_.emplace(leaf, Seat{std::move(newcomer), std::move(joined)});
  }
  return absl::OkStatus();
}

absl::Status SimulatedGroup::Update(LeafIndex leaf) {
  ART_ASSIGN_OR_RETURN(PendingCommit pending, group(leaf).CreateUpdate());
  return Deliver(leaf, std::move(pending));
}

absl::Status SimulatedGroup::Add(LeafIndex adder, const std::string& member_id) {
  std::unique_ptr<TestMember> newcomer = tenant_->NewMember(member_id);
  ART_ASSIGN_OR_RETURN(PendingCommit pending, group(adder).CreateAdd(newcomer->TakeBundle()));
  return Deliver(adder, std::move(pending), std::move(newcomer));
}

absl::Status SimulatedGroup::Remove(LeafIndex remover, LeafIndex removed) {
  ART_ASSIGN_OR_RETURN(PendingCommit pending, group(remover).CreateRemove(removed));
  return Deliver(remover, std::move(pending));
}

bool SimulatedGroup::AllAgree() const {
  for (const auto& [leaf, seat] : seats_) {
    const MemberGroup& first = seats_.begin()->second.group;
    if (seat.group.epoch() != service_view_.epoch() || seat.group.tree_hash() != service_view_.tree_hash() ||
        seat.group.epoch_authenticator() != first.epoch_authenticator() ||
        seat.group.own_leaf() != leaf) {
      return false;
    }
  }
  return true;
}

}  // namespace art::testing
