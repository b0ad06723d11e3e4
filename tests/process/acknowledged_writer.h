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
#include <utility>
#include <vector>

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

  // Adds what |more| records (e.g. what a later writer of the group was acknowledged).
  void Add(const Acknowledged& more) {
    messages.insert(more.messages.begin(), more.messages.end());
    commits.insert(more.commits.begin(), more.commits.end());
  }
};

class AcknowledgedWriter {
 public:
  // A call the writer made that failed UNAVAILABLE, after which it went on through another server.
  struct FailedOver {
    const TenantClient* client;
    absl::Status status;
  };

  // |seat| posts messages to its group and, after every |messages_per_commit| messages, commits an
  // update (never, if 0). It must be the group's only committer while the writer runs. Its calls go
  // through |clients| in turn (one per server). Without |fail_over| the writer ends at the first
  // failure. With it, a call that fails UNAVAILABLE takes its server out of the turn (noted in
  // failed_over()) and the writer carries on through the others, settling a commit whose
  // acknowledgement was lost; it ends at any other failure, or when no server is left.
  AcknowledgedWriter(std::vector<const TenantClient*> clients, Seat* seat, int messages_per_commit,
                     bool fail_over = false);
  AcknowledgedWriter(const TenantClient* client, Seat* seat, int messages_per_commit)
      : AcknowledgedWriter(std::vector<const TenantClient*>{client}, seat, messages_per_commit) {}
  ~AcknowledgedWriter() { Stop(); }

  void Start();
  // How many messages and commits are acknowledged so far.
  std::pair<size_t, size_t> Progress() const;
  // Waits until at least |messages| messages and |commits| commits are acknowledged; false if the
  // writer ended first or |timeout| passed.
  bool AwaitProgress(size_t messages, size_t commits, absl::Duration timeout);
  // Waits until the writer ends on its own, because a call failed (the server went away); false after
  // |timeout|.
  bool AwaitEnd(absl::Duration timeout);
  // Asks the writer to end after the call in flight, and joins it.
  void Stop();

  // Once ended: what was acknowledged, the failures it carried on after, and the failure that ended
  // the writer (OK if stopped).
  const Acknowledged& acknowledged() const { return acknowledged_; }
  const std::vector<FailedOver>& failed_over() const { return failed_over_; }
  absl::Status end_status() const;

  // Once ended (and by the writer itself when it fails over), through a server that is up: a commit
  // in flight when a call failed may have been stored although its acknowledgement never arrived. If
  // it was, applies it (as a client that kept its pending commit does); then processes any other
  // commits. While the log shows no commit in its place its fate is open (a transaction of a killed
  // server may still be committing), so it is kept and the writer's next commit sends it again.
  absl::Status Recover(const TenantClient& client);

 private:
  void Run();
  absl::Status PostOne(const TenantClient& client, int index);
  absl::Status CommitOne(const TenantClient& client);
  // The next server in turn that has not failed; null when none is left.
  const TenantClient* NextClient();
  // After |client|'s call failed with |failure|: OK if the writer may carry on.
  absl::Status FailOver(const TenantClient* client, const absl::Status& failure);

  const std::vector<const TenantClient*> clients_;
  std::vector<bool> down_;  // By index in clients_.
  size_t next_client_ = 0;
  Seat* const seat_;
  const int messages_per_commit_;
  const bool fail_over_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::optional<art::PendingCommit> in_flight_commit_;  // Sent; not (yet) acknowledged.
  // Written by the thread only; read once it has ended.
  Acknowledged acknowledged_;
  std::vector<FailedOver> failed_over_;

  mutable absl::Mutex mu_;
  size_t acknowledged_messages_ ABSL_GUARDED_BY(mu_) = 0;
  size_t acknowledged_commits_ ABSL_GUARDED_BY(mu_) = 0;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status end_status_ ABSL_GUARDED_BY(mu_);
};

// Runs a writer on |seat| through |client| until it has |messages| messages and |commits| commits
// acknowledged, stops it, settles its commit in flight and adds what it was acknowledged to |all|.
// An error if it failed, or made too little progress within |timeout|.
absl::Status WriteMore(const TenantClient& client, Seat& seat, size_t messages, size_t commits, Acknowledged& all,
                       absl::Duration timeout = absl::Seconds(20));

// Checks that every acknowledged message of |group_id| is stored under its sequence with the same
// bytes, and every acknowledged commit under its epoch, in a commit log without gaps.
absl::Status CheckAcknowledgedStored(const TenantClient& client, const std::string& group_id,
                                     const Acknowledged& acknowledged);

// A reader that was at the writer's starting epoch reads the whole group log in order: processes each
// commit, and decrypts each message in its epoch, checking the plaintext of every acknowledged one.
absl::Status ReadEverything(const TenantClient& client, art::MemberGroup& reader, const Acknowledged& acknowledged);

// Nothing in |all| is lost and the group has one history: CheckAcknowledgedStored, then |reader|, at
// the writer's starting epoch, reads everything (ReadEverything) and must end at |writer|'s epoch
// and epoch authenticator.
absl::Status CheckOneHistory(const TenantClient& client, Seat& writer, Seat& reader, const Acknowledged& all);

}  // namespace artd::testing

#endif  // TESTS_PROCESS_ACKNOWLEDGED_WRITER_H_
