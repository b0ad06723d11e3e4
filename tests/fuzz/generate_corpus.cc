// Writes the seed corpus of every fuzz target: realistic, valid inputs from one scripted session of a
// tenant with five members (setup, an update, a message, an add with its Welcome, a remove), built with
// //art/testing. Each seed is small and self-contained (see fuzz_inputs.proto).
//
//   bazel run //tests/fuzz:generate_corpus -- $PWD/tests/fuzz/corpus
//
// Keys are fresh on every run, so regenerating changes every file; commit the result only when the
// input formats or the protocol changed.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "art/protocol/member_group.h"
#include "art/requests/request_signature.h"
#include "art/testing/group_fixture.h"
#include "art/wire/fields.h"
#include "client/state_store.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/fuzz/service_fuzzing.h"

namespace artd::fuzz {
namespace {

using art::testing::TestMember;
using art::testing::TestTenant;
using art::testing::ValueOrDie;

std::string g_output_directory;

void WriteSeed(const std::string& target, const std::string& name, const google::protobuf::Message& input) {
  const std::filesystem::path directory = std::filesystem::path(g_output_directory) / target;
  std::filesystem::create_directories(directory);
  std::ofstream file(directory / name, std::ios::binary | std::ios::trunc);
  if (!input.SerializeToOstream(&file)) {
    fprintf(stderr, "cannot write %s/%s\n", target.c_str(), name.c_str());
    exit(1);
  }
  printf("%s/%s: %zu bytes\n", target.c_str(), name.c_str(), input.ByteSizeLong());
}

void OrDie(const absl::Status& status) {
  if (!status.ok()) {
    fprintf(stderr, "unexpected error: %s\n", status.ToString().c_str());
    abort();
  }
}

// The session every seed is cut from.
class Session {
 public:
  Session() : now_millis_(static_cast<uint64_t>(absl::ToUnixMillis(absl::Now()))) {}

