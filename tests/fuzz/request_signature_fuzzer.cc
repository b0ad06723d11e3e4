// A member-signed request as the service receives it: the digest of its content (RequestDigest) and
// its MemberAuth (VerifyRequestSignature) under the key the input names.
#include <cstddef>
#include <cstdint>

#include "art/requests/request_signature.h"
#include "art/wire/fields.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace artd::fuzz;

template <typename Request>
void VerifySigned(const Request& request, std::string_view method, const art::Ed25519PublicKey& key) {
  const art::Sha256Digest digest = art::RequestDigest(request);
  Check(digest == art::RequestDigest(request), "a request digest is not deterministic");
  absl::Status verified = art::VerifyRequestSignature(request.auth(), key, kTenant, method, digest);
  if (verified.ok()) {
    // The signature binds the method: the same auth never passes for another one.
    const std::string_view other =
        method == art::kGetStateMethod ? art::kPutStateMethod : art::kGetStateMethod;
    Check(!art::VerifyRequestSignature(request.auth(), key, kTenant, other, digest).ok(),
          "a request signature verified for another method");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SignedRequestInput input;
  if (!ParseInput(data, size, &input)) return 0;
  absl::StatusOr<art::Ed25519PublicKey> key = art::ParseEd25519PublicKey(input.signing_key(), "signing key");
  if (!key.ok()) return 0;
  switch (input.request_case()) {
    case SignedRequestInput::kPublishIdentity:
      VerifySigned(input.publish_identity(), art::kPublishIdentityMethod, *key);
      break;
    case SignedRequestInput::kUploadPrekeys:
      VerifySigned(input.upload_prekeys(), art::kUploadPrekeysMethod, *key);
      break;
    case SignedRequestInput::kCreateGroup:
      VerifySigned(input.create_group(), art::kCreateGroupMethod, *key);
      break;
    case SignedRequestInput::kSubmitCommit:
      VerifySigned(input.submit_commit(), art::kSubmitCommitMethod, *key);
      break;
    case SignedRequestInput::kPostMessage:
      VerifySigned(input.post_message(), art::kPostMessageMethod, *key);
      break;
    case SignedRequestInput::kFetchWelcomes:
      VerifySigned(input.fetch_welcomes(), art::kFetchWelcomesMethod, *key);
      break;
    case SignedRequestInput::kAckWelcome:
      VerifySigned(input.ack_welcome(), art::kAckWelcomeMethod, *key);
      break;
    case SignedRequestInput::kPutState:
      VerifySigned(input.put_state(), art::kPutStateMethod, *key);
      break;
    case SignedRequestInput::kGetState:
      VerifySigned(input.get_state(), art::kGetStateMethod, *key);
      break;
    case SignedRequestInput::kReportAlarm:
      VerifySigned(input.report_alarm(), art::kReportAlarmMethod, *key);
      break;
    case SignedRequestInput::REQUEST_NOT_SET:
      break;
  }
  return 0;
}
