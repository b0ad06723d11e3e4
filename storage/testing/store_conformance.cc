#include "storage/testing/store_conformance.h"

#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "art/base/status_macros.h"
#include "art/tree/tree_math.h"
#include "gmock/gmock.h"

namespace artd {
namespace store_testing {

Bytes B(const std::string& text) { return Bytes(text.begin(), text.end()); }

GroupHeaderRecord TestHeader(uint64_t epoch, uint32_t leaf_count, const std::string& tag) {
  GroupHeaderRecord header;
  header.epoch = epoch;
  header.leaf_count = leaf_count;
  header.tree_hash = B(absl::StrCat("tree-hash:", tag));
  header.interim_transcript_hash = B(absl::StrCat("interim:", tag));
  header.leftmost_blank_leaf = kNoLeafValue;
  return header;
}

NodeRecord TestNode(NodeIndex node, const std::string& tag) {
  return NodeRecord{node, B(absl::StrCat("pk:", node, ":", tag)), B(absl::StrCat("hash:", node, ":", tag))};
}

LeafRecord TestLeaf(LeafIndex leaf, const std::string& member_id, const std::string& tag) {
  LeafRecord record;
  record.leaf = leaf;
  record.member_id = member_id;
  if (!member_id.empty()) {
    record.credential = absl::StrCat("credential:", member_id);
    record.credential_hash = B(absl::StrCat("cred-hash:", member_id));
    record.signing_key = B(absl::StrCat("sig:", member_id, ":", tag));
  }
  record.keyed_by = kNoLeafValue;
  return record;
}

absl::Status CreateTestGroup(Store& store, const std::string& tenant_id, const std::string& group_id,
                             uint32_t leaf_count) {
  std::vector<LeafRecord> leaves;
  for (LeafIndex leaf = 0; leaf < leaf_count; ++leaf) {
    leaves.push_back(TestLeaf(leaf, absl::StrCat("member-", leaf), "e0"));
  }
  std::vector<NodeRecord> nodes;
  for (NodeIndex node = 0; node < art::NodeWidth(leaf_count); ++node) nodes.push_back(TestNode(node, "e0"));
  return store.CreateGroup(tenant_id, group_id, TestHeader(0, leaf_count, "e0"), leaves, nodes,
                           absl::StrCat("setup:", group_id));
}

CommitWrite TestCommit(uint64_t expected_epoch, uint32_t leaf_count, const std::string& tag) {
  CommitWrite write;
  write.expected_epoch = expected_epoch;
  write.new_header = TestHeader(expected_epoch + 1, leaf_count, tag);
  write.nodes.push_back(TestNode(art::LeafToNode(0), tag));
  for (NodeIndex node : art::DirectPath(art::LeafToNode(0), leaf_count)) write.nodes.push_back(TestNode(node, tag));
  write.leaves.push_back(TestLeaf(0, "member-0", tag));
  write.commit = absl::StrCat("commit:", tag);
  return write;
}

std::vector<std::pair<uint32_t, std::string>> TestOneTimePrekeys(uint32_t first, uint32_t count) {
  std::vector<std::pair<uint32_t, std::string>> prekeys;
  for (uint32_t id = first; id < first + count; ++id) prekeys.emplace_back(id, absl::StrCat("opk-", id));
  return prekeys;
}

absl::Status PublishTestMember(Store& store, const std::string& tenant_id, const std::string& member_id,
                               uint32_t one_time_count) {
  absl::Status status = store.PutIdentity(tenant_id, member_id, absl::StrCat("credential:", member_id));
  if (!status.ok()) return status;
  return store
      .PutPrekeys(tenant_id, member_id, absl::StrCat("spk:", member_id), 1, 2000000000,
                  TestOneTimePrekeys(1, one_time_count), one_time_count)
      .status();
}

void StoreConformance::SetUp() {
  store_ = GetParam()();
  ASSERT_NE(store_, nullptr);
  ASSERT_TRUE(store_->CreateTenant(kTenantA).ok());
  ASSERT_TRUE(store_->CreateTenant(kTenantB).ok());
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StoreConformance);

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

using ::art::StatusOf;

#define STORE_CONCAT_INNER(a, b) a##b
#define STORE_CONCAT(a, b) STORE_CONCAT_INNER(a, b)
// Each evaluates |expression| once (a retry would have side effects) and prints the status on failure.
#define EXPECT_OK(expression)                                 \
  do {                                                        \
    const absl::Status store_status = StatusOf(expression);   \
    EXPECT_TRUE(store_status.ok()) << store_status;           \
  } while (false)
#define ASSERT_OK(expression)                                 \
  do {                                                        \
    const absl::Status store_status = StatusOf(expression);   \
    ASSERT_TRUE(store_status.ok()) << store_status;           \
  } while (false)
#define EXPECT_CODE(expression, expected_code)                              \
  do {                                                                      \
    const absl::Status store_status = StatusOf(expression);                 \
    EXPECT_EQ(store_status.code(), absl::StatusCode::expected_code) << store_status; \
  } while (false)
#define ASSERT_OK_AND_ASSIGN(declaration, expression) \
  ASSERT_OK_AND_ASSIGN_IMPL(STORE_CONCAT(store_statusor_, __LINE__), declaration, expression)
#define ASSERT_OK_AND_ASSIGN_IMPL(statusor, declaration, expression) \
  auto statusor = (expression);                                      \
  ASSERT_TRUE(statusor.ok()) << statusor.status();                   \
  declaration = std::move(statusor).value()

constexpr const char* kGroup = "group-1";
constexpr uint32_t kLeaves = 4;
constexpr uint64_t kNow = 1700000000000;

// The listed nodes or leaves as of |epoch|, through ReadGroupView.
absl::StatusOr<std::vector<NodeRecord>> NodesAt(Store& store, const std::string& tenant_id,
                                                const std::string& group_id, uint64_t epoch,
                                                std::vector<NodeIndex> nodes) {
  absl::StatusOr<GroupView> view = store.ReadGroupView(
      tenant_id, group_id, [&](const GroupHeaderRecord&) -> absl::StatusOr<TreeSelection> {
        return TreeSelection{epoch, nodes, {}};
      });
  if (!view.ok()) return view.status();
  return view->nodes;
}

absl::StatusOr<std::vector<LeafRecord>> LeavesAt(Store& store, const std::string& tenant_id,
                                                 const std::string& group_id, uint64_t epoch,
                                                 std::vector<LeafIndex> leaves) {
  absl::StatusOr<GroupView> view = store.ReadGroupView(
      tenant_id, group_id, [&](const GroupHeaderRecord&) -> absl::StatusOr<TreeSelection> {
        return TreeSelection{epoch, {}, leaves};
      });
  if (!view.ok()) return view.status();
  return view->leaves;
}

std::vector<std::string> PublicKeysOf(const std::vector<NodeRecord>& nodes) {
  std::vector<std::string> keys;
  for (const NodeRecord& node : nodes) keys.push_back(absl::StrCat(node.node, "=", std::string(node.public_key.begin(), node.public_key.end())));
  return keys;
}

std::vector<std::string> MembersOf(const std::vector<LeafRecord>& leaves) {
  std::vector<std::string> members;
  for (const LeafRecord& leaf : leaves) members.push_back(absl::StrCat(leaf.leaf, "=", leaf.member_id));
  return members;
}

std::vector<uint64_t> EpochsOf(const std::vector<StoredCommit>& commits) {
  std::vector<uint64_t> epochs;
  for (const StoredCommit& commit : commits) epochs.push_back(commit.epoch);
  return epochs;
}

std::vector<uint64_t> SequencesOf(const std::vector<StoredMessageRecord>& messages) {
  std::vector<uint64_t> sequences;
  for (const StoredMessageRecord& message : messages) sequences.push_back(message.sequence);
  return sequences;
}

// Runs |body(thread_index)| on |threads| threads released together.
void RunConcurrently(int threads, const std::function<void(int)>& body) {
  absl::Notification start;
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i) {
    workers.emplace_back([&, i] {
      start.WaitForNotification();
      body(i);
    });
  }
  start.Notify();
  for (std::thread& worker : workers) worker.join();
}

// ---- Tenants, API keys, credential keys ----

TEST_P(StoreConformance, TenantsAndApiKeys) {
  EXPECT_CODE(store_->CreateTenant(kTenantA), kAlreadyExists);
  EXPECT_CODE(store_->AddApiKey("no-such-tenant", "key-0", B("hash-0")), kNotFound);

  ASSERT_OK(store_->AddApiKey(kTenantA, "key-1", B("hash-1")));
  ASSERT_OK(store_->AddApiKey(kTenantB, "key-2", B("hash-2")));
  EXPECT_CODE(store_->AddApiKey(kTenantA, "key-1", B("hash-3")), kAlreadyExists);
  EXPECT_EQ(store_->TenantForApiKey(B("hash-1")).value_or(""), kTenantA);
  EXPECT_EQ(store_->TenantForApiKey(B("hash-2")).value_or(""), kTenantB);
  EXPECT_CODE(store_->TenantForApiKey(B("hash-unknown")), kNotFound);

  ASSERT_OK(store_->RevokeApiKey("key-1"));
  EXPECT_CODE(store_->TenantForApiKey(B("hash-1")), kNotFound);
  EXPECT_EQ(store_->TenantForApiKey(B("hash-2")).value_or(""), kTenantB);
  EXPECT_CODE(store_->RevokeApiKey("key-unknown"), kNotFound);
}

TEST_P(StoreConformance, TenantCredentialKeys) {
  ASSERT_OK_AND_ASSIGN(std::vector<Bytes> none, store_->TenantCredentialKeys(kTenantA));
  EXPECT_THAT(none, IsEmpty());
  ASSERT_OK(store_->AddTenantCredentialKey(kTenantA, B("cred-key-1")));
  ASSERT_OK(store_->AddTenantCredentialKey(kTenantA, B("cred-key-2")));
  EXPECT_CODE(store_->AddTenantCredentialKey(kTenantA, B("cred-key-1")), kAlreadyExists);
  EXPECT_CODE(store_->AddTenantCredentialKey("no-such-tenant", B("cred-key-1")), kNotFound);
  ASSERT_OK_AND_ASSIGN(std::vector<Bytes> keys, store_->TenantCredentialKeys(kTenantA));
  EXPECT_THAT(keys, ElementsAre(B("cred-key-1"), B("cred-key-2")));
  EXPECT_CODE(store_->TenantCredentialKeys("no-such-tenant"), kNotFound);
}

TEST_P(StoreConformance, ClientCertificateBindings) {
  EXPECT_CODE(store_->TenantForClientCertificate(B("fingerprint-1")), kNotFound);
  EXPECT_CODE(store_->BindClientCertificate("no-such-tenant", B("fingerprint-1")), kNotFound);
  ASSERT_OK(store_->BindClientCertificate(kTenantA, B("fingerprint-1")));
  ASSERT_OK(store_->BindClientCertificate(kTenantB, B("fingerprint-2")));
  // One certificate names one tenant.
  EXPECT_CODE(store_->BindClientCertificate(kTenantB, B("fingerprint-1")), kAlreadyExists);
  EXPECT_EQ(store_->TenantForClientCertificate(B("fingerprint-1")).value_or(""), kTenantA);
  EXPECT_EQ(store_->TenantForClientCertificate(B("fingerprint-2")).value_or(""), kTenantB);

  ASSERT_OK(store_->UnbindClientCertificate(B("fingerprint-1")));
  EXPECT_CODE(store_->TenantForClientCertificate(B("fingerprint-1")), kNotFound);
  EXPECT_CODE(store_->UnbindClientCertificate(B("fingerprint-1")), kNotFound);
  EXPECT_EQ(store_->TenantForClientCertificate(B("fingerprint-2")).value_or(""), kTenantB);
  // Unbound, it may be bound again (to another tenant).
  ASSERT_OK(store_->BindClientCertificate(kTenantB, B("fingerprint-1")));
  EXPECT_EQ(store_->TenantForClientCertificate(B("fingerprint-1")).value_or(""), kTenantB);
}

// ---- Usage counts ----

MATCHER_P3(IsUsage, tenant_id, groups, members, "") {
  return arg.tenant_id == tenant_id && arg.groups == static_cast<uint64_t>(groups) &&
         arg.members == static_cast<uint64_t>(members);
}

TEST_P(StoreConformance, TenantUsageCountsGroupsAndCurrentMembers) {
  ASSERT_OK_AND_ASSIGN(std::vector<TenantUsage> empty, store_->CountTenantUsage());
  EXPECT_THAT(empty, ElementsAre(IsUsage(kTenantA, 0, 0), IsUsage(kTenantB, 0, 0)));

  ASSERT_OK(CreateTestGroup(*store_, kTenantA, "g1", 4));
  ASSERT_OK(CreateTestGroup(*store_, kTenantA, "g2", 2));
  ASSERT_OK(CreateTestGroup(*store_, kTenantB, "g1", 3));
  ASSERT_OK(store_->CreateTenant("tenant-c"));
  ASSERT_OK_AND_ASSIGN(std::vector<TenantUsage> created, store_->CountTenantUsage());
  EXPECT_THAT(created, ElementsAre(IsUsage(kTenantA, 2, 6), IsUsage(kTenantB, 1, 3), IsUsage("tenant-c", 0, 0)));

  // A commit that blanks a leaf leaves one member fewer; the old version of the leaf does not count.
  CommitWrite remove = TestCommit(0, 4, "remove");
  remove.leaves.push_back(TestLeaf(3, "", "remove"));
  ASSERT_OK(store_->ApplyCommit(kTenantA, "g1", remove));
  ASSERT_OK_AND_ASSIGN(std::vector<TenantUsage> after, store_->CountTenantUsage());
  EXPECT_THAT(after, ElementsAre(IsUsage(kTenantA, 2, 5), IsUsage(kTenantB, 1, 3), IsUsage("tenant-c", 0, 0)));
}

// ---- Nonces ----

TEST_P(StoreConformance, RequestNonceReplayIsRefusedUntilPurged) {
  const uint64_t expiry = kNow + 1000;
  ASSERT_OK(store_->RecordRequestNonce(kTenantA, "alice", B("nonce-1"), expiry));
  EXPECT_CODE(store_->RecordRequestNonce(kTenantA, "alice", B("nonce-1"), expiry), kAlreadyExists);
  // The key is (tenant, member, nonce).
  EXPECT_OK(store_->RecordRequestNonce(kTenantA, "bob", B("nonce-1"), expiry));
  EXPECT_OK(store_->RecordRequestNonce(kTenantB, "alice", B("nonce-1"), expiry));
  EXPECT_CODE(store_->RecordRequestNonce("no-such-tenant", "alice", B("nonce-1"), expiry), kNotFound);

  ASSERT_OK(store_->PurgeExpired(expiry - 1));  // Not yet expired: kept.
  EXPECT_CODE(store_->RecordRequestNonce(kTenantA, "alice", B("nonce-1"), expiry), kAlreadyExists);
  ASSERT_OK(store_->PurgeExpired(expiry));
  EXPECT_OK(store_->RecordRequestNonce(kTenantA, "alice", B("nonce-1"), expiry + 1000));
}

// ---- Identities and prekeys ----

TEST_P(StoreConformance, IdentityPutTwice) {
  EXPECT_CODE(store_->GetIdentity(kTenantA, "alice"), kNotFound);
  ASSERT_OK(store_->PutIdentity(kTenantA, "alice", "credential-1"));
  EXPECT_OK(store_->PutIdentity(kTenantA, "alice", "credential-1"));  // Same: a no-op.
  EXPECT_CODE(store_->PutIdentity(kTenantA, "alice", "credential-2"), kAlreadyExists);
  EXPECT_EQ(store_->GetIdentity(kTenantA, "alice").value_or(""), "credential-1");
  EXPECT_CODE(store_->PutIdentity("no-such-tenant", "alice", "credential-1"), kNotFound);
}

TEST_P(StoreConformance, PrekeyCountsDuplicatesAndLimit) {
  ASSERT_OK_AND_ASSIGN(PrekeyCounts empty, store_->CountPrekeys(kTenantA, "alice"));
  EXPECT_EQ(empty.one_time_remaining, 0u);
  EXPECT_FALSE(empty.signed_prekey_id.has_value());

  ASSERT_OK_AND_ASSIGN(PrekeyCounts counts,
                       store_->PutPrekeys(kTenantA, "alice", "spk-7", 7, 5000, TestOneTimePrekeys(1, 3), 5));
  EXPECT_EQ(counts.one_time_remaining, 3u);
  EXPECT_EQ(counts.signed_prekey_id, 7u);
  EXPECT_EQ(counts.signed_prekey_expiry_unix_seconds, 5000u);

  // A duplicate id (3) refuses the whole call: neither the new signed prekey nor id 4 is written.
  EXPECT_CODE(store_->PutPrekeys(kTenantA, "alice", "spk-8", 8, 6000, TestOneTimePrekeys(3, 2), 5),
              kAlreadyExists);
  // Over the limit: 3 + 3 > 5, nothing written either.
  EXPECT_CODE(store_->PutPrekeys(kTenantA, "alice", "spk-8", 8, 6000, TestOneTimePrekeys(10, 3), 5),
              kResourceExhausted);
  ASSERT_OK_AND_ASSIGN(PrekeyCounts unchanged, store_->CountPrekeys(kTenantA, "alice"));
  EXPECT_EQ(unchanged.one_time_remaining, 3u);
  EXPECT_EQ(unchanged.signed_prekey_id, 7u);

  // Up to the limit is fine; an empty signed prekey leaves the stored one alone.
  ASSERT_OK_AND_ASSIGN(PrekeyCounts full, store_->PutPrekeys(kTenantA, "alice", "", 0, 0, TestOneTimePrekeys(4, 2), 5));
  EXPECT_EQ(full.one_time_remaining, 5u);
  EXPECT_EQ(full.signed_prekey_id, 7u);
  // Replacing the signed prekey.
  ASSERT_OK_AND_ASSIGN(PrekeyCounts replaced, store_->PutPrekeys(kTenantA, "alice", "spk-9", 9, 7000, {}, 5));
  EXPECT_EQ(replaced.signed_prekey_id, 9u);
  EXPECT_EQ(replaced.signed_prekey_expiry_unix_seconds, 7000u);
  EXPECT_EQ(replaced.one_time_remaining, 5u);
}

TEST_P(StoreConformance, PrekeyBundleTakesEachOneTimePrekeyOnceLowestFirst) {
  EXPECT_CODE(store_->TakePrekeyBundle(kTenantA, "alice"), kNotFound);  // No identity.
  ASSERT_OK(store_->PutIdentity(kTenantA, "alice", "credential:alice"));
  EXPECT_CODE(store_->TakePrekeyBundle(kTenantA, "alice"), kNotFound);  // No signed prekey.

  ASSERT_OK(store_->PutPrekeys(kTenantA, "alice", "spk-1", 1, 5000, {{3, "opk-3"}, {1, "opk-1"}, {2, "opk-2"}}, 10));
  std::vector<std::string> taken;
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(TakenBundle bundle, store_->TakePrekeyBundle(kTenantA, "alice"));
    EXPECT_EQ(bundle.credential, "credential:alice");
    EXPECT_EQ(bundle.signed_prekey, "spk-1");
    taken.push_back(bundle.one_time_prekey);
  }
  EXPECT_THAT(taken, ElementsAre("opk-1", "opk-2", "opk-3"));
  // None left: the bundle still comes, without a one-time prekey.
  ASSERT_OK_AND_ASSIGN(TakenBundle last, store_->TakePrekeyBundle(kTenantA, "alice"));
  EXPECT_EQ(last.signed_prekey, "spk-1");
  EXPECT_EQ(last.one_time_prekey, "");
  EXPECT_EQ(store_->CountPrekeys(kTenantA, "alice").value().one_time_remaining, 0u);
}