  void Run() {
    for (int i = 0; i < 4; ++i) members_.push_back(tenant_.NewMember(absl::StrCat("member-", i), 2));
    for (const auto& member : members_) PublishAndUpload(*member);
    WriteSetupSeeds();

    std::vector<art::v1::PrekeyBundle> bundles;
    for (size_t i = 1; i < members_.size(); ++i) bundles.push_back(members_[i]->TakeBundle());
    const MemberDevice joiner_before = Device(*members_[1]);
    art::MemberGroup::Created created =
        ValueOrDie(art::MemberGroup::Create(tenant_.config(), members_[0]->identity, "group-1", bundles));
    setup_ = created.setup;
    WriteSeed("setup_fuzzer", "group_of_4", Setup(joiner_before, setup_));
    service_view_ =
        ValueOrDie(art::PublicGroup::FromSetup(kTenant, setup_, tenant_.config().trusted_tenant_keys));
    groups_.push_back(std::move(created.group));
    for (size_t i = 1; i < members_.size(); ++i) {
      groups_.push_back(ValueOrDie(art::MemberGroup::JoinFromSetup(tenant_.config(), members_[i]->identity,
                                                                   &members_[i]->prekeys, setup_)));
    }
    art::v1::CreateGroupRequest* create = Call().mutable_create_group();
    *create->mutable_setup() = setup_;
    SignAuth(create, art::kCreateGroupMethod, *members_[0]);
    Call().mutable_get_setup()->set_group_id("group-1");
    Call().mutable_get_group()->set_group_id("group-1");

    const art::v1::PublicGroupState state_0 = tenant_.PublicStateOf(service_view_);
    const std::string member_3_at_0 = SecretToString(ValueOrDie(groups_[3].Serialize()));

    // Epoch 0 -> 1: member 0 updates. Other commits made on epoch 0 are seeds for the public checks.
    art::PendingCommit update = ValueOrDie(groups_[0].CreateUpdate());
    art::PendingCommit add_at_0 =
        ValueOrDie(groups_[1].CreateAdd(tenant_.NewMember("member-x")->TakeBundle()));
    art::PendingCommit remove_at_0 = ValueOrDie(groups_[2].CreateRemove(1));
    WriteStoredGroupSeeds(update, add_at_0, remove_at_0);
    for (const auto& [name, pending] :
         {std::pair{"update", &update}, std::pair{"add", &add_at_0}, std::pair{"remove", &remove_at_0}}) {
      PublicCommitInput input;
      *input.add_trusted_tenant_keys() = art::ToField(tenant_.credential_key().public_key());
      *input.mutable_state() = state_0;
      *input.add_commits() = pending->commit;
      WriteSeed("public_commit_fuzzer", name, input);
    }
    const art::v1::Commit commit_1 = update.commit;
    Deliver(0, std::move(update));

    // A message at epoch 1, from member 2.
    const art::v1::ApplicationMessage message =
        ValueOrDie(groups_[2].Protect(1, art::AsBytes("hello, group")));
    PostMessage(*members_[2], message);
    Call().mutable_fetch_messages()->set_group_id("group-1");

    // Epoch 1 -> 2: member 1 adds member 4, who joins from the Welcome.
    members_.push_back(tenant_.NewMember("member-4", 1));
    PublishAndUpload(*members_[4]);
    Call().mutable_fetch_prekey_bundle()->set_member_id("member-4");
    Call().mutable_count_prekeys()->set_member_id("member-4");
    const MemberDevice newcomer_before = Device(*members_[4]);
    art::PendingCommit add = ValueOrDie(groups_[1].CreateAdd(members_[4]->TakeBundle()));
    const art::v1::Commit commit_2 = add.commit;
    const art::v1::Welcome welcome = *add.welcome;
    Deliver(1, std::move(add));
    const art::v1::PublicGroupState state_2 = tenant_.PublicStateOf(service_view_);
    groups_.push_back(ValueOrDie(art::MemberGroup::JoinFromWelcome(
        tenant_.config(), members_[4]->identity, &members_[4]->prekeys, welcome, commit_2, state_2)));
    WelcomeInput welcome_input;
    *welcome_input.mutable_device() = newcomer_before;
    *welcome_input.mutable_welcome() = welcome;
    *welcome_input.mutable_add_commit() = commit_2;
    *welcome_input.mutable_state_after() = state_2;
    WriteSeed("welcome_fuzzer", "add_to_group_of_4", welcome_input);
    Signed(Call().mutable_fetch_welcomes(), art::kFetchWelcomesMethod, *members_[4]);
    art::v1::AckWelcomeRequest* ack = Call().mutable_ack_welcome();
    ack->set_welcome_id(1);
    Signed(ack, art::kAckWelcomeMethod, *members_[4]);

    // Epoch 2 -> 3: member 2 removes member 3.
    art::PendingCommit remove = ValueOrDie(groups_[2].CreateRemove(3));
    const art::v1::Commit commit_3 = remove.commit;
    Deliver(2, std::move(remove));
    art::v1::ListCommitsRequest* list = Call().mutable_list_commits();
    list->set_group_id("group-1");
    Call().mutable_watch_group()->set_group_id("group-1");
    art::v1::GetGroupRequest* get_path = Call().mutable_get_group();
    get_path->set_group_id("group-1");
    get_path->set_member_leaf(2);

    // Member 3 from its stored state at epoch 0 through the whole session, removed at the end.
    MemberInput member_input;
    *member_input.mutable_device() = Device(*members_[3]);
    member_input.set_serialized_group(member_3_at_0);
    *member_input.add_events()->mutable_commit() = commit_1;
    *member_input.add_events()->mutable_message() = message;
    *member_input.add_events()->mutable_commit() = commit_2;
    *member_input.add_events()->mutable_commit() = commit_3;
    WriteSeed("member_fuzzer", "session_until_removed", member_input);
    // Member 4 at epoch 3, receiving a message from member 0.
    MemberInput newcomer_input;
    *newcomer_input.mutable_device() = Device(*members_[4]);
    newcomer_input.set_serialized_group(SecretToString(ValueOrDie(groups_[4].Serialize())));
    *newcomer_input.add_events()->mutable_message() =
        ValueOrDie(groups_[0].Protect(7, art::AsBytes("welcome!")));
    WriteSeed("member_fuzzer", "newcomer_receives", newcomer_input);
    PublicCommitInput history;
    *history.add_trusted_tenant_keys() = art::ToField(tenant_.credential_key().public_key());
    *history.mutable_state() = state_0;
    for (const art::v1::Commit* commit : {&commit_1, &commit_2, &commit_3}) *history.add_commits() = *commit;
    WriteSeed("public_commit_fuzzer", "history", history);

    // State blobs.
    art::v1::PutStateRequest* put = Call().mutable_put_state();
    put->set_name("groups");
    put->set_ciphertext("opaque ciphertext");
    Signed(put, art::kPutStateMethod, *members_[0]);
    art::v1::GetStateRequest* get = Call().mutable_get_state();
    get->set_name("groups");
    Signed(get, art::kGetStateMethod, *members_[0]);

    // An alarm about the first commit, raised by member 3 (who held its leaf in epoch 0), and the
    // tenant's list of alarms.
    art::v1::ReportAlarmRequest* report = Call().mutable_report_alarm();
    *report->mutable_commit() = commit_1;
    report->set_reason(art::v1::ALARM_REASON_COMMIT_REJECTED);
    report->set_detail("confirmation tag mismatch");
    report->set_reporter_leaf(groups_[3].own_leaf());
    SignAuth(report, art::kReportAlarmMethod, *members_[3]);
    Call().mutable_list_alarms();

    WriteServiceSeeds();
    WriteStateFileSeeds(member_3_at_0);
  }

