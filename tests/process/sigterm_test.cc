// SIGTERM, as an orchestrator stops a server, while writers' calls and a watch stream are in flight:
// the server drains, exits with status 0, and everything it acknowledged is there after a restart.
#include <sys/wait.h>

#include <csignal>
#include <thread>

#include <gmock/gmock.h>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "tests/process/acknowledged_writer.h"
#include "tests/process/process_test.h"

namespace artd::testing {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

using SigtermTest = ProcessTest;

constexpr int kGroups = 3;
constexpr int kDrainSeconds = 3;

TEST_F(SigtermTest, SigtermDrainsAndExitsCleanly) {
  ART_ASSERT_OK_AND_ASSIGN(std::unique_ptr<ArtdProcess> server,
                           StartServer({"--drain-seconds", absl::StrCat(kDrainSeconds)}));
  std::unique_ptr<TenantClient> client = Connect(*server);
  // One writer and one reader per group, so that the writers never race each other for an epoch.
  std::vector<std::vector<Seat>> groups;
  for (int g = 0; g < kGroups; ++g) {
    ART_ASSERT_OK_AND_ASSIGN(
        std::vector<Seat> seats,
        CreateGroupOf({client.get()}, {absl::StrCat("writer-", g), absl::StrCat("reader-", g)}, absl::StrCat("g", g)));
    groups.push_back(std::move(seats));
  }
  std::vector<std::unique_ptr<AcknowledgedWriter>> writers;
  for (std::vector<Seat>& seats : groups) {
    writers.push_back(std::make_unique<AcknowledgedWriter>(client.get(), &seats[0], /*messages_per_commit=*/3));
    writers.back()->Start();
  }
  // A watch stays in flight until the drain ends it.
  int watched_events = 0;
  std::unique_ptr<grpc::ClientContext> watch_context = CallContext(*client);
  std::thread watcher([&] {
    v1::WatchGroupRequest request;
    request.set_group_id("g0");
    auto stream = client->groups->WatchGroup(watch_context.get(), request);
    v1::GroupEvent event;
    while (stream->Read(&event)) ++watched_events;
    stream->Finish();
  });
  // Should an assertion return early, the watch must end before its thread is destroyed.
  absl::Cleanup end_watch = [&] {
    watch_context->TryCancel();
    if (watcher.joinable()) watcher.join();
  };
  for (const std::unique_ptr<AcknowledgedWriter>& writer : writers) {
    ASSERT_TRUE(writer->AwaitProgress(10, 3, absl::Seconds(20))) << writer->end_status();
  }

  ART_ASSERT_OK(server->Signal(SIGTERM));
  ART_ASSERT_OK_AND_ASSIGN(int wait_status, server->WaitForExit(absl::Seconds(kDrainSeconds + 15)));
  EXPECT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) << "wait status " << wait_status;
  EXPECT_THAT(server->StderrText(), HasSubstr("artd: stopped"));
  watcher.join();
  EXPECT_GT(watched_events, 0);  // Written by the watcher thread, joined above.
  // The writers' next calls were refused: UNAVAILABLE once the listener had closed, or CANCELLED for
  // a call that reached the server but had not yet been handed to a handler when the shutdown began
  // (gRPC cancels those instead of draining them). Any other code would be a failure of the service.
  for (const std::unique_ptr<AcknowledgedWriter>& writer : writers) {
    ASSERT_TRUE(writer->AwaitEnd(kCallTimeout + absl::Seconds(5)));
    EXPECT_THAT(writer->end_status().code(),
                AnyOf(absl::StatusCode::kUnavailable, absl::StatusCode::kCancelled)) << writer->end_status();
  }

  ART_ASSERT_OK_AND_ASSIGN(server, StartServer());
  client = Connect(*server);
  for (int g = 0; g < kGroups; ++g) {
    SCOPED_TRACE(absl::StrCat("group g", g));
    std::vector<Seat>& seats = groups[g];
    ART_ASSERT_OK(CheckAcknowledgedStored(*client, absl::StrCat("g", g), writers[g]->acknowledged()));
    ART_ASSERT_OK(writers[g]->Recover(*client));
    ART_ASSERT_OK(ReadEverything(*client, seats[1].state(), writers[g]->acknowledged()));
    ART_ASSERT_OK(CommitUpdate(*client, seats[1]).status());
    ART_ASSERT_OK(CatchUp(*client, seats[0].state()));
    EXPECT_EQ(seats[0].state().epoch_authenticator(), seats[1].state().epoch_authenticator());
  }
}

}  // namespace
}  // namespace artd::testing