// ---- Groups ----

TEST_P(StoreConformance, CreateGroupAndHeaders) {
  ASSERT_OK(CreateTestGroup(*store_, kTenantA, kGroup, kLeaves));
  EXPECT_CODE(CreateTestGroup(*store_, kTenantA, kGroup, kLeaves), kAlreadyExists);
  EXPECT_CODE(CreateTestGroup(*store_, "no-such-tenant", kGroup, kLeaves), kNotFound);

  ASSERT_OK_AND_ASSIGN(GroupHeaderRecord header, store_->GroupHeader(kTenantA, kGroup));
  EXPECT_EQ(header.epoch, 0u);
  EXPECT_EQ(header.leaf_count, kLeaves);
  EXPECT_EQ(header.tree_hash, B("tree-hash:e0"));
  EXPECT_EQ(header.interim_transcript_hash, B("interim:e0"));
  EXPECT_EQ(header.leftmost_blank_leaf, kNoLeafValue);

  ASSERT_OK(store_->ApplyCommit(kTenantA, kGroup, TestCommit(0, kLeaves, "e1")));
  ASSERT_OK_AND_ASSIGN(GroupHeaderRecord current, store_->GroupHeader(kTenantA, kGroup));
  EXPECT_EQ(current.epoch, 1u);
  EXPECT_EQ(current.tree_hash, B("tree-hash:e1"));
  ASSERT_OK_AND_ASSIGN(GroupHeaderRecord at_zero, store_->GroupHeader(kTenantA, kGroup, 0));
  EXPECT_EQ(at_zero.tree_hash, B("tree-hash:e0"));

  absl::Status unknown_epoch = store_->GroupHeader(kTenantA, kGroup, 2).status();
  EXPECT_EQ(unknown_epoch.code(), absl::StatusCode::kNotFound);
  absl::Status unknown_group = store_->GroupHeader(kTenantA, "no-such-group").status();
  EXPECT_EQ(unknown_group.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(unknown_group.message()), HasSubstr("no-such-group"));
}

