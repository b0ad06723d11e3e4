// The service's operations, one per RPC, free of gRPC: each takes the authenticated tenant and the
// request message and returns the response or an absl::Status whose code the gRPC layer passes on.
// No group state is kept between calls: every call reads what it needs from the Store, so any
// replica can serve any request.
#ifndef SERVICE_CORE_SERVICE_CORE_H_
#define SERVICE_CORE_SERVICE_CORE_H_

#include <algorithm>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "api/art/v1/service.pb.h"
#include "service/core/service_config.h"
#include "storage/store.h"

namespace artd {

namespace v1 = ::art::v1;

class ServiceCore {
 public:
  // |store| must outlive the core.
  ServiceCore(Store* store, ServiceConfig config);

  // Key directory.
  absl::StatusOr<v1::PublishIdentityResponse> PublishIdentity(const std::string& tenant,
                                                              const v1::PublishIdentityRequest& request);
  absl::StatusOr<v1::UploadPrekeysResponse> UploadPrekeys(const std::string& tenant,
                                                          const v1::UploadPrekeysRequest& request);
  absl::StatusOr<v1::CountPrekeysResponse> CountPrekeys(const std::string& tenant,
                                                        const v1::CountPrekeysRequest& request);
  absl::StatusOr<v1::FetchPrekeyBundleResponse> FetchPrekeyBundle(
      const std::string& tenant, const v1::FetchPrekeyBundleRequest& request);

  // Groups.
  absl::StatusOr<v1::CreateGroupResponse> CreateGroup(const std::string& tenant,
                                                      const v1::CreateGroupRequest& request);
  absl::StatusOr<v1::GetSetupResponse> GetSetup(const std::string& tenant,
                                                const v1::GetSetupRequest& request);
  absl::StatusOr<v1::GetGroupResponse> GetGroup(const std::string& tenant,
                                                const v1::GetGroupRequest& request);
  absl::StatusOr<v1::SubmitCommitResponse> SubmitCommit(const std::string& tenant,
                                                        const v1::SubmitCommitRequest& request);
  absl::StatusOr<v1::ListCommitsResponse> ListCommits(const std::string& tenant,
                                                      const v1::ListCommitsRequest& request);
  absl::StatusOr<v1::ReportAlarmResponse> ReportAlarm(const std::string& tenant,
                                                      const v1::ReportAlarmRequest& request);
  absl::StatusOr<v1::ListAlarmsResponse> ListAlarms(const std::string& tenant,
                                                    const v1::ListAlarmsRequest& request);

  // Streams new commits and messages of a group, from the request's positions on, through |emit|
  // until |emit| returns false or |cancelled| returns true. Events from this replica arrive at once;
  // events committed through other replicas are found by polling every |poll_interval|.
  absl::Status WatchGroup(const std::string& tenant, const v1::WatchGroupRequest& request,
                          const std::function<bool(const v1::GroupEvent&)>& emit,
                          const std::function<bool()>& cancelled);

  // Mailbox.
  absl::StatusOr<v1::PostMessageResponse> PostMessage(const std::string& tenant,
                                                      const v1::PostMessageRequest& request);
  absl::StatusOr<v1::FetchMessagesResponse> FetchMessages(const std::string& tenant,
                                                          const v1::FetchMessagesRequest& request);
  absl::StatusOr<v1::FetchWelcomesResponse> FetchWelcomes(const std::string& tenant,
                                                          const v1::FetchWelcomesRequest& request);
  absl::StatusOr<v1::AckWelcomeResponse> AckWelcome(const std::string& tenant,
                                                    const v1::AckWelcomeRequest& request);

  // State blobs.
  absl::StatusOr<v1::PutStateResponse> PutState(const std::string& tenant,
                                                const v1::PutStateRequest& request);
  absl::StatusOr<v1::GetStateResponse> GetState(const std::string& tenant,
                                                const v1::GetStateRequest& request);

  const ServiceConfig& config() const { return config_; }

 private:
  uint64_t Now() const { return config_.now_unix_millis(); }
  // A request's list limit: 0 means the configured maximum, and nothing exceeds it.
  uint32_t ListLimit(uint32_t requested) const {
    return requested == 0 ? config_.max_list_limit : std::min(requested, config_.max_list_limit);
  }
  // The tenant's credential keys, as trust anchors for credential checks.
  absl::StatusOr<std::vector<art::Ed25519PublicKey>> TrustedKeys(const std::string& tenant);
  // Checks a MemberAuth for |member_id| (member, timestamp window, signature over |digest| under
  // |signing_key|) and returns its nonce, which the caller must record with the write the request
  // authorizes.
  absl::StatusOr<RequestNonce> VerifyAuth(const std::string& tenant, std::string_view method,
                                          const std::string& member_id, const v1::MemberAuth& auth,
                                          const art::Sha256Digest& digest, const art::Ed25519PublicKey& signing_key);
  // A nonce's recording refused as ALREADY_EXISTS becomes PERMISSION_DENIED (a replay).
  static absl::Status RefuseReplay(absl::Status recorded);
  // VerifyAuth, then records the nonce on its own (a replay is PERMISSION_DENIED).
  absl::Status CheckAuth(const std::string& tenant, std::string_view method, const std::string& member_id,
                         const v1::MemberAuth& auth, const art::Sha256Digest& digest,
                         const art::Ed25519PublicKey& signing_key);
  // As CheckAuth, with the signing key of the member's published identity.
  absl::Status CheckPublishedMemberAuth(const std::string& tenant, std::string_view method,
                                        const std::string& member_id, const v1::MemberAuth& auth,
                                        const art::Sha256Digest& digest);
  // The public state of a group at |epoch| (the current one when nullopt), with every credential.
  absl::StatusOr<v1::PublicGroupState> LoadState(const std::string& tenant, const std::string& group_id,
                                                 std::optional<uint64_t> epoch);

  // Wakes watchers when this replica accepts a commit or a message.
  void NotifyWatchers();

  Store* store_;
  ServiceConfig config_;
  absl::Mutex watch_mutex_;
  absl::CondVar watch_changed_;
  uint64_t watch_generation_ ABSL_GUARDED_BY(watch_mutex_) = 0;
};

}  // namespace artd

#endif  // SERVICE_CORE_SERVICE_CORE_H_
