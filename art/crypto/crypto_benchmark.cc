// Timings of the crypto layer on the OpenSSL 3 backend (the one every binary links). An X25519
// Agree is the unit of the "DH floor" benchmark elsewhere.
//
//   bazel run -c opt //art/crypto:crypto_benchmark

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>

#include "art/crypto/aead.h"
#include "art/crypto/backend.h"
#include "art/crypto/ed25519.h"
#include "art/crypto/hash.h"
#include "art/crypto/x25519.h"

namespace art {
namespace {

// The benchmarks measure the happy path; a failure means the numbers are meaningless.
template <typename T>
T OrDie(absl::StatusOr<T> value) {
  if (!value.ok()) {
    std::fprintf(stderr, "crypto_benchmark: %s\n", value.status().ToString().c_str());
    std::abort();
  }
  return *std::move(value);
}

const Bytes kScalar(32, 0x42);

void BM_X25519FromSecret(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(OrDie(X25519PrivateKey::FromSecret(kScalar)));
  }
}
BENCHMARK(BM_X25519FromSecret);

void BM_X25519Agree(benchmark::State& state) {
  // Static so that the threaded run shares one key object, as parallel setup does.
  static const X25519PrivateKey key = OrDie(X25519PrivateKey::FromSecret(kScalar));
  static const X25519PrivateKey peer = OrDie(X25519PrivateKey::Generate());
  for (auto _ : state) {
    benchmark::DoNotOptimize(OrDie(key.Agree(peer.public_key())));
  }
}
BENCHMARK(BM_X25519Agree)->ThreadRange(1, 2)->UseRealTime();

void BM_Ed25519Sign(benchmark::State& state) {
  const Ed25519PrivateKey key = OrDie(Ed25519PrivateKey::FromSeed(kScalar));
  const Bytes message(100, 0x17);
  for (auto _ : state) {
    benchmark::DoNotOptimize(OrDie(key.Sign(message)));
  }
}
BENCHMARK(BM_Ed25519Sign);

void BM_Ed25519Verify(benchmark::State& state) {
  const Ed25519PrivateKey key = OrDie(Ed25519PrivateKey::FromSeed(kScalar));
  const Bytes message(100, 0x17);
  const Ed25519Signature signature = OrDie(key.Sign(message));
  for (auto _ : state) {
    const absl::Status status = Ed25519Verify(key.public_key(), message, signature);
    if (!status.ok()) state.SkipWithError("verification failed");
  }
}
BENCHMARK(BM_Ed25519Verify)->ThreadRange(1, 2)->UseRealTime();

void BM_Sha256Of64Bytes(benchmark::State& state) {
  const Bytes data(64, 0x33);
  for (auto _ : state) {
    benchmark::DoNotOptimize(Sha256(data));
  }
}
BENCHMARK(BM_Sha256Of64Bytes);

void BM_HkdfExpand32(benchmark::State& state) {
  const Bytes pseudorandom_key(32, 0x55);
  const Bytes info(40, 0x66);
  for (auto _ : state) {
    benchmark::DoNotOptimize(OrDie(HkdfExpand(pseudorandom_key, info, 32)));
  }
}
BENCHMARK(BM_HkdfExpand32);

void BM_Aes256GcmSeal1KiB(benchmark::State& state) {
  const Bytes key(32, 0x01), nonce(12, 0x02), additional_data(32, 0x03), plaintext(1024, 0x04);
  for (auto _ : state) {
    benchmark::DoNotOptimize(OrDie(Aes256GcmSeal(key, nonce, additional_data, plaintext)));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(plaintext.size()));
}
BENCHMARK(BM_Aes256GcmSeal1KiB);

// Puts the backend into the benchmark's context block.
const bool kBackendInContext = [] {
  benchmark::AddCustomContext("crypto_backend", std::string(CryptoBackendVersion()));
  return true;
}();

}  // namespace
}  // namespace art