TEST_P(StoreConformance, VersionedTreeReads) {
  ASSERT_OK(CreateTestGroup(*store_, kTenantA, kGroup, kLeaves));
  // Epoch 1 rewrites leaf 0's path (nodes 0, 1, 3); epoch 2 blanks leaf 2 and rewrites node 5.
  ASSERT_OK(store_->ApplyCommit(kTenantA, kGroup, TestCommit(0, kLeaves, "e1")));
  CommitWrite blank = TestCommit(1, kLeaves, "e2");
  blank.nodes = {TestNode(5, "e2")};
  blank.leaves = {TestLeaf(2, "", "e2")};
  ASSERT_OK(store_->ApplyCommit(kTenantA, kGroup, blank));

  const std::vector<NodeIndex> some = {0, 1, 5, 99};  // 99 does not exist: omitted.
  ASSERT_OK_AND_ASSIGN(std::vector<NodeRecord> at0, NodesAt(*store_, kTenantA, kGroup, 0, some));
  EXPECT_THAT(PublicKeysOf(at0), ElementsAre("0=pk:0:e0", "1=pk:1:e0", "5=pk:5:e0"));
  ASSERT_OK_AND_ASSIGN(std::vector<NodeRecord> at1, NodesAt(*store_, kTenantA, kGroup, 1, some));
  EXPECT_THAT(PublicKeysOf(at1), ElementsAre("0=pk:0:e1", "1=pk:1:e1", "5=pk:5:e0"));
  ASSERT_OK_AND_ASSIGN(std::vector<NodeRecord> at2, NodesAt(*store_, kTenantA, kGroup, 2, some));
  EXPECT_THAT(PublicKeysOf(at2), ElementsAre("0=pk:0:e1", "1=pk:1:e1", "5=pk:5:e2"));
  EXPECT_EQ(at2[2].hash, B("hash:5:e2"));

  const std::vector<LeafIndex> leaves = {0, 2};
  ASSERT_OK_AND_ASSIGN(std::vector<LeafRecord> leaves1, LeavesAt(*store_, kTenantA, kGroup, 1, leaves));
  EXPECT_THAT(MembersOf(leaves1), ElementsAre("0=member-0", "2=member-2"));
  EXPECT_EQ(leaves1[0].signing_key, B("sig:member-0:e1"));
  EXPECT_EQ(leaves1[1].credential, "credential:member-2");
  EXPECT_EQ(leaves1[1].credential_hash, B("cred-hash:member-2"));
  EXPECT_EQ(leaves1[1].keyed_by, kNoLeafValue);
  ASSERT_OK_AND_ASSIGN(std::vector<LeafRecord> leaves2, LeavesAt(*store_, kTenantA, kGroup, 2, leaves));
  EXPECT_THAT(MembersOf(leaves2), ElementsAre("0=member-0", "2="));
  EXPECT_EQ(leaves2[1].credential, "");

  std::vector<NodeRecord> tree_nodes;
  std::vector<LeafRecord> tree_leaves;
  ASSERT_OK(store_->LoadTree(kTenantA, kGroup, 1, &tree_nodes, &tree_leaves));
  EXPECT_THAT(PublicKeysOf(tree_nodes), ElementsAre("0=pk:0:e1", "1=pk:1:e1", "2=pk:2:e0", "3=pk:3:e1",
                                                    "4=pk:4:e0", "5=pk:5:e0", "6=pk:6:e0"));
  EXPECT_THAT(MembersOf(tree_leaves), ElementsAre("0=member-0", "1=member-1", "2=member-2", "3=member-3"));
  ASSERT_OK(store_->LoadTree(kTenantA, kGroup, 2, &tree_nodes, &tree_leaves));
  EXPECT_THAT(PublicKeysOf(tree_nodes), ElementsAre("0=pk:0:e1", "1=pk:1:e1", "2=pk:2:e0", "3=pk:3:e1",
                                                    "4=pk:4:e0", "5=pk:5:e2", "6=pk:6:e0"));
  EXPECT_THAT(MembersOf(tree_leaves), ElementsAre("0=member-0", "1=member-1", "2=", "3=member-3"));

  EXPECT_CODE(NodesAt(*store_, kTenantA, kGroup, 3, some), kNotFound);
  EXPECT_CODE(LeavesAt(*store_, kTenantA, "no-such-group", 0, leaves), kNotFound);
  EXPECT_CODE(store_->LoadTree(kTenantA, kGroup, 3, &tree_nodes, &tree_leaves), kNotFound);
}

