#include "bench/baselines/ratchet_kdf.h"

#include <utility>

#include "art/base/status_macros.h"
#include "art/crypto/hash.h"
#include "art/encoding/encoder.h"
#include "art/suite/labeled.h"

namespace art::baselines {
namespace {

Bytes EncodeIndex(uint32_t index) {
  Encoder encoder;
  encoder.Uint32(index);
  return encoder.TakeBytes();
}

}  // namespace

absl::StatusOr<RootStep> RatchetRoot(const SecretBytes& root, const SecretBytes& dh_output) {
  const SecretBytes prk = HkdfExtract(root.span(), dh_output.span());
  RootStep step;
  ART_ASSIGN_OR_RETURN(step.next_root, ExpandWithLabel(prk.span(), "baseline root", {}, kSecretSize));
  ART_ASSIGN_OR_RETURN(step.chain, ExpandWithLabel(prk.span(), "baseline chain start", {}, kSecretSize));
  return step;
}

absl::StatusOr<ChainStep> StepChain(const SecretBytes& chain, uint32_t index) {
  const Bytes context = EncodeIndex(index);
  ChainStep step;
  ART_ASSIGN_OR_RETURN(step.key, ExpandWithLabel(chain.span(), "baseline key", context, kAes256GcmKeySize));
  ART_ASSIGN_OR_RETURN(step.nonce,
                       ExpandWithLabel(chain.span(), "baseline nonce", context, kAes256GcmNonceSize));
  ART_ASSIGN_OR_RETURN(step.next_chain, ExpandWithLabel(chain.span(), "baseline chain", context, kSecretSize));
  return step;
}

absl::StatusOr<SecretBytes> DeriveSecret(const SecretBytes& secret, std::string_view label) {
  return ExpandWithLabel(secret.span(), label, {}, kSecretSize);
}

absl::StatusOr<ChainStep> StepChainTo(const SecretBytes& chain, uint32_t index, uint32_t target,
                                      uint32_t max_skip) {
  if (target < index) return absl::InvalidArgumentError("message key already used");
  if (target - index > max_skip) return absl::InvalidArgumentError("message too far ahead");
  ART_ASSIGN_OR_RETURN(ChainStep step, StepChain(chain, index));
  for (uint32_t i = index + 1; i <= target; ++i) {
    ART_ASSIGN_OR_RETURN(step, StepChain(step.next_chain, i));
  }
  return step;
}

}  // namespace art::baselines
