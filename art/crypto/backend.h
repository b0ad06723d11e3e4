// Which crypto library this binary's art/crypto was built against. Two backends implement the same
// headers: OpenSSL 3 (//art/crypto:crypto, what every binary links) and BoringSSL
// (//art/crypto:crypto_boringssl, tested on its own because it cannot share a process with gRPC).
#ifndef ART_CRYPTO_BACKEND_H_
#define ART_CRYPTO_BACKEND_H_

#include <string_view>

namespace art {

// A stable identifier of the backend: "openssl" or "boringssl".
std::string_view CryptoBackendName();

// The library's own version text (OpenSSL_version), for logs.
std::string_view CryptoBackendVersion();

}  // namespace art

#endif  // ART_CRYPTO_BACKEND_H_
