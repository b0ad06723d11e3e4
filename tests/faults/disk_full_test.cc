// The SQLite server's disk fills up under load and frees up again. The "disk" is the server's RLIMIT_FSIZE,
// lowered while it runs (as `prlimit --pid` would) so that every write to a file beyond its first byte fails
// with EFBIG, and raised again later: no root, no mount. Meanwhile writes fail with a status naming the
// problem while reads go on; nothing acknowledged is lost, the database is not corrupt, and once there is
// room the same server process takes writes again.
#include <gmock/gmock.h>

#include <functional>

#include "absl/strings/str_cat.h"
#include "tests/faults/fault_helpers.h"
#include "tests/process/acknowledged_writer.h"
#include "tests/process/process_test.h"

namespace artd::testing {
namespace {

using ::testing::AnyOf;
using ::testing::Eq;

// Every write to a file fails: a disk without a block left.
constexpr rlim_t kFull = 1;
// How long the server may take to write again once there is room: no more than a call.
constexpr absl::Duration kRecoveryTimeout = absl::Seconds(10);

// A write refused for want of space: RESOURCE_EXHAUSTED (or UNAVAILABLE, a condition that passes), with a
// message that says what is wrong rather than an opaque internal error.
void ExpectDiskFull(const absl::Status& status, const std::string& what) {
  EXPECT_THAT(status.code(), AnyOf(Eq(absl::StatusCode::kResourceExhausted), Eq(absl::StatusCode::kUnavailable)))
      << what << ": " << status;
  EXPECT_THAT(std::string(status.message()), ::testing::ContainsRegex("disk|full|space")) << what << ": " << status;
}

class DiskFullTest : public ProcessTest {
 protected:
  // Starts a server that may be given a full disk, and a group of a writer and a reader on it.
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ProcessTest::SetUp());
    ArtdProcess::Options options;
    options.file_size_limit = RLIM_INFINITY;  // Room, for now; SIGXFSZ ignored from the start.
    ART_ASSERT_OK_AND_ASSIGN(server_, StartServerWith(options));
    client_ = Connect(*server_);
    ART_ASSERT_OK_AND_ASSIGN(seats_, CreateGroupOf({client_.get()}, {"writer", "reader"}, "filling"));
  }

  // Runs a writer on the group until it has written some messages and commits, then fills the disk under it:
  // its next write fails, and it stops there. Settles its commit in flight (reads go on) and adds what it was
  // acknowledged to all_. Returns the failure that stopped it.
  absl::Status FillTheDiskUnderAWriter() {
    AcknowledgedWriter writer(client_.get(), &seats_[0], /*messages_per_commit=*/2);
    writer.Start();
    EXPECT_TRUE(writer.AwaitProgress(20, 6, absl::Seconds(20))) << writer.end_status();
    EXPECT_TRUE(server_->SetFileSizeLimit(kFull).ok());
    if (!writer.AwaitEnd(kCallTimeout + absl::Seconds(5))) {
      return absl::DeadlineExceededError("the writer never failed");
    }
    absl::Status recovered = writer.Recover(*client_);
    EXPECT_TRUE(recovered.ok()) << recovered;
    all_.Add(writer.acknowledged());
    return writer.end_status();
  }

  // Each kind of write, made while the disk is full; |expect| checks how it failed.
  void WriteEachKind(const std::function<void(const absl::Status&, const std::string&)>& expect) {
    absl::StatusOr<v1::ApplicationMessage> message = seats_[0].state().Protect(1, art::AsBytes(std::string("no room")));
    ASSERT_TRUE(message.ok()) << message.status();
    expect(PostMessage(*client_, *seats_[0].device, *message).status(), "PostMessage");
    expect(CommitUpdate(*client_, seats_[0]).status(), "SubmitCommit");
    expect(NewMember(*client_, "no-room").status(), "PublishIdentity");
  }

  std::unique_ptr<ArtdProcess> server_;
  std::unique_ptr<TenantClient> client_;
  std::vector<Seat> seats_;
  Acknowledged all_;  // What every writer so far was acknowledged.
};

TEST_F(DiskFullTest, NothingAcknowledgedIsLostAndWritesResumeOnceThereIsRoom) {
  // An acknowledged prekey upload: one of its one-time prekeys must still be handed out at the end.
  ART_ASSERT_OK(NewMember(*client_, "uploader", /*one_time_prekeys=*/1).status());
  EXPECT_FALSE(FillTheDiskUnderAWriter().ok());

  // While the disk is full every kind of write fails, reads answer, the database stays intact and the server
  // stays up.
  ASSERT_NO_FATAL_FAILURE(WriteEachKind([](const absl::Status& status, const std::string& what) {
    EXPECT_FALSE(status.ok()) << what << " succeeded on a full disk";
  }));
  ART_ASSERT_OK(CheckAcknowledgedStored(*client_, "filling", all_));
  ART_ASSERT_OK(CheckSqliteIntegrity(database_));
  EXPECT_FALSE(server_->WaitForExit(absl::ZeroDuration()).ok()) << "the server exited: " << server_->StderrText();

  // Room again: the same server process takes writes, without a restart or an operator, and nothing
  // acknowledged before, during or after is lost; the group has one history.
  ART_ASSERT_OK(server_->SetFileSizeLimit(RLIM_INFINITY));
  ART_ASSERT_OK(CheckWritesResume(*client_, seats_[0], seats_[1], all_, "uploader", kRecoveryTimeout));

  // And it is all on disk: a server started afresh on the file finds the same, intact.
  ART_ASSERT_OK(server_->KillDashNine());
  ART_ASSERT_OK(CheckSqliteIntegrity(database_));
  ART_ASSERT_OK_AND_ASSIGN(server_, StartServer());
  client_ = Connect(*server_);
  ART_ASSERT_OK(CheckAcknowledgedStored(*client_, "filling", all_));
}

// A write past the file size limit comes back from SQLite as SQLITE_IOERR_WRITE (EFBIG), which
// storage/sqlite maps to UNAVAILABLE with a message naming the likely full disk.
TEST_F(DiskFullTest, WritesFailWithAStatusNamingTheFullDisk) {
  ExpectDiskFull(FillTheDiskUnderAWriter(), "the writer's last call");
  ASSERT_NO_FATAL_FAILURE(WriteEachKind(ExpectDiskFull));
}

}  // namespace
}  // namespace artd::testing
