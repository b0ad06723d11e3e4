#include "service/observability/timed_store.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include <array>
#include <type_traits>

#include "absl/time/clock.h"
#include "art/base/status_macros.h"

namespace artd::observability {
namespace {

// The Store operations, in the order of store.h.
enum Operation {
  kCreateTenant,
  kAddApiKey,
  kRevokeApiKey,
  kTenantForApiKey,
  kAddTenantCredentialKey,
  kTenantCredentialKeys,
  kBindClientCertificate,
  kUnbindClientCertificate,
  kTenantForClientCertificate,
  kCountTenantUsage,
  kRecordRequestNonce,
  kPutIdentity,
  kGetIdentity,
  kPutPrekeys,
  kCountPrekeys,
  kTakePrekeyBundle,
  kCreateGroup,
  kGroupHeader,
  kReadGroupView,
  kLoadTree,
  kFindMemberLeaf,
  kApplyCommit,
  kNextBlankLeaf,
  kGetCommit,
  kListCommits,
  kAppendMessage,
  kFetchMessages,
  kFetchWelcomes,
  kDeleteWelcome,
  kPutStateBlob,
  kGetStateBlob,
  kRecordAlarm,
  kListAlarms,
  kPurgeExpired,
  kOperationCount
};

constexpr std::array<const char*, kOperationCount> kOperationNames = {"CreateTenant",
                                                                      "AddApiKey",
                                                                      "RevokeApiKey",
                                                                      "TenantForApiKey",
                                                                      "AddTenantCredentialKey",
                                                                      "TenantCredentialKeys",
                                                                      "BindClientCertificate",
                                                                      "UnbindClientCertificate",
                                                                      "TenantForClientCertificate",
                                                                      "CountTenantUsage",
                                                                      "RecordRequestNonce",
                                                                      "PutIdentity",
                                                                      "GetIdentity",
                                                                      "PutPrekeys",
                                                                      "CountPrekeys",
                                                                      "TakePrekeyBundle",
                                                                      "CreateGroup",
                                                                      "GroupHeader",
                                                                      "ReadGroupView",
                                                                      "LoadTree",
                                                                      "FindMemberLeaf",
                                                                      "ApplyCommit",
                                                                      "NextBlankLeaf",
                                                                      "GetCommit",
                                                                      "ListCommits",
                                                                      "AppendMessage",
                                                                      "FetchMessages",
                                                                      "FetchWelcomes",
                                                                      "DeleteWelcome",
                                                                      "PutStateBlob",
                                                                      "GetStateBlob",
                                                                      "RecordAlarm",
                                                                      "ListAlarms",
                                                                      "PurgeExpired"};

using ::art::StatusOf;

bool IsStorageFailure(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kDeadlineExceeded:
      return true;
    default:
      return false;
  }
}

class TimedStore final : public Store {
 public:
  TimedStore(Store* inner, prometheus::Registry& registry) : inner_(inner) {
    auto& durations = prometheus::BuildHistogram()
                          .Name("artd_storage_operation_duration_seconds")
                          .Help("Storage calls by Store operation, in seconds (each is one transaction)")
                          .Register(registry);
    auto& errors =
        prometheus::BuildCounter()
            .Name("artd_storage_errors_total")
            .Help("Storage calls that failed with UNAVAILABLE, INTERNAL, UNKNOWN, DATA_LOSS or DEADLINE_EXCEEDED")
            .Register(registry);
    const prometheus::Histogram::BucketBoundaries buckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                          0.01,   0.025,   0.05,   0.1,   0.25,   1};
    for (int op = 0; op < kOperationCount; ++op) {
      const prometheus::Labels labels{{"operation", kOperationNames[op]}};
      metrics_[op] = OperationMetrics{&durations.Add(labels, buckets), &errors.Add(labels)};
    }
  }