 private:
  MemberDevice Device(const TestMember& member) const {
    return DeviceToInput(member.identity, member.prekeys, tenant_.config().trusted_tenant_keys);
  }

  static SetupInput Setup(const MemberDevice& device, const art::v1::Setup& setup) {
    SetupInput input;
    *input.mutable_device() = device;
    *input.mutable_setup() = setup;
    return input;
  }

  ServiceCall& Call() { return service_calls_.emplace_back(); }

  // Signs |request| for |member| at the session's clock, and keeps it as a request signature seed.
  template <typename Request>
  void Signed(Request* request, std::string_view method, const TestMember& member) {
    request->set_member_id(member.member_id());
    SignAuth(request, method, member);
  }
  template <typename Request>
  void SignAuth(Request* request, std::string_view method, const TestMember& member) {
    request->clear_auth();
    *request->mutable_auth() =
        ValueOrDie(art::SignRequest(member.identity.signing_key, kTenant, method, member.member_id(),
                                    art::RequestDigest(*request), now_millis_));
    SignedRequestInput input;
    input.set_signing_key(art::ToField(member.identity.signing_key.public_key()));
    const google::protobuf::FieldDescriptor* field =
        SignedRequestInput::descriptor()->FindFieldByName(ToSnakeCase(Request::descriptor()->name()));
    input.GetReflection()->MutableMessage(&input, field)->CopyFrom(*request);
    WriteSeed("request_signature_fuzzer", field->name(), input);
  }

  // "PublishIdentityRequest" -> "publish_identity".
  static std::string ToSnakeCase(std::string name) {
    name.resize(name.size() - std::string("Request").size());
    std::string snake;
    for (char c : name) {
      if (isupper(c) && !snake.empty()) snake += '_';
      snake += static_cast<char>(tolower(c));
    }
    return snake;
  }

