#include "tests/process/acknowledged_writer.h"

#include "absl/strings/str_cat.h"
#include "art/base/status_macros.h"

namespace artd::testing {

AcknowledgedWriter::AcknowledgedWriter(std::vector<const TenantClient*> clients, Seat* seat,
                                       int messages_per_commit, bool fail_over)
    : clients_(std::move(clients)),
      down_(clients_.size(), false),
      seat_(seat),
      messages_per_commit_(messages_per_commit),
      fail_over_(fail_over) {}

void AcknowledgedWriter::Start() {
  thread_ = std::thread([this] { Run(); });
}

void AcknowledgedWriter::Run() {
  absl::Status status;
  for (int i = 0; status.ok() && !stop_.load(); ++i) {
    const TenantClient* client = NextClient();
    if (client == nullptr) {
      status = absl::UnavailableError("every server failed");
      break;
    }
    const bool commit = messages_per_commit_ > 0 && i % (messages_per_commit_ + 1) == messages_per_commit_;
    status = commit ? CommitOne(*client) : PostOne(*client, i);
    if (!status.ok() && fail_over_) status = FailOver(client, status);
  }
  absl::MutexLock lock(&mu_);
  ended_ = true;
  end_status_ = status;
}

const TenantClient* AcknowledgedWriter::NextClient() {
  for (size_t tried = 0; tried < clients_.size(); ++tried) {
    const size_t index = next_client_++ % clients_.size();
    if (!down_[index]) return clients_[index];
  }
  return nullptr;
}

absl::Status AcknowledgedWriter::FailOver(const TenantClient* client, const absl::Status& failure) {
  if (failure.code() == absl::StatusCode::kUnavailable) {
    for (size_t i = 0; i < clients_.size(); ++i) {
      if (clients_[i] == client) down_[i] = true;
    }
    failed_over_.push_back(FailedOver{client, failure});
  } else if (failure.code() != absl::StatusCode::kAborted || !in_flight_commit_.has_value()) {
    // ABORTED for a commit sent again is expected: the first sending was stored after all.
    return failure;
  }
  if (!in_flight_commit_.has_value()) return absl::OkStatus();
  const TenantClient* next = NextClient();
  if (next == nullptr) return failure;
  return Recover(*next);
}

absl::Status AcknowledgedWriter::PostOne(const TenantClient& client, int index) {
  const std::string plaintext = absl::StrCat("message ", index, " from ", seat_->member_id());
  ART_ASSIGN_OR_RETURN(v1::ApplicationMessage message, seat_->state().Protect(1, art::AsBytes(plaintext)));
  ART_ASSIGN_OR_RETURN(uint64_t sequence, PostMessage(client, *seat_->device, message));
  acknowledged_.messages[sequence] = Acknowledged::Message{message.SerializeAsString(), plaintext};
  absl::MutexLock lock(&mu_);
  ++acknowledged_messages_;
  return absl::OkStatus();
}

absl::Status AcknowledgedWriter::CommitOne(const TenantClient& client) {
  // A commit whose fate is open goes again as it is: the epoch compare-and-swap stores it at most once.
  if (!in_flight_commit_.has_value()) {
    ART_ASSIGN_OR_RETURN(in_flight_commit_, seat_->state().CreateUpdate());
  }
  ART_ASSIGN_OR_RETURN(uint64_t epoch, SubmitCommit(client, *seat_->device, *in_flight_commit_));
  acknowledged_.commits[epoch] = in_flight_commit_->commit.SerializeAsString();
  seat_->state().ApplyPendingCommit(*std::move(in_flight_commit_));
  in_flight_commit_.reset();
  absl::MutexLock lock(&mu_);
  ++acknowledged_commits_;
  return absl::OkStatus();
}

std::pair<size_t, size_t> AcknowledgedWriter::Progress() const {
  absl::MutexLock lock(&mu_);
  return {acknowledged_messages_, acknowledged_commits_};
}

bool AcknowledgedWriter::AwaitProgress(size_t messages, size_t commits, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto progressed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return ended_ || (acknowledged_messages_ >= messages && acknowledged_commits_ >= commits);
  };
  mu_.AwaitWithTimeout(absl::Condition(&progressed), timeout);
  return !ended_ && acknowledged_messages_ >= messages && acknowledged_commits_ >= commits;
}

bool AcknowledgedWriter::AwaitEnd(absl::Duration timeout) {
  {
    absl::MutexLock lock(&mu_);
    if (!mu_.AwaitWithTimeout(absl::Condition(&ended_), timeout)) return false;
  }
  if (thread_.joinable()) thread_.join();
  return true;
}

void AcknowledgedWriter::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

absl::Status AcknowledgedWriter::end_status() const {
  absl::MutexLock lock(&mu_);
  return end_status_;
}

absl::Status AcknowledgedWriter::Recover(const TenantClient& client) {
  art::MemberGroup& group = seat_->state();
  ART_ASSIGN_OR_RETURN(std::vector<v1::Commit> commits, ListCommits(client, GroupIdOf(group), group.epoch()));
  for (const v1::Commit& commit : commits) {
    if (in_flight_commit_.has_value() && commit.SerializeAsString() == in_flight_commit_->commit.SerializeAsString()) {
      group.ApplyPendingCommit(*std::move(in_flight_commit_));
      in_flight_commit_.reset();
      continue;
    }
    // Another commit took its epoch: the one in flight lost, and its keys are dropped.
    in_flight_commit_.reset();
    ART_RETURN_IF_ERROR(group.ProcessCommit(commit));
  }
  return absl::OkStatus();
}

