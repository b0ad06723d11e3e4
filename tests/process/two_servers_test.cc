// Two `artd serve` processes on one SQLite file, as two replicas behind a load balancer: the database
// alone must keep one winner per epoch and hand out each one-time prekey once, since neither
// process's in-memory locks reach the other.
#include "tests/process/contended_group.h"
#include "tests/process/process_test.h"

namespace artd::testing {
namespace {

class TwoServersTest : public ProcessTest {
 protected:
  void SetUp() override {
    ProcessTest::SetUp();
    for (int i = 0; i < 2; ++i) {
      ART_ASSERT_OK_AND_ASSIGN(servers_[i], StartServer());
      clients_[i] = Connect(*servers_[i]);
    }
  }

  std::unique_ptr<ArtdProcess> servers_[2];
  std::unique_ptr<TenantClient> clients_[2];
};

TEST_F(TwoServersTest, TwoServersOneDatabase) {
  ASSERT_NO_FATAL_FAILURE(RunContendedGroup({clients_[0].get(), clients_[1].get()}, "contended", Contention{}));
}

// Replay protection must live in the database too: a nonce one server accepted, the other refuses.
TEST_F(TwoServersTest, AReplayThroughTheOtherServerIsRefused) {
  ART_ASSERT_OK_AND_ASSIGN(std::vector<Seat> seats, CreateGroupOf({clients_[0].get()}, {"alice", "bob"}, "replayed"));
  v1::PostMessageRequest request;
  ART_ASSERT_OK_AND_ASSIGN(*request.mutable_message(), seats[0].state().Protect(1, art::AsBytes("once")));
  *request.mutable_auth() = clients_[0]->Sign(*seats[0].device, art::kPostMessageMethod, art::RequestDigest(request));
  v1::PostMessageResponse response;
  ART_ASSERT_OK(FromGrpc(clients_[0]->mailbox->PostMessage(CallContext(*clients_[0]).get(), request, &response)));
  grpc::Status replayed = clients_[1]->mailbox->PostMessage(CallContext(*clients_[1]).get(), request, &response);
  EXPECT_EQ(replayed.error_code(), grpc::StatusCode::PERMISSION_DENIED) << replayed.error_message();
  ART_ASSERT_OK_AND_ASSIGN(std::vector<v1::StoredMessage> stored, FetchAllMessages(*clients_[1], "replayed"));
  EXPECT_EQ(stored.size(), 1u);
}

// A watcher connected to one server hears of a commit made through the other (by polling the
// database, since no in-process notification crosses processes).
TEST_F(TwoServersTest, AWatchThroughOneServerSeesCommitsMadeThroughTheOther) {
  ART_ASSERT_OK_AND_ASSIGN(std::vector<Seat> seats, CreateGroupOf({clients_[0].get()}, {"alice", "bob"}, "watched"));
  v1::WatchGroupRequest request;
  request.set_group_id("watched");
  std::unique_ptr<grpc::ClientContext> context = CallContext(*clients_[1]);  // The deadline bounds the wait.
  std::unique_ptr<grpc::ClientReaderInterface<v1::GroupEvent>> stream =
      clients_[1]->groups->WatchGroup(context.get(), request);
  ART_ASSERT_OK(CommitUpdate(*clients_[0], seats[0]).status());
  v1::GroupEvent event;
  ASSERT_TRUE(stream->Read(&event)) << FromGrpc(stream->Finish());
  ASSERT_TRUE(event.has_commit());
  ART_ASSERT_OK_AND_ASSIGN(std::vector<v1::Commit> committed, ListCommits(*clients_[0], "watched", 0));
  ASSERT_EQ(committed.size(), 1u);
  EXPECT_EQ(event.commit().SerializeAsString(), committed[0].SerializeAsString());
  context->TryCancel();
  stream->Finish();
}

}  // namespace
}  // namespace artd::testing
