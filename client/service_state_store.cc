#include "client/service_state_store.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "art/base/status_macros.h"
#include "art/requests/request_signature.h"
#include "client/service_connection.h"
#include "client/state_crypto.h"

namespace artd::client {
namespace {

namespace v1 = ::art::v1;

class ServiceStateStore : public StateStore {
 public:
  ServiceStateStore(const ClientOptions& options, std::string member_id, art::SecretBytes key,
                    std::optional<art::Ed25519PrivateKey> signing_key)
      : connection_(options), member_id_(std::move(member_id)), key_(std::move(key)),
        signing_key_(std::move(signing_key)) {}

  absl::StatusOr<std::optional<VersionedState>> Load(const std::string& name) override {
    v1::GetStateRequest request;
    request.set_member_id(member_id_);
    request.set_name(name);
    ART_RETURN_IF_ERROR(Sign(art::kGetStateMethod, &request));
    v1::GetStateResponse response;
    absl::Status status = connection_.Call("GetState", [&](grpc::ClientContext* context) {
      return connection_.state().GetState(context, request, &response);
    });
    if (absl::IsNotFound(status)) return std::nullopt;
    ART_RETURN_IF_ERROR(status);
    // The version the service reports is bound into the ciphertext: a service that rolls a blob
    // back or swaps versions is caught here.
    ART_ASSIGN_OR_RETURN(art::SecretBytes plaintext,
                         OpenState(key_, name, response.version(), art::AsBytes(response.ciphertext())));
    return VersionedState{response.version(), std::move(plaintext)};
  }

  absl::StatusOr<uint64_t> Store(const std::string& name, uint64_t expected_version,
                                 const art::SecretBytes& plaintext) override {
    const uint64_t version = expected_version + 1;
    ART_ASSIGN_OR_RETURN(art::Bytes sealed, SealState(key_, name, version, plaintext));
    v1::PutStateRequest request;
    request.set_member_id(member_id_);
    request.set_name(name);
    request.set_expected_version(expected_version);
    request.set_ciphertext(std::string(sealed.begin(), sealed.end()));
    ART_RETURN_IF_ERROR(Sign(art::kPutStateMethod, &request));
    v1::PutStateResponse response;
    absl::Status status = connection_.Call("PutState", [&](grpc::ClientContext* context) {
      return connection_.state().PutState(context, request, &response);
    });
    // Replacing a blob that is gone is as stale as replacing an older version.
    if (absl::IsNotFound(status)) return absl::FailedPreconditionError(status.message());
    ART_RETURN_IF_ERROR(status);
    if (response.version() != version) {
      return absl::InternalError(absl::StrCat("PutState stored version ", response.version(), " of \"", name,
                                              "\", expected ", version));
    }
    return version;
  }

  void UseSigningKey(const art::Ed25519PrivateKey& signing_key) override {
    std::lock_guard<std::mutex> lock(mutex_);
    signing_key_ = signing_key;
  }

 private:
  template <typename Request>
  absl::Status Sign(std::string_view method, Request* request) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!signing_key_.has_value()) {
      return absl::FailedPreconditionError(
          "the service state store has no signing key: pass the member's identity signing key when opening it");
    }
    return connection_.SignAs(*signing_key_, member_id_, method, request);
  }

  ServiceConnection connection_;
  const std::string member_id_;
  const art::SecretBytes key_;
  std::mutex mutex_;
  std::optional<art::Ed25519PrivateKey> signing_key_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<StateStore>> OpenServiceStateStore(const ClientOptions& options, std::string member_id,
                                                                  const art::SecretBytes& key,
                                                                  std::optional<art::Ed25519PrivateKey> signing_key) {
  ART_RETURN_IF_ERROR(CheckStateKey(key));
  if (options.channel == nullptr) return absl::InvalidArgumentError("options.channel must be set");
  if (member_id.empty()) return absl::InvalidArgumentError("member_id must not be empty");
  return std::make_unique<ServiceStateStore>(options, std::move(member_id), key, std::move(signing_key));
}

}  // namespace artd::client