  absl::Status CreateTenant(const std::string& tenant_id) override {
    return Timed(kCreateTenant, [&] { return inner_->CreateTenant(tenant_id); });
  }
  absl::Status AddApiKey(const std::string& tenant_id, const std::string& key_id, const Bytes& key_hash) override {
    return Timed(kAddApiKey, [&] { return inner_->AddApiKey(tenant_id, key_id, key_hash); });
  }
  absl::Status RevokeApiKey(const std::string& key_id) override {
    return Timed(kRevokeApiKey, [&] { return inner_->RevokeApiKey(key_id); });
  }
  absl::StatusOr<std::string> TenantForApiKey(const Bytes& key_hash) override {
    return Timed(kTenantForApiKey, [&] { return inner_->TenantForApiKey(key_hash); });
  }
  absl::Status AddTenantCredentialKey(const std::string& tenant_id, const Bytes& public_key) override {
    return Timed(kAddTenantCredentialKey, [&] { return inner_->AddTenantCredentialKey(tenant_id, public_key); });
  }
  absl::StatusOr<std::vector<Bytes>> TenantCredentialKeys(const std::string& tenant_id) override {
    return Timed(kTenantCredentialKeys, [&] { return inner_->TenantCredentialKeys(tenant_id); });
  }
  absl::Status BindClientCertificate(const std::string& tenant_id, const Bytes& fingerprint) override {
    return Timed(kBindClientCertificate, [&] { return inner_->BindClientCertificate(tenant_id, fingerprint); });
  }
  absl::Status UnbindClientCertificate(const Bytes& fingerprint) override {
    return Timed(kUnbindClientCertificate, [&] { return inner_->UnbindClientCertificate(fingerprint); });
  }
  absl::StatusOr<std::string> TenantForClientCertificate(const Bytes& fingerprint) override {
    return Timed(kTenantForClientCertificate, [&] { return inner_->TenantForClientCertificate(fingerprint); });
  }
  absl::StatusOr<std::vector<TenantUsage>> CountTenantUsage() override {
    return Timed(kCountTenantUsage, [&] { return inner_->CountTenantUsage(); });
  }
  absl::Status RecordRequestNonce(const std::string& tenant_id, const std::string& member_id, const Bytes& nonce,
                                  uint64_t expires_unix_millis) override {
    return Timed(kRecordRequestNonce,
                 [&] { return inner_->RecordRequestNonce(tenant_id, member_id, nonce, expires_unix_millis); });
  }
  absl::Status PutIdentity(const std::string& tenant_id, const std::string& member_id,
                           const std::string& credential) override {
    return Timed(kPutIdentity, [&] { return inner_->PutIdentity(tenant_id, member_id, credential); });
  }
  absl::StatusOr<std::string> GetIdentity(const std::string& tenant_id, const std::string& member_id) override {
    return Timed(kGetIdentity, [&] { return inner_->GetIdentity(tenant_id, member_id); });
  }
  absl::StatusOr<PrekeyCounts> PutPrekeys(const std::string& tenant_id, const std::string& member_id,
                                          const std::string& signed_prekey, uint32_t signed_prekey_id,
                                          uint64_t signed_prekey_expiry,
                                          const std::vector<std::pair<uint32_t, std::string>>& one_time_prekeys,
                                          uint32_t max_one_time) override {
    return Timed(kPutPrekeys, [&] {
      return inner_->PutPrekeys(tenant_id, member_id, signed_prekey, signed_prekey_id, signed_prekey_expiry,
                                one_time_prekeys, max_one_time);
    });
  }
  absl::StatusOr<PrekeyCounts> CountPrekeys(const std::string& tenant_id, const std::string& member_id) override {
    return Timed(kCountPrekeys, [&] { return inner_->CountPrekeys(tenant_id, member_id); });
  }
  absl::StatusOr<TakenBundle> TakePrekeyBundle(const std::string& tenant_id, const std::string& member_id) override {
    return Timed(kTakePrekeyBundle, [&] { return inner_->TakePrekeyBundle(tenant_id, member_id); });
  }
  absl::Status CreateGroup(const std::string& tenant_id, const std::string& group_id, const GroupHeaderRecord& header,
                           const std::vector<LeafRecord>& leaves, const std::vector<NodeRecord>& nodes,
                           const std::string& setup) override {
    return Timed(kCreateGroup, [&] { return inner_->CreateGroup(tenant_id, group_id, header, leaves, nodes, setup); });
  }
  absl::StatusOr<GroupHeaderRecord> GroupHeader(const std::string& tenant_id, const std::string& group_id,
                                                std::optional<uint64_t> epoch) override {
    return Timed(kGroupHeader, [&] { return inner_->GroupHeader(tenant_id, group_id, epoch); });
  }
  absl::StatusOr<GroupView> ReadGroupView(
      const std::string& tenant_id, const std::string& group_id,
      absl::FunctionRef<absl::StatusOr<TreeSelection>(const GroupHeaderRecord&)> select) override {
    return Timed(kReadGroupView, [&] { return inner_->ReadGroupView(tenant_id, group_id, select); });
  }
  absl::Status LoadTree(const std::string& tenant_id, const std::string& group_id, uint64_t epoch,
                        std::vector<NodeRecord>* nodes, std::vector<LeafRecord>* leaves) override {
    return Timed(kLoadTree, [&] { return inner_->LoadTree(tenant_id, group_id, epoch, nodes, leaves); });
  }
  absl::StatusOr<uint32_t> FindMemberLeaf(const std::string& tenant_id, const std::string& group_id,
                                          const std::string& member_id) override {
    return Timed(kFindMemberLeaf, [&] { return inner_->FindMemberLeaf(tenant_id, group_id, member_id); });
  }
  absl::Status ApplyCommit(const std::string& tenant_id, const std::string& group_id,
                           const CommitWrite& write) override {
    return Timed(kApplyCommit, [&] { return inner_->ApplyCommit(tenant_id, group_id, write); });
  }
  absl::StatusOr<uint32_t> NextBlankLeaf(const std::string& tenant_id, const std::string& group_id,
                                         uint32_t from_leaf) override {
    return Timed(kNextBlankLeaf, [&] { return inner_->NextBlankLeaf(tenant_id, group_id, from_leaf); });
  }
  absl::StatusOr<StoredCommit> GetCommit(const std::string& tenant_id, const std::string& group_id,
                                         uint64_t epoch) override {
    return Timed(kGetCommit, [&] { return inner_->GetCommit(tenant_id, group_id, epoch); });
  }
  absl::StatusOr<std::vector<StoredCommit>> ListCommits(const std::string& tenant_id, const std::string& group_id,
                                                        uint64_t after_epoch, uint32_t limit) override {
    return Timed(kListCommits, [&] { return inner_->ListCommits(tenant_id, group_id, after_epoch, limit); });
  }
  absl::StatusOr<uint64_t> AppendMessage(const std::string& tenant_id, const std::string& group_id,
                                         const std::string& message, uint64_t now_unix_millis,
                                         uint64_t expires_unix_millis, const RequestNonce* nonce) override {
    return Timed(kAppendMessage, [&] {
      return inner_->AppendMessage(tenant_id, group_id, message, now_unix_millis, expires_unix_millis, nonce);
    });
  }
  absl::StatusOr<std::vector<StoredMessageRecord>> FetchMessages(const std::string& tenant_id,
                                                                 const std::string& group_id, uint64_t after_sequence,
                                                                 uint32_t limit, uint64_t now_unix_millis) override {
    return Timed(kFetchMessages,
                 [&] { return inner_->FetchMessages(tenant_id, group_id, after_sequence, limit, now_unix_millis); });
  }
  absl::StatusOr<std::vector<StoredWelcome>> FetchWelcomes(const std::string& tenant_id,
                                                           const std::string& member_id) override {
    return Timed(kFetchWelcomes, [&] { return inner_->FetchWelcomes(tenant_id, member_id); });
  }
  absl::Status DeleteWelcome(const std::string& tenant_id, const std::string& member_id, uint64_t welcome_id) override {
    return Timed(kDeleteWelcome, [&] { return inner_->DeleteWelcome(tenant_id, member_id, welcome_id); });
  }
  absl::StatusOr<uint64_t> PutStateBlob(const std::string& tenant_id, const std::string& member_id,
                                        const std::string& name, uint64_t expected_version,
                                        const std::string& ciphertext) override {
    return Timed(kPutStateBlob,
                 [&] { return inner_->PutStateBlob(tenant_id, member_id, name, expected_version, ciphertext); });
  }
  absl::StatusOr<StateBlob> GetStateBlob(const std::string& tenant_id, const std::string& member_id,
                                         const std::string& name) override {
    return Timed(kGetStateBlob, [&] { return inner_->GetStateBlob(tenant_id, member_id, name); });
  }
  absl::StatusOr<uint64_t> RecordAlarm(const std::string& tenant_id, const AlarmRecord& alarm,
                                       const RequestNonce& nonce) override {
    return Timed(kRecordAlarm, [&] { return inner_->RecordAlarm(tenant_id, alarm, nonce); });
  }
  absl::StatusOr<std::vector<AlarmRecord>> ListAlarms(const std::string& tenant_id, const std::string& group_id,
                                                      uint64_t after_alarm_id, uint32_t limit) override {
    return Timed(kListAlarms, [&] { return inner_->ListAlarms(tenant_id, group_id, after_alarm_id, limit); });
  }
  absl::Status PurgeExpired(uint64_t now_unix_millis) override {
    return Timed(kPurgeExpired, [&] { return inner_->PurgeExpired(now_unix_millis); });
  }

  using Store::GroupHeader;

 private:
  struct OperationMetrics {
    prometheus::Histogram* duration = nullptr;
    prometheus::Counter* errors = nullptr;
  };

  template <typename Call>
  auto Timed(Operation operation, Call&& call) -> decltype(call()) {
    const absl::Time start = absl::Now();
    auto result = call();
    const OperationMetrics& metrics = metrics_[operation];
    metrics.duration->Observe(absl::ToDoubleSeconds(absl::Now() - start));
    if (IsStorageFailure(StatusOf(result))) metrics.errors->Increment();
    return result;
  }

  Store* inner_;
  std::array<OperationMetrics, kOperationCount> metrics_;
};

}  // namespace

std::unique_ptr<Store> NewTimedStore(Store* inner, prometheus::Registry& registry) {
  return std::make_unique<TimedStore>(inner, registry);
}

}  // namespace artd::observability
