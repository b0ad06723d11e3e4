#include "art/crypto/x25519.h"

#include <openssl/evp.h>
#if defined(OPENSSL_IS_BORINGSSL)
#include <openssl/curve25519.h>
#endif

#include <cstring>

#include "art/crypto/backend_internal.h"

namespace art {
namespace {

// The canonical u-coordinates (little-endian) of the points of small order on the curve and its
// twist. Multiplied by a clamped scalar (a multiple of 8) they all give u = 0, an all-zero secret.
// The other encodings of these points, p (= 0) and p + 1 (= 1) and everything with the top bit
// set, are >= p and so already rejected as non-canonical.
// clang-format off
constexpr uint8_t kSmallOrderPoints[][kX25519KeySize] = {
  // u = 0: order 2.
  {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
  // u = 1: order 4.
  {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
  // Order 8 (on the curve).
  {0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b,
   0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
  // Order 8 (on the curve).
  {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
   0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
  // u = p - 1: order 4 on the twist.
  {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
};
// clang-format on

}  // namespace

// The backend's view of one key pair. Immutable once built, so one object serves many threads.
struct X25519PrivateKey::Impl {
  SecretBytes secret;
#if !defined(OPENSSL_IS_BORINGSSL)
  // Built once from the scalar (which also computes the public key), so Agree() imports nothing of
  // ours.
  crypto_internal::UniqueEvpPkey key;
  // A derive context on |key|, initialised once. Agree() duplicates it (~0.1 us) rather than build a
  // new one (~3 us, as that fetches the algorithm again); duplicating only reads it, so threads may
  // do it at the same time.
  crypto_internal::UniqueEvpPkeyContext derive_template;
#endif
};

namespace {

#if defined(OPENSSL_IS_BORINGSSL)

// The native X25519 needs nothing but the scalar.
absl::StatusOr<std::shared_ptr<const X25519PrivateKey::Impl>> MakeImpl(
    ByteSpan secret, X25519PublicKey* public_key) {
  auto impl = std::make_shared<X25519PrivateKey::Impl>();
  impl->secret = SecretBytes(secret);
  X25519_public_from_private(public_key->data(), secret.data());
  return impl;
}

// Returns false when the result is all zero (the only way X25519() fails).
bool AgreeWithBackend(const X25519PrivateKey::Impl& impl, ByteSpan peer_public_key,
                      absl::Span<uint8_t> shared_secret) {
  return X25519(shared_secret.data(), impl.secret.data(), peer_public_key.data()) == 1;
}

#else

absl::StatusOr<std::shared_ptr<const X25519PrivateKey::Impl>> MakeImpl(
    ByteSpan secret, X25519PublicKey* public_key) {
  auto impl = std::make_shared<X25519PrivateKey::Impl>();
  impl->secret = SecretBytes(secret);
  absl::StatusOr<crypto_internal::UniqueEvpPkey> key =
      crypto_internal::NewRawPrivateKey(EVP_PKEY_X25519, secret, absl::MakeSpan(*public_key));
  if (!key.ok()) return key.status();
  impl->key = *std::move(key);
  impl->derive_template.reset(EVP_PKEY_CTX_new(impl->key.get(), nullptr));
  if (impl->derive_template == nullptr || EVP_PKEY_derive_init(impl->derive_template.get()) != 1) {
    return crypto_internal::BackendError(absl::StatusCode::kInternal,
                                         "X25519: cannot set up key agreement");
  }
  return impl;
}

// Returns false when the derivation fails; with a validated peer key that means an all-zero result,
// which OpenSSL refuses.
bool AgreeWithBackend(const X25519PrivateKey::Impl& impl, ByteSpan peer_public_key,
                      absl::Span<uint8_t> shared_secret) {
  crypto_internal::UniqueEvpPkey peer =
      crypto_internal::NewRawPublicKey(EVP_PKEY_X25519, peer_public_key);
  crypto_internal::UniqueEvpPkeyContext context(EVP_PKEY_CTX_dup(impl.derive_template.get()));
  size_t shared_secret_size = shared_secret.size();
  // validate_peer = 0: ValidateX25519PublicKey has already applied our stricter rules.
  return peer != nullptr && context != nullptr &&
         EVP_PKEY_derive_set_peer_ex(context.get(), peer.get(), /*validate_peer=*/0) == 1 &&
         EVP_PKEY_derive(context.get(), shared_secret.data(), &shared_secret_size) == 1 &&
         shared_secret_size == kX25519KeySize;
}

#endif  // OPENSSL_IS_BORINGSSL

}  // namespace

absl::Status ValidateX25519PublicKey(ByteSpan public_key) {
  if (public_key.size() != kX25519KeySize) {
    return absl::InvalidArgumentError("X25519 public key must be 32 bytes");
  }
  // RFC 7748 would mask the top bit; we take it as part of u, so a set top bit is non-canonical
  // too.
  if (!crypto_internal::IsLessThanLittleEndian(public_key.data(), crypto_internal::kCurve25519Prime,
                                               kX25519KeySize)) {
    return absl::InvalidArgumentError("X25519 public key is not canonical (u >= 2^255 - 19)");
  }
  for (const auto& small_order_point : kSmallOrderPoints) {
    if (std::memcmp(public_key.data(), small_order_point, kX25519KeySize) == 0) {
      return absl::InvalidArgumentError("X25519 public key is a point of small order");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<X25519PrivateKey> X25519PrivateKey::Generate() {
  return crypto_internal::FromRandomSecret(kX25519KeySize, &FromSecret);
}

absl::StatusOr<X25519PrivateKey> X25519PrivateKey::FromSecret(ByteSpan secret) {
  if (secret.size() != kX25519KeySize) {
    return absl::InvalidArgumentError("X25519 private key must be 32 bytes");
  }
  X25519PublicKey public_key;
  absl::StatusOr<std::shared_ptr<const Impl>> impl = MakeImpl(secret, &public_key);
  if (!impl.ok()) return impl.status();
  return X25519PrivateKey(*std::move(impl), public_key);
}

const SecretBytes& X25519PrivateKey::secret() const {
  return impl_ != nullptr ? impl_->secret : crypto_internal::EmptySecretBytes();
}

absl::StatusOr<SecretBytes> X25519PrivateKey::Agree(ByteSpan peer_public_key) const {
  if (impl_ == nullptr) return absl::FailedPreconditionError("X25519: moved-from private key");
  if (absl::Status status = ValidateX25519PublicKey(peer_public_key); !status.ok()) return status;
  SecretBytes shared_secret(kX25519KeySize);
  static constexpr uint8_t kZeros[kX25519KeySize] = {};
  // Checked here too, whatever the backend does: a zero secret means the peer chose our result.
  if (!AgreeWithBackend(*impl_, peer_public_key, shared_secret.mutable_span()) ||
      ConstantTimeEquals(shared_secret.span(), ByteSpan(kZeros, kX25519KeySize))) {
    return crypto_internal::BackendError(absl::StatusCode::kInvalidArgument,
                                         "X25519 shared secret is all zero");
  }
  return shared_secret;
}

}  // namespace art