TEST_P(StoreConformance, GroupViewSelectsFromTheCurrentHeaderInOneRead) {
  ASSERT_OK(CreateTestGroup(*store_, kTenantA, kGroup, kLeaves));
  ASSERT_OK(store_->ApplyCommit(kTenantA, kGroup, TestCommit(0, kLeaves, "e1")));
  // The selection sees the current header and may read an older retained epoch.
  uint64_t seen_epoch = 99;
  ASSERT_OK_AND_ASSIGN(GroupView view,
                       store_->ReadGroupView(kTenantA, kGroup, [&](const GroupHeaderRecord& current)
                                                                   -> absl::StatusOr<TreeSelection> {
                         seen_epoch = current.epoch;
                         return TreeSelection{current.epoch - 1, {3, 1, 99}, {1, 0}};
                       }));
  EXPECT_EQ(seen_epoch, 1u);
  EXPECT_EQ(view.current.epoch, 1u);
  EXPECT_EQ(view.current.tree_hash, B("tree-hash:e1"));
  EXPECT_EQ(view.current.leaf_count, kLeaves);
  EXPECT_THAT(PublicKeysOf(view.nodes), ElementsAre("3=pk:3:e0", "1=pk:1:e0"));  // In the order asked.
  EXPECT_THAT(MembersOf(view.leaves), ElementsAre("1=member-1", "0=member-0"));
  // An error from the selection is returned as it is.
  EXPECT_CODE(store_->ReadGroupView(kTenantA, kGroup,
                                    [](const GroupHeaderRecord&) -> absl::StatusOr<TreeSelection> {
                                      return absl::FailedPreconditionError("chosen by the caller");
                                    }),
              kFailedPrecondition);
  // An epoch the group never reached, and an unknown group (whose selection is never called).
  EXPECT_CODE(NodesAt(*store_, kTenantA, kGroup, 2, {0}), kNotFound);
  bool called = false;
  EXPECT_CODE(store_->ReadGroupView(kTenantA, "no-such-group",
                                    [&](const GroupHeaderRecord&) -> absl::StatusOr<TreeSelection> {
                                      called = true;
                                      return TreeSelection{};
                                    }),
              kNotFound);
  EXPECT_FALSE(called);
}

