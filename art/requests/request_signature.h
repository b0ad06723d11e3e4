// Member-level authorization of service requests. A request that speaks for a member carries a
// MemberAuth: SignWithLabel(IKs, "request", encode(tenant, method, member id, timestamp, nonce,
// digest)), where the digest is SHA-256 of the canonical encoding of the request's content (below).
// The tenant backend relays the request but cannot forge it, and the service refuses a nonce it has
// seen and a timestamp outside its window, so a captured request cannot be replayed.
//
// Shared by the client SDK (which signs) and the service (which verifies); no gRPC here.
#ifndef ART_REQUESTS_REQUEST_SIGNATURE_H_
#define ART_REQUESTS_REQUEST_SIGNATURE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "api/art/v1/service.pb.h"
#include "art/crypto/bytes.h"
#include "art/crypto/ed25519.h"

namespace art {

// gRPC method names, as the service sees them in its handlers.
inline constexpr std::string_view kPublishIdentityMethod = "/art.v1.KeyDirectory/PublishIdentity";
inline constexpr std::string_view kUploadPrekeysMethod = "/art.v1.KeyDirectory/UploadPrekeys";
inline constexpr std::string_view kCreateGroupMethod = "/art.v1.Groups/CreateGroup";
inline constexpr std::string_view kSubmitCommitMethod = "/art.v1.Groups/SubmitCommit";
inline constexpr std::string_view kReportAlarmMethod = "/art.v1.Groups/ReportAlarm";
inline constexpr std::string_view kPostMessageMethod = "/art.v1.Mailbox/PostMessage";
inline constexpr std::string_view kFetchWelcomesMethod = "/art.v1.Mailbox/FetchWelcomes";
inline constexpr std::string_view kAckWelcomeMethod = "/art.v1.Mailbox/AckWelcome";
inline constexpr std::string_view kPutStateMethod = "/art.v1.StateBlobs/PutState";
inline constexpr std::string_view kGetStateMethod = "/art.v1.StateBlobs/GetState";

inline constexpr size_t kRequestNonceSize = 16;
// The longest ReportAlarmRequest.detail the service takes (the reporter's error message).
inline constexpr size_t kMaxAlarmDetailBytes = 1024;

// The digest of each request's content, its MemberAuth excluded.
Sha256Digest RequestDigest(const v1::PublishIdentityRequest& request);
Sha256Digest RequestDigest(const v1::UploadPrekeysRequest& request);
Sha256Digest RequestDigest(const v1::CreateGroupRequest& request);
Sha256Digest RequestDigest(const v1::SubmitCommitRequest& request);
Sha256Digest RequestDigest(const v1::ReportAlarmRequest& request);
Sha256Digest RequestDigest(const v1::PostMessageRequest& request);
Sha256Digest RequestDigest(const v1::FetchWelcomesRequest& request);
Sha256Digest RequestDigest(const v1::AckWelcomeRequest& request);
Sha256Digest RequestDigest(const v1::PutStateRequest& request);
Sha256Digest RequestDigest(const v1::GetStateRequest& request);

// Signs for |member_id| with a fresh random nonce and |timestamp_unix_millis|.
absl::StatusOr<v1::MemberAuth> SignRequest(const Ed25519PrivateKey& signing_key, std::string_view tenant_id,
                                           std::string_view method, std::string_view member_id,
                                           const Sha256Digest& digest, uint64_t timestamp_unix_millis);

// Checks |auth|'s shape and its signature under |signing_key| (the member's IKs); the service adds the
// timestamp window and the nonce check. INVALID_ARGUMENT for a malformed auth, PERMISSION_DENIED for a
// signature that does not verify.
absl::Status VerifyRequestSignature(const v1::MemberAuth& auth, const Ed25519PublicKey& signing_key,
                                    std::string_view tenant_id, std::string_view method,
                                    const Sha256Digest& digest);

}  // namespace art

#endif  // ART_REQUESTS_REQUEST_SIGNATURE_H_
