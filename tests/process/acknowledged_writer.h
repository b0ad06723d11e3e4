// A member that writes to its group as fast as the service acknowledges, on its own thread, and
// records exactly what was acknowledged: for checking, after a server was killed or stopped under it,
// that nothing acknowledged was lost.
#ifndef TESTS_PROCESS_ACKNOWLEDGED_WRITER_H_
#define TESTS_PROCESS_ACKNOWLEDGED_WRITER_H_

#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tests/process/group_client.h"

namespace artd::testing {

// What the service acknowledged to a writer.
struct Acknowledged {
  struct Message {
    std::string serialized;  // The ApplicationMessage as posted.
    std::string plaintext;
  };
  std::map<uint64_t, Message> messages;   // By sequence.
  std::map<uint64_t, std::string> commits;  // The serialized Commit, by the epoch it created.
};

class AcknowledgedWriter {
 public:
  // |seat| posts messages to its group and, after every |messages_per_commit| messages, commits an
  // update (never, if 0). It must be the group's only committer while the writer runs.
  AcknowledgedWriter(const ArtdClient* client, Seat* seat, int messages_per_commit);
  ~AcknowledgedWriter() { Stop(); }

  void Start();
  // Waits until at least |messages| messages and |commits| commits are acknowledged; false if the
  // writer ended first or |timeout| passed.
  bool AwaitProgress(size_t messages, size_t commits, absl::Duration timeout);
  // Waits until the writer ends on its own, because a call failed (the server went away); false after
  // |timeout|.
  bool AwaitEnd(absl::Duration timeout);
  // Asks the writer to end after the call in flight, and joins it.
  void Stop();

  // Once ended: what was acknowledged, and the failure that ended the writer (OK if stopped).
  const Acknowledged& acknowledged() const { return acknowledged_; }
  absl::Status end_status() const;

  // Once ended, through a server that is back: a commit in flight when the writer ended may have been
  // stored although its acknowledgement never arrived. If it was, applies it (as a client that kept
  // its pending commit does); then processes any other commits.
  absl::Status Recover(const ArtdClient& client);

 private:
  void Run();
  absl::Status PostOne(int index);
  absl::Status CommitOne();

  const ArtdClient* const client_;
  Seat* const seat_;
  const int messages_per_commit_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::optional<art::PendingCommit> in_flight_commit_;  // Sent; not (yet) acknowledged.
  Acknowledged acknowledged_;  // Written by the thread only; read once it has ended.

  mutable absl::Mutex mu_;
  size_t acknowledged_messages_ ABSL_GUARDED_BY(mu_) = 0;
  size_t acknowledged_commits_ ABSL_GUARDED_BY(mu_) = 0;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status end_status_ ABSL_GUARDED_BY(mu_);
};

// Checks that every acknowledged message of |group_id| is stored under its sequence with the same
// bytes, and every acknowledged commit under its epoch, in a commit log without gaps.
absl::Status CheckAcknowledgedStored(const ArtdClient& client, const std::string& group_id,
                                     const Acknowledged& acknowledged);

// A reader that was at the writer's starting epoch reads the whole group log in order: processes each
// commit, and decrypts each message in its epoch, checking the plaintext of every acknowledged one.
absl::Status ReadEverything(const ArtdClient& client, art::MemberGroup& reader, const Acknowledged& acknowledged);

}  // namespace artd::testing

#endif  // TESTS_PROCESS_ACKNOWLEDGED_WRITER_H_