TEST_P(StoreConformance, StaleCommitIsAbortedAndWritesNothing) {
  ASSERT_OK(CreateTestGroup(*store_, kTenantA, kGroup, kLeaves));
  ASSERT_OK(store_->ApplyCommit(kTenantA, kGroup, TestCommit(0, kLeaves, "winner")));

  CommitWrite stale = TestCommit(0, kLeaves, "loser");
  stale.welcome = "welcome:loser";
  stale.welcome_member_id = "newcomer";
  absl::Status status = store_->ApplyCommit(kTenantA, kGroup, stale);
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(std::string(status.message()), HasSubstr("current epoch 1"));
  // Also a commit from the future.
  EXPECT_CODE(store_->ApplyCommit(kTenantA, kGroup, TestCommit(5, kLeaves, "future")), kAborted);
  EXPECT_CODE(store_->ApplyCommit(kTenantA, "no-such-group", TestCommit(0, kLeaves, "x")), kNotFound);

  ASSERT_OK_AND_ASSIGN(GroupHeaderRecord header, store_->GroupHeader(kTenantA, kGroup));
  EXPECT_EQ(header.epoch, 1u);
  EXPECT_EQ(header.tree_hash, B("tree-hash:winner"));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredCommit> commits, store_->ListCommits(kTenantA, kGroup, 0, 10));
  ASSERT_THAT(commits, SizeIs(1));
  EXPECT_EQ(commits[0].commit, "commit:winner");
  ASSERT_OK_AND_ASSIGN(std::vector<NodeRecord> nodes, NodesAt(*store_, kTenantA, kGroup, 1, {1}));
  EXPECT_THAT(PublicKeysOf(nodes), ElementsAre("1=pk:1:winner"));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredWelcome> welcomes, store_->FetchWelcomes(kTenantA, "newcomer"));
  EXPECT_THAT(welcomes, IsEmpty());
}

TEST_P(StoreConformance, ListCommitsOrderAndLimit) {
  ASSERT_OK(CreateTestGroup(*store_, kTenantA, kGroup, kLeaves));
  for (uint64_t epoch = 0; epoch < 5; ++epoch) {
    ASSERT_OK(store_->ApplyCommit(kTenantA, kGroup, TestCommit(epoch, kLeaves, absl::StrCat("e", epoch + 1))));
  }
  ASSERT_OK_AND_ASSIGN(std::vector<StoredCommit> all, store_->ListCommits(kTenantA, kGroup, 0, 100));
  EXPECT_THAT(EpochsOf(all), ElementsAre(1, 2, 3, 4, 5));
  EXPECT_EQ(all[0].commit, "commit:e1");
  EXPECT_EQ(all[4].commit, "commit:e5");
  ASSERT_OK_AND_ASSIGN(std::vector<StoredCommit> page, store_->ListCommits(kTenantA, kGroup, 2, 2));
  EXPECT_THAT(EpochsOf(page), ElementsAre(3, 4));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredCommit> none, store_->ListCommits(kTenantA, kGroup, 5, 10));
  EXPECT_THAT(none, IsEmpty());
  EXPECT_CODE(store_->ListCommits(kTenantA, "no-such-group", 0, 10), kNotFound);
}

TEST_P(StoreConformance, FindMemberLeafAtCurrentEpoch) {
  ASSERT_OK(CreateTestGroup(*store_, kTenantA, kGroup, kLeaves));
  EXPECT_EQ(store_->FindMemberLeaf(kTenantA, kGroup, "member-2").value_or(0), 2u);
  EXPECT_EQ(store_->FindMemberLeaf(kTenantA, kGroup, "stranger").value_or(0), kNoLeafValue);
  EXPECT_CODE(store_->FindMemberLeaf(kTenantA, "no-such-group", "member-2"), kNotFound);

  // Remove member-2 (its leaf goes blank), then add "newcomer" into that leaf.
  CommitWrite remove = TestCommit(0, kLeaves, "e1");
  remove.leaves = {TestLeaf(2, "", "e1")};
  ASSERT_OK(store_->ApplyCommit(kTenantA, kGroup, remove));
  EXPECT_EQ(store_->FindMemberLeaf(kTenantA, kGroup, "member-2").value_or(0), kNoLeafValue);
  CommitWrite add = TestCommit(1, kLeaves, "e2");
  add.leaves = {TestLeaf(2, "newcomer", "e2")};
  ASSERT_OK(store_->ApplyCommit(kTenantA, kGroup, add));
  EXPECT_EQ(store_->FindMemberLeaf(kTenantA, kGroup, "newcomer").value_or(0), 2u);
  EXPECT_EQ(store_->FindMemberLeaf(kTenantA, kGroup, "member-2").value_or(0), kNoLeafValue);
  EXPECT_EQ(store_->FindMemberLeaf(kTenantA, kGroup, "member-3").value_or(0), 3u);
}

TEST_P(StoreConformance, NextBlankLeafFollowsRemovesAndAdds) {
  ASSERT_OK(CreateTestGroup(*store_, kTenantA, kGroup, kLeaves));
  EXPECT_EQ(store_->NextBlankLeaf(kTenantA, kGroup, 0).value_or(0), kNoLeafValue);
  CommitWrite remove_one = TestCommit(0, kLeaves, "e1");
  remove_one.leaves = {TestLeaf(1, "", "e1")};
  ASSERT_OK(store_->ApplyCommit(kTenantA, kGroup, remove_one));
  CommitWrite remove_three = TestCommit(1, kLeaves, "e2");
  remove_three.leaves = {TestLeaf(3, "", "e2")};
  ASSERT_OK(store_->ApplyCommit(kTenantA, kGroup, remove_three));
  EXPECT_EQ(store_->NextBlankLeaf(kTenantA, kGroup, 0).value_or(0), 1u);
  EXPECT_EQ(store_->NextBlankLeaf(kTenantA, kGroup, 2).value_or(0), 3u);
  EXPECT_EQ(store_->NextBlankLeaf(kTenantA, kGroup, 4).value_or(0), kNoLeafValue);
  CommitWrite refill = TestCommit(2, kLeaves, "e3");
  refill.leaves = {TestLeaf(1, "newcomer", "e3")};
  ASSERT_OK(store_->ApplyCommit(kTenantA, kGroup, refill));
  EXPECT_EQ(store_->NextBlankLeaf(kTenantA, kGroup, 0).value_or(0), 3u);
  EXPECT_CODE(store_->NextBlankLeaf(kTenantA, "no-such-group", 0), kNotFound);
}

