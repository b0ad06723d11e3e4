// The two key-derivation steps both baselines ratchet with, built on cipher suite 1's
// ExpandWithLabel (HKDF-SHA256) so that the baselines and ART pay for the same primitives:
//
//   root step (a DH ratchet step):  prk = HKDF-Extract(root, dh_output)
//                                   root' = ExpandWithLabel(prk, "baseline root", "", 32)
//                                   chain = ExpandWithLabel(prk, "baseline chain start", "", 32)
//   chain step (one message):       key   = ExpandWithLabel(chain, "baseline key", encode(i), 32)
//                                   nonce = ExpandWithLabel(chain, "baseline nonce", encode(i), 12)
//                                   chain' = ExpandWithLabel(chain, "baseline chain", encode(i), 32)
//
// As in the Signal Double Ratchet and in ART's message keys: a used chain secret is replaced by the
// next one, so a message key cannot be recomputed from later state.
#ifndef BENCH_BASELINES_RATCHET_KDF_H_
#define BENCH_BASELINES_RATCHET_KDF_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "art/crypto/bytes.h"
#include "art/crypto/secret_bytes.h"

namespace art::baselines {

struct RootStep {
  SecretBytes next_root;
  SecretBytes chain;
};

// Mixes a fresh DH output into |root|.
absl::StatusOr<RootStep> RatchetRoot(const SecretBytes& root, const SecretBytes& dh_output);

struct ChainStep {
  SecretBytes key;    // AES-256-GCM key.
  SecretBytes nonce;  // 12 bytes.
  SecretBytes next_chain;
};

// The key and nonce of message |index| of a chain, and the chain's next secret.
absl::StatusOr<ChainStep> StepChain(const SecretBytes& chain, uint32_t index);

// A secret derived from |secret| for one purpose (|label|), e.g. the two directions' roots of a
// pairwise session.
absl::StatusOr<SecretBytes> DeriveSecret(const SecretBytes& secret, std::string_view label);

// Steps |chain| (at message |index|) forward to message |target| (>= index), returning that
// message's step. Refuses to go more than |max_skip| messages ahead (a receiver's DoS bound).
absl::StatusOr<ChainStep> StepChainTo(const SecretBytes& chain, uint32_t index, uint32_t target,
                                      uint32_t max_skip);

}  // namespace art::baselines

#endif  // BENCH_BASELINES_RATCHET_KDF_H_