  void PublishAndUpload(const TestMember& member) {
    art::v1::PublishIdentityRequest* publish = Call().mutable_publish_identity();
    *publish->mutable_credential() = member.identity.credential;
    SignAuth(publish, art::kPublishIdentityMethod, member);
    art::v1::UploadPrekeysRequest* upload = Call().mutable_upload_prekeys();
    *upload->mutable_signed_prekey() = member.signed_prekey;
    for (const art::v1::OneTimePrekey& prekey : member.one_time_prekeys)
      *upload->add_one_time_prekeys() = prekey;
    Signed(upload, art::kUploadPrekeysMethod, member);
  }

  void PostMessage(const TestMember& sender, const art::v1::ApplicationMessage& message) {
    art::v1::PostMessageRequest* post = Call().mutable_post_message();
    *post->mutable_message() = message;
    SignAuth(post, art::kPostMessageMethod, sender);
  }

  // The service accepts |pending|, its committer applies it and every other member processes it.
  void Deliver(size_t committer, art::PendingCommit pending) {
    art::v1::SubmitCommitRequest* submit = Call().mutable_submit_commit();
    *submit->mutable_commit() = pending.commit;
    if (pending.welcome.has_value()) *submit->mutable_welcome() = *pending.welcome;
    if (submitted_ == 0) SignAuth(submit, art::kSubmitCommitMethod, *members_[committer]);
    ++submitted_;
    service_view_.Apply(
        ValueOrDie(service_view_.StageCommit(pending.commit, tenant_.config().trusted_tenant_keys)));
    const art::v1::Commit commit = pending.commit;
    groups_[committer].ApplyPendingCommit(std::move(pending));
    for (size_t i = 0; i < groups_.size(); ++i) {
      if (i != committer && groups_[i].is_active()) OrDie(groups_[i].ProcessCommit(commit));
    }
  }

  void WriteSetupSeeds() {
    // A group of two, and one of a single member (no one joins: the Setup checks alone).
    std::unique_ptr<TestMember> creator = tenant_.NewMember("solo-0");
    std::unique_ptr<TestMember> joiner = tenant_.NewMember("solo-1");
    const MemberDevice joiner_before = Device(*joiner);
    art::MemberGroup::Created pair = ValueOrDie(
        art::MemberGroup::Create(tenant_.config(), creator->identity, "pair", {joiner->TakeBundle()}));
    WriteSeed("setup_fuzzer", "group_of_2", Setup(joiner_before, pair.setup));
    art::MemberGroup::Created solo =
        ValueOrDie(art::MemberGroup::Create(tenant_.config(), creator->identity, "solo", {}));
    WriteSeed("setup_fuzzer", "group_of_1", Setup(Device(*creator), solo.setup));
  }

  // Epoch 0's rows as the service stored them, with each commit made on epoch 0.
  void WriteStoredGroupSeeds(const art::PendingCommit& update, const art::PendingCommit& add,
                             const art::PendingCommit& remove) {
    google::protobuf::RepeatedPtrField<std::string> keys;
    *keys.Add() = art::ToField(tenant_.credential_key().public_key());
    FuzzedService service = ValueOrDie(StartFuzzedService(keys, now_millis_));
    art::v1::CreateGroupRequest create;
    *create.mutable_setup() = setup_;
    ValueOrDie(service.core->CreateGroup(kTenant, create));
    GroupHeaderRecord header = ValueOrDie(service.store->GroupHeader(kTenant, "group-1"));
    std::vector<NodeRecord> nodes;
    std::vector<LeafRecord> leaves;
    OrDie(service.store->LoadTree(kTenant, "group-1", 0, &nodes, &leaves));
    StoredGroupInput rows;
    *rows.mutable_tenant_credential_keys() = keys;
    rows.set_group_id("group-1");
    rows.set_leaf_count(header.leaf_count);
    rows.set_tree_hash(std::string(header.tree_hash.begin(), header.tree_hash.end()));
    rows.set_interim_transcript_hash(
        std::string(header.interim_transcript_hash.begin(), header.interim_transcript_hash.end()));
    rows.set_leftmost_blank_leaf(header.leftmost_blank_leaf);
    for (const LeafRecord& leaf : leaves) {
      StoredLeaf* row = rows.add_leaves();
      row->set_leaf(leaf.leaf);
      row->set_member_id(leaf.member_id);
      row->set_credential(leaf.credential);
      row->set_credential_hash(std::string(leaf.credential_hash.begin(), leaf.credential_hash.end()));
      row->set_signing_key(std::string(leaf.signing_key.begin(), leaf.signing_key.end()));
      row->set_keyed_by(leaf.keyed_by);
    }
    for (const NodeRecord& node : nodes) {
      StoredNode* row = rows.add_nodes();
      row->set_node(node.node);
      row->set_public_key(std::string(node.public_key.begin(), node.public_key.end()));
      row->set_hash(std::string(node.hash.begin(), node.hash.end()));
    }
    rows.set_member_leaf(2);
    for (const auto& [name, pending] :
         {std::pair{"update", &update}, std::pair{"add", &add}, std::pair{"remove", &remove}}) {
      StoredGroupInput input = rows;
      *input.mutable_submit()->mutable_commit() = pending->commit;
      if (pending->welcome.has_value()) *input.mutable_submit()->mutable_welcome() = *pending->welcome;
      WriteSeed("stored_group_fuzzer", name, input);
    }
  }

