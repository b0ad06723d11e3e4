// A commit costs O(log n) storage work, not O(n): in a group of 1,000 members, an update writes new
// versions of only the nodes on one path (and one leaf), and a removal plus a sibling update likewise.
// Counted in the SQLite file itself.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include "art/protocol/member_group.h"
#include "tests/service/service_harness.h"

namespace artd::testing {
namespace {

using art::testing::ValueOrDie;

// Rows of |table| written for |epoch|.
int64_t RowsAtEpoch(const std::string& database, const std::string& table, uint64_t epoch) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  const std::string query = "SELECT COUNT(*) FROM " + table + " WHERE epoch_from = ?1";
  EXPECT_EQ(sqlite3_prepare_v2(db, query.c_str(), -1, &statement, nullptr), SQLITE_OK);
  sqlite3_bind_int64(statement, 1, static_cast<int64_t>(epoch));
  EXPECT_EQ(sqlite3_step(statement), SQLITE_ROW);
  const int64_t count = sqlite3_column_int64(statement, 0);
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return count;
}

TEST(CommitCost, AnUpdateInAThousandMemberGroupWritesOnlyItsPath) {
  constexpr int kMembers = 1000;
  ServiceHarness harness;
  auto tenant = harness.NewTenant("tenant-a");
  std::vector<std::unique_ptr<art::testing::TestMember>> members;
  std::vector<v1::PrekeyBundle> bundles;
  for (int i = 0; i < kMembers; ++i) {
    members.push_back(tenant->NewMember("m" + std::to_string(i), 1));
    if (i == 0) continue;
    v1::FetchPrekeyBundleRequest request;
    request.set_member_id(members.back()->member_id());
    v1::FetchPrekeyBundleResponse response;
    ASSERT_TRUE(tenant->keys->FetchPrekeyBundle(tenant->Context().get(), request, &response).ok());
    bundles.push_back(response.bundle());
  }
  art::MemberGroup::Created created =
      ValueOrDie(art::MemberGroup::Create(tenant->authority->config(), members[0]->identity, "big", bundles));
  v1::CreateGroupRequest create;
  *create.mutable_setup() = created.setup;
  *create.mutable_auth() = tenant->Sign(*members[0], art::kCreateGroupMethod, art::RequestDigest(create));
  v1::CreateGroupResponse group_created;
  ASSERT_TRUE(tenant->groups->CreateGroup(tenant->Context().get(), create, &group_created).ok());
  EXPECT_EQ(RowsAtEpoch(harness.database_path(), "nodes", 0), 2 * kMembers - 1);

  auto submit = [&](const art::PendingCommit& pending) {
    v1::SubmitCommitRequest request;
    *request.mutable_commit() = pending.commit;
    *request.mutable_auth() = tenant->Sign(*members[0], art::kSubmitCommitMethod, art::RequestDigest(request));
    v1::SubmitCommitResponse response;
    grpc::Status status = tenant->groups->SubmitCommit(tenant->Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  };
  art::MemberGroup& creator = created.group;
  const size_t path_length = art::DirectPath(0, kMembers).size();  // 10 for 1,000 leaves.
  art::PendingCommit update = ValueOrDie(creator.CreateUpdate());
  submit(update);
  creator.ApplyPendingCommit(std::move(update));
  EXPECT_EQ(RowsAtEpoch(harness.database_path(), "nodes", 1), static_cast<int64_t>(path_length + 1));
  EXPECT_EQ(RowsAtEpoch(harness.database_path(), "leaves", 1), 1);

  art::PendingCommit remove = ValueOrDie(creator.CreateRemove(501));
  submit(remove);
  creator.ApplyPendingCommit(std::move(remove));
  EXPECT_LE(RowsAtEpoch(harness.database_path(), "nodes", 2), static_cast<int64_t>(path_length + 1));
  EXPECT_EQ(RowsAtEpoch(harness.database_path(), "leaves", 2), 1);
}

}  // namespace
}  // namespace artd::testing