TEST_P(StoreConformance, GetCommitReturnsTheSetupAndEachCommit) {
  ASSERT_OK(CreateTestGroup(*store_, kTenantA, kGroup, kLeaves));
  ASSERT_OK(store_->ApplyCommit(kTenantA, kGroup, TestCommit(0, kLeaves, "e1")));
  ASSERT_OK_AND_ASSIGN(StoredCommit setup, store_->GetCommit(kTenantA, kGroup, 0));
  EXPECT_EQ(setup.epoch, 0u);
  EXPECT_FALSE(setup.commit.empty());
  ASSERT_OK_AND_ASSIGN(StoredCommit first, store_->GetCommit(kTenantA, kGroup, 1));
  EXPECT_EQ(first.commit, "commit:e1");
  EXPECT_CODE(store_->GetCommit(kTenantA, kGroup, 2), kNotFound);
  EXPECT_CODE(store_->GetCommit(kTenantB, kGroup, 0), kNotFound);
}

// ---- Mailbox ----

TEST_P(StoreConformance, MessagesSequenceFetchAndExpiry) {
  ASSERT_OK(CreateTestGroup(*store_, kTenantA, kGroup, kLeaves));
  EXPECT_CODE(store_->AppendMessage(kTenantA, "no-such-group", "m", kNow, kNow + 1000, nullptr), kNotFound);
  std::vector<uint64_t> sequences;
  for (int i = 1; i <= 4; ++i) {
    // Message 2 expires early.
    const uint64_t expiry = i == 2 ? kNow + 10 : kNow + 100000;
    ASSERT_OK_AND_ASSIGN(uint64_t sequence,
                         store_->AppendMessage(kTenantA, kGroup, absl::StrCat("message-", i), kNow + i, expiry, nullptr));
    sequences.push_back(sequence);
  }
  for (size_t i = 1; i < sequences.size(); ++i) EXPECT_GT(sequences[i], sequences[i - 1]);

  ASSERT_OK_AND_ASSIGN(std::vector<StoredMessageRecord> first_two,
                       store_->FetchMessages(kTenantA, kGroup, 0, 2, kNow));
  EXPECT_THAT(SequencesOf(first_two), ElementsAre(sequences[0], sequences[1]));
  EXPECT_EQ(first_two[0].message, "message-1");
  EXPECT_EQ(first_two[0].posted_unix_millis, kNow + 1);
  ASSERT_OK_AND_ASSIGN(std::vector<StoredMessageRecord> after,
                       store_->FetchMessages(kTenantA, kGroup, sequences[1], 10, kNow));
  EXPECT_THAT(SequencesOf(after), ElementsAre(sequences[2], sequences[3]));
  // At its expiry instant message 2 is gone from fetches, before any purge.
  ASSERT_OK_AND_ASSIGN(std::vector<StoredMessageRecord> live,
                       store_->FetchMessages(kTenantA, kGroup, 0, 10, kNow + 10));
  EXPECT_THAT(SequencesOf(live), ElementsAre(sequences[0], sequences[2], sequences[3]));

  // Purging deletes it for good: even a fetch "in the past" no longer returns it.
  ASSERT_OK(store_->PurgeExpired(kNow + 10));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredMessageRecord> purged, store_->FetchMessages(kTenantA, kGroup, 0, 10, kNow));
  EXPECT_THAT(SequencesOf(purged), ElementsAre(sequences[0], sequences[2], sequences[3]));
  // Sequences are never reused.
  ASSERT_OK_AND_ASSIGN(uint64_t next, store_->AppendMessage(kTenantA, kGroup, "message-5", kNow, kNow + 100000, nullptr));
  EXPECT_GT(next, sequences[3]);
  EXPECT_CODE(store_->FetchMessages(kTenantA, "no-such-group", 0, 10, kNow), kNotFound);
}