  void WriteServiceSeeds() {
    ServiceInput input;
    *input.add_tenant_credential_keys() = art::ToField(tenant_.credential_key().public_key());
    input.set_now_unix_millis(now_millis_);
    for (const ServiceCall& call : service_calls_) *input.add_calls() = call;
    // Every call of the session must succeed, or the seed would stop at its first refusal.
    FuzzedService service = ValueOrDie(StartFuzzedService(input.tenant_credential_keys(), now_millis_));
    for (const ServiceCall& call : input.calls()) OrDie(CallService(*service.core, call));
    WriteSeed("service_core_fuzzer", "session", input);
    ServiceInput without_keys = input;
    without_keys.clear_tenant_credential_keys();
    WriteSeed("service_core_fuzzer", "session_without_tenant_keys", without_keys);
  }

  // A member's stored group, as the SDK's file store writes it.
  void WriteStateFileSeeds(const std::string& serialized_group) {
    char directory[] = "/tmp/generate_corpus.XXXXXX";
    if (mkdtemp(directory) == nullptr) abort();
    const art::SecretBytes key(art::AsBytes(std::string(32, '\x42')));
    std::unique_ptr<client::StateStore> store = ValueOrDie(client::OpenFileStateStore(directory, key));
    const art::SecretBytes plaintext(art::AsBytes(serialized_group));
    ValueOrDie(store->Store("group-1", 0, plaintext));
    ValueOrDie(store->Store("group-1", 1, plaintext));
    const std::filesystem::path path =
        std::filesystem::path(directory) / ("s-" + art::ToHex(art::AsBytes(std::string("group-1"))));
    std::ifstream file(path, std::ios::binary);
    StateFileInput input;
    input.set_key(SecretToString(key));
    input.set_name("group-1");
    input.set_file_contents(
        std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()));
    WriteSeed("state_file_fuzzer", "group_state_version_2", input);
    std::filesystem::remove_all(directory);
  }

  TestTenant tenant_{kTenant};
  const uint64_t now_millis_;
  std::vector<std::unique_ptr<TestMember>> members_;
  std::vector<art::MemberGroup> groups_;
  art::v1::Setup setup_;
  art::PublicGroup service_view_;
  std::vector<ServiceCall> service_calls_;
  int submitted_ = 0;
};

}  // namespace
}  // namespace artd::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s OUTPUT_DIRECTORY (tests/fuzz/corpus)\n", argv[0]);
    return 2;
  }
  artd::fuzz::g_output_directory = argv[1];
  artd::fuzz::Session().Run();
  return 0;
}