absl::Status WriteMore(const TenantClient& client, Seat& seat, size_t messages, size_t commits, Acknowledged& all,
                       absl::Duration timeout) {
  AcknowledgedWriter writer(&client, &seat, /*messages_per_commit=*/2);
  writer.Start();
  const bool progressed = writer.AwaitProgress(messages, commits, timeout);
  writer.Stop();
  ART_RETURN_IF_ERROR(writer.end_status());
  ART_RETURN_IF_ERROR(writer.Recover(client));
  all.Add(writer.acknowledged());
  if (!progressed) {
    const auto [acknowledged_messages, acknowledged_commits] = writer.Progress();
    return absl::DeadlineExceededError(absl::StrCat("the writer had ", acknowledged_messages, " messages and ",
                                                    acknowledged_commits, " commits acknowledged after ",
                                                    absl::FormatDuration(timeout)));
  }
  return absl::OkStatus();
}

absl::Status CheckAcknowledgedStored(const TenantClient& client, const std::string& group_id,
                                     const Acknowledged& acknowledged) {
  ART_ASSIGN_OR_RETURN(std::vector<v1::StoredMessage> messages, FetchAllMessages(client, group_id));
  std::map<uint64_t, std::string> stored_messages;
  for (const v1::StoredMessage& message : messages) {
    stored_messages[message.sequence()] = message.message().SerializeAsString();
  }
  for (const auto& [sequence, message] : acknowledged.messages) {
    auto found = stored_messages.find(sequence);
    if (found == stored_messages.end()) {
      return absl::DataLossError(absl::StrCat("acknowledged message ", sequence, " is not stored"));
    }
    if (found->second != message.serialized) {
      return absl::DataLossError(absl::StrCat("stored message ", sequence, " differs from the one acknowledged"));
    }
  }
  ART_ASSIGN_OR_RETURN(std::vector<v1::Commit> commits, ListCommits(client, group_id, 0));
  std::map<uint64_t, std::string> stored_commits;
  for (size_t i = 0; i < commits.size(); ++i) {
    if (commits[i].epoch() != i) {
      return absl::DataLossError(absl::StrCat("commit log entry ", i, " is from epoch ", commits[i].epoch()));
    }
    stored_commits[i + 1] = commits[i].SerializeAsString();
  }
  for (const auto& [epoch, commit] : acknowledged.commits) {
    auto found = stored_commits.find(epoch);
    if (found == stored_commits.end()) {
      return absl::DataLossError(absl::StrCat("acknowledged commit creating epoch ", epoch, " is not stored"));
    }
    if (found->second != commit) {
      return absl::DataLossError(absl::StrCat("stored commit creating epoch ", epoch, " differs from the one acknowledged"));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadEverything(const TenantClient& client, art::MemberGroup& reader, const Acknowledged& acknowledged) {
  const std::string group_id = GroupIdOf(reader);
  ART_ASSIGN_OR_RETURN(std::vector<v1::Commit> commits, ListCommits(client, group_id, reader.epoch()));
  ART_ASSIGN_OR_RETURN(std::vector<v1::StoredMessage> messages, FetchAllMessages(client, group_id));
  size_t next_commit = 0;
  auto process_until = [&](uint64_t epoch) -> absl::Status {
    while (reader.epoch() < epoch && next_commit < commits.size()) {
      ART_RETURN_IF_ERROR(reader.ProcessCommit(commits[next_commit++]));
    }
    return absl::OkStatus();
  };
  for (const v1::StoredMessage& stored : messages) {
    ART_RETURN_IF_ERROR(process_until(stored.message().epoch()));
    absl::StatusOr<art::ReceivedMessage> received = reader.Unprotect(stored.message());
    if (!received.ok()) {
      return absl::Status(received.status().code(), absl::StrCat("message ", stored.sequence(), " does not decrypt: ",
                                                                 received.status().message()));
    }
    auto acknowledged_message = acknowledged.messages.find(stored.sequence());
    const std::string plaintext(received->content.data(), received->content.data() + received->content.size());
    if (acknowledged_message != acknowledged.messages.end() && acknowledged_message->second.plaintext != plaintext) {
      return absl::DataLossError(absl::StrCat("message ", stored.sequence(), " decrypts to \"", plaintext, "\""));
    }
  }
  return process_until(UINT64_MAX);
}

absl::Status CheckOneHistory(const TenantClient& client, Seat& writer, Seat& reader, const Acknowledged& all) {
  ART_RETURN_IF_ERROR(CheckAcknowledgedStored(client, GroupIdOf(writer.state()), all));
  ART_RETURN_IF_ERROR(ReadEverything(client, reader.state(), all));
  if (reader.state().epoch() != writer.state().epoch() ||
      reader.state().epoch_authenticator() != writer.state().epoch_authenticator()) {
    return absl::DataLossError(absl::StrCat("the group forked: ", reader.member_id(), " is at epoch ",
                                            reader.state().epoch(), ", ", writer.member_id(), " at epoch ",
                                            writer.state().epoch(), " (or their epoch authenticators differ)"));
  }
  return absl::OkStatus();
}

}  // namespace artd::testing