TEST_P(StoreConformance, MessageWithNonceIsAppendedOnceAndTheNonceIsRecorded) {
  ASSERT_OK(CreateTestGroup(*store_, kTenantA, kGroup, kLeaves));
  const RequestNonce nonce{"alice", B("post-nonce"), kNow + 1000};
  ASSERT_OK_AND_ASSIGN(uint64_t sequence,
                       store_->AppendMessage(kTenantA, kGroup, "once", kNow, kNow + 100000, &nonce));
  // The replay appends nothing and leaves the counter alone.
  EXPECT_CODE(store_->AppendMessage(kTenantA, kGroup, "replayed", kNow, kNow + 100000, &nonce), kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(std::vector<StoredMessageRecord> stored, store_->FetchMessages(kTenantA, kGroup, 0, 10, kNow));
  EXPECT_THAT(SequencesOf(stored), ElementsAre(sequence));
  ASSERT_OK_AND_ASSIGN(uint64_t next, store_->AppendMessage(kTenantA, kGroup, "next", kNow, kNow + 100000, nullptr));
  EXPECT_EQ(next, sequence + 1);
  // The nonce was recorded as RecordRequestNonce would have.
  EXPECT_CODE(store_->RecordRequestNonce(kTenantA, "alice", B("post-nonce"), kNow + 1000), kAlreadyExists);
  // A post to a missing group records no nonce.
  const RequestNonce other{"alice", B("other-nonce"), kNow + 1000};
  EXPECT_CODE(store_->AppendMessage(kTenantA, "no-such-group", "m", kNow, kNow + 1000, &other), kNotFound);
  EXPECT_OK(store_->RecordRequestNonce(kTenantA, "alice", B("other-nonce"), kNow + 1000));
}

TEST_P(StoreConformance, CommitWithNonceIsAppliedOnceAndTheNonceIsRecorded) {
  ASSERT_OK(CreateTestGroup(*store_, kTenantA, kGroup, kLeaves));
  CommitWrite first = TestCommit(0, kLeaves, "first");
  first.nonce = RequestNonce{"member-0", B("commit-nonce"), kNow + 1000};
  ASSERT_OK(store_->ApplyCommit(kTenantA, kGroup, first));
  // The same nonce on a commit that would otherwise apply: refused, and nothing is written.
  CommitWrite replay = TestCommit(1, kLeaves, "replay");
  replay.nonce = first.nonce;
  EXPECT_CODE(store_->ApplyCommit(kTenantA, kGroup, replay), kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(GroupHeaderRecord header, store_->GroupHeader(kTenantA, kGroup));
  EXPECT_EQ(header.epoch, 1u);
  EXPECT_EQ(header.tree_hash, B("tree-hash:first"));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredCommit> commits, store_->ListCommits(kTenantA, kGroup, 0, 10));
  ASSERT_EQ(commits.size(), 1u);
  // The nonce was recorded as RecordRequestNonce would have.
  EXPECT_CODE(store_->RecordRequestNonce(kTenantA, "member-0", B("commit-nonce"), kNow + 1000), kAlreadyExists);
  // A commit that loses its epoch records no nonce.
  CommitWrite stale = TestCommit(0, kLeaves, "stale");
  stale.nonce = RequestNonce{"member-0", B("stale-nonce"), kNow + 1000};
  EXPECT_CODE(store_->ApplyCommit(kTenantA, kGroup, stale), kAborted);
  EXPECT_OK(store_->RecordRequestNonce(kTenantA, "member-0", B("stale-nonce"), kNow + 1000));
}

TEST_P(StoreConformance, WelcomesStoredWithCommitFetchedAndDeleted) {
  ASSERT_OK(CreateTestGroup(*store_, kTenantA, kGroup, kLeaves));
  CommitWrite add = TestCommit(0, kLeaves, "e1");
  add.welcome = "welcome:dave";
  add.welcome_member_id = "dave";
  ASSERT_OK(store_->ApplyCommit(kTenantA, kGroup, add));

  ASSERT_OK_AND_ASSIGN(std::vector<StoredWelcome> welcomes, store_->FetchWelcomes(kTenantA, "dave"));
  ASSERT_THAT(welcomes, SizeIs(1));
  EXPECT_EQ(welcomes[0].group_id, kGroup);
  EXPECT_EQ(welcomes[0].epoch, 1u);
  EXPECT_EQ(welcomes[0].welcome, "welcome:dave");
  ASSERT_OK_AND_ASSIGN(std::vector<StoredWelcome> others, store_->FetchWelcomes(kTenantA, "erin"));
  EXPECT_THAT(others, IsEmpty());

  const uint64_t id = welcomes[0].welcome_id;
  EXPECT_CODE(store_->DeleteWelcome(kTenantA, "erin", id), kNotFound);  // Not erin's.
  ASSERT_OK(store_->DeleteWelcome(kTenantA, "dave", id));
  EXPECT_CODE(store_->DeleteWelcome(kTenantA, "dave", id), kNotFound);
  ASSERT_OK_AND_ASSIGN(std::vector<StoredWelcome> after, store_->FetchWelcomes(kTenantA, "dave"));
  EXPECT_THAT(after, IsEmpty());
}

// ---- Alarms ----

TEST_P(StoreConformance, AlarmsAreRecordedOncePerReporterAndEpochAndListedInOrder) {
  ASSERT_OK(CreateTestGroup(*store_, kTenantA, kGroup, kLeaves));
  ASSERT_OK(CreateTestGroup(*store_, kTenantA, "other-group", kLeaves));
  const AlarmRecord alarm{0, kGroup, 0, "member-1", 1, "signed for my leaf", kNow};
  ASSERT_OK_AND_ASSIGN(uint64_t first,
                       store_->RecordAlarm(kTenantA, alarm, RequestNonce{"member-1", B("a1"), kNow}));
  // The same report again (a new nonce): the first one's id, nothing new recorded.
  AlarmRecord again = alarm;
  again.detail = "again";
  ASSERT_OK_AND_ASSIGN(uint64_t repeated,
                       store_->RecordAlarm(kTenantA, again, RequestNonce{"member-1", B("a2"), kNow}));
  EXPECT_EQ(repeated, first);
  // A replayed nonce records nothing.
  const AlarmRecord replayed{0, kGroup, 0, "member-2", 2, "replayed", kNow};
  EXPECT_CODE(store_->RecordAlarm(kTenantA, replayed, RequestNonce{"member-1", B("a1"), kNow}), kAlreadyExists);
  // Another reporter, and another group.
  const AlarmRecord second{0, kGroup, 0, "member-2", 2, "tag mismatch", kNow + 1};
  ASSERT_OK_AND_ASSIGN(uint64_t second_id,
                       store_->RecordAlarm(kTenantA, second, RequestNonce{"member-2", B("a3"), kNow}));
  const AlarmRecord elsewhere{0, "other-group", 0, "member-3", 2, "elsewhere", kNow + 2};
  ASSERT_OK_AND_ASSIGN(uint64_t third_id,
                       store_->RecordAlarm(kTenantA, elsewhere, RequestNonce{"member-3", B("a4"), kNow}));
  EXPECT_GT(second_id, first);
  EXPECT_GT(third_id, second_id);
  EXPECT_CODE(store_->RecordAlarm(kTenantA, AlarmRecord{0, "no-such-group", 0, "m", 1, "", kNow},
                                  RequestNonce{"m", B("a5"), kNow}),
              kNotFound);

  ASSERT_OK_AND_ASSIGN(std::vector<AlarmRecord> all, store_->ListAlarms(kTenantA, "", 0, 10));
  ASSERT_THAT(all, SizeIs(3));
  EXPECT_EQ(all[0].alarm_id, first);
  EXPECT_EQ(all[0].group_id, kGroup);
  EXPECT_EQ(all[0].reporter_member_id, "member-1");
  EXPECT_EQ(all[0].reason, 1u);
  EXPECT_EQ(all[0].detail, "signed for my leaf");
  EXPECT_EQ(all[0].reported_unix_millis, kNow);
  EXPECT_EQ(all[2].group_id, "other-group");
  ASSERT_OK_AND_ASSIGN(std::vector<AlarmRecord> of_group, store_->ListAlarms(kTenantA, kGroup, 0, 10));
  ASSERT_THAT(of_group, SizeIs(2));
  EXPECT_EQ(of_group[1].alarm_id, second_id);
  ASSERT_OK_AND_ASSIGN(std::vector<AlarmRecord> after, store_->ListAlarms(kTenantA, "", first, 1));
  ASSERT_THAT(after, SizeIs(1));
  EXPECT_EQ(after[0].alarm_id, second_id);
  EXPECT_CODE(store_->ListAlarms(kTenantA, "no-such-group", 0, 10), kNotFound);
  ASSERT_OK_AND_ASSIGN(std::vector<AlarmRecord> other_tenant, store_->ListAlarms(kTenantB, "", 0, 10));
  EXPECT_THAT(other_tenant, IsEmpty());
}

// ---- State blobs ----

TEST_P(StoreConformance, StateBlobCompareAndSwap) {
  EXPECT_CODE(store_->GetStateBlob(kTenantA, "alice", "state"), kNotFound);
  EXPECT_CODE(store_->PutStateBlob(kTenantA, "alice", "state", 1, "v?"), kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(uint64_t v1, store_->PutStateBlob(kTenantA, "alice", "state", 0, "cipher-1"));
  EXPECT_CODE(store_->PutStateBlob(kTenantA, "alice", "state", 0, "cipher-x"), kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(uint64_t v2, store_->PutStateBlob(kTenantA, "alice", "state", v1, "cipher-2"));
  EXPECT_GT(v2, v1);
  EXPECT_CODE(store_->PutStateBlob(kTenantA, "alice", "state", v1, "cipher-stale"), kFailedPrecondition);

  ASSERT_OK_AND_ASSIGN(StateBlob blob, store_->GetStateBlob(kTenantA, "alice", "state"));
  EXPECT_EQ(blob.version, v2);
  EXPECT_EQ(blob.ciphertext, "cipher-2");
  // Names and members are separate blobs.
  EXPECT_OK(store_->PutStateBlob(kTenantA, "alice", "other", 0, "cipher-o"));
  EXPECT_OK(store_->PutStateBlob(kTenantA, "bob", "state", 0, "cipher-b"));
  EXPECT_EQ(store_->GetStateBlob(kTenantA, "alice", "state").value().ciphertext, "cipher-2");
}

// ---- Tenant isolation ----

TEST_P(StoreConformance, TenantsAreIsolated) {
  ASSERT_OK(PublishTestMember(*store_, kTenantA, "alice", 3));
  ASSERT_OK(CreateTestGroup(*store_, kTenantA, kGroup, kLeaves));
  CommitWrite add = TestCommit(0, kLeaves, "e1");
  add.welcome = "welcome:dave";
  add.welcome_member_id = "dave";
  ASSERT_OK(store_->ApplyCommit(kTenantA, kGroup, add));
  ASSERT_OK(store_->AppendMessage(kTenantA, kGroup, "secret", kNow, kNow + 100000, nullptr).status());
  ASSERT_OK(store_->PutStateBlob(kTenantA, "alice", "state", 0, "cipher").status());

  EXPECT_CODE(store_->GetIdentity(kTenantB, "alice"), kNotFound);
  EXPECT_EQ(store_->CountPrekeys(kTenantB, "alice").value().one_time_remaining, 0u);
  EXPECT_CODE(store_->TakePrekeyBundle(kTenantB, "alice"), kNotFound);
  EXPECT_CODE(store_->GroupHeader(kTenantB, kGroup), kNotFound);
  EXPECT_CODE(NodesAt(*store_, kTenantB, kGroup, 0, {0}), kNotFound);
  EXPECT_CODE(store_->ListCommits(kTenantB, kGroup, 0, 10), kNotFound);
  EXPECT_CODE(store_->FetchMessages(kTenantB, kGroup, 0, 10, kNow), kNotFound);
  EXPECT_CODE(store_->AppendMessage(kTenantB, kGroup, "m", kNow, kNow + 1000, nullptr), kNotFound);
  EXPECT_CODE(store_->ApplyCommit(kTenantB, kGroup, TestCommit(1, kLeaves, "b")), kNotFound);
  EXPECT_THAT(store_->FetchWelcomes(kTenantB, "dave").value(), IsEmpty());
  EXPECT_CODE(store_->GetStateBlob(kTenantB, "alice", "state"), kNotFound);

  // Tenant B may reuse every name; A's data stay as they were.
  ASSERT_OK(store_->PutIdentity(kTenantB, "alice", "credential:other-alice"));
  ASSERT_OK(CreateTestGroup(*store_, kTenantB, kGroup, 2));
  ASSERT_OK_AND_ASSIGN(uint64_t b_sequence, store_->AppendMessage(kTenantB, kGroup, "b-message", kNow, kNow + 1000, nullptr));
  EXPECT_EQ(store_->GetIdentity(kTenantA, "alice").value_or(""), "credential:alice");
  EXPECT_EQ(store_->GroupHeader(kTenantA, kGroup).value().epoch, 1u);
  EXPECT_EQ(store_->GroupHeader(kTenantB, kGroup).value().leaf_count, 2u);
  EXPECT_EQ(store_->FindMemberLeaf(kTenantB, kGroup, "member-3").value_or(0), kNoLeafValue);
  ASSERT_OK_AND_ASSIGN(std::vector<StoredMessageRecord> b_messages,
                       store_->FetchMessages(kTenantB, kGroup, 0, 10, kNow));
  ASSERT_THAT(b_messages, SizeIs(1));
  EXPECT_EQ(b_messages[0].sequence, b_sequence);
  EXPECT_EQ(b_messages[0].message, "b-message");
  EXPECT_THAT(SequencesOf(store_->FetchMessages(kTenantA, kGroup, 0, 10, kNow).value()), SizeIs(1));
}

// ---- Concurrency ----

TEST_P(StoreConformance, ConcurrentBundleTakesHandOutEachOneTimePrekeyOnce) {
  constexpr uint32_t kPrekeys = 100;
  ASSERT_OK(PublishTestMember(*store_, kTenantA, "alice", kPrekeys));
  absl::Mutex mu;
  std::vector<std::string> taken;
  std::vector<absl::Status> errors;
  RunConcurrently(8, [&](int) {
    for (;;) {
      absl::StatusOr<TakenBundle> bundle = store_->TakePrekeyBundle(kTenantA, "alice");
      absl::MutexLock lock(&mu);
      if (!bundle.ok()) {
        errors.push_back(bundle.status());
        return;
      }
      if (bundle->one_time_prekey.empty()) return;
      taken.push_back(bundle->one_time_prekey);
    }
  });
  EXPECT_THAT(errors, IsEmpty());
  EXPECT_EQ(taken.size(), kPrekeys);
  std::set<std::string> distinct(taken.begin(), taken.end());
  EXPECT_EQ(distinct.size(), kPrekeys) << "a one-time prekey was handed out twice";
  EXPECT_EQ(store_->CountPrekeys(kTenantA, "alice").value().one_time_remaining, 0u);
}

TEST_P(StoreConformance, ConcurrentCommitsOnOneEpochHaveOneWinner) {
  ASSERT_OK(CreateTestGroup(*store_, kTenantA, kGroup, kLeaves));
  constexpr int kThreads = 8;
  std::vector<absl::Status> results(kThreads);
  RunConcurrently(kThreads, [&](int i) {
    results[i] = store_->ApplyCommit(kTenantA, kGroup, TestCommit(0, kLeaves, absl::StrCat("thread-", i)));
  });
  int winner = -1;
  for (int i = 0; i < kThreads; ++i) {
    if (results[i].ok()) {
      EXPECT_EQ(winner, -1) << "two commits won epoch 1";
      winner = i;
    } else {
      EXPECT_EQ(results[i].code(), absl::StatusCode::kAborted) << results[i];
    }
  }
  ASSERT_NE(winner, -1);
  ASSERT_OK_AND_ASSIGN(std::vector<StoredCommit> commits, store_->ListCommits(kTenantA, kGroup, 0, 10));
  ASSERT_THAT(commits, SizeIs(1));
  EXPECT_EQ(commits[0].commit, absl::StrCat("commit:thread-", winner));
  EXPECT_EQ(store_->GroupHeader(kTenantA, kGroup).value().tree_hash, B(absl::StrCat("tree-hash:thread-", winner)));
}

}  // namespace
}  // namespace store_testing
}  // namespace artd
