// Certificates made at test time with OpenSSL (nothing committed): a CA, a server certificate for
// "localhost" and 127.0.0.1, and client certificates, all PEM, EC P-256 keys.
#ifndef TESTS_SERVICE_TEST_CERTIFICATES_H_
#define TESTS_SERVICE_TEST_CERTIFICATES_H_

#include <memory>
#include <string>

namespace artd::testing {

struct PemKeyAndCertificate {
  std::string key;          // PKCS#8 private key.
  std::string certificate;  // The certificate alone (not the chain).
};

class TestCertificateAuthority {
 public:
  // A self-signed CA named |name|; aborts the test binary if OpenSSL fails.
  explicit TestCertificateAuthority(const std::string& name);
  ~TestCertificateAuthority();

  const std::string& certificate() const { return certificate_; }
  // A server certificate for DNS "localhost" and IP 127.0.0.1.
  PemKeyAndCertificate IssueServer() const;
  // A client certificate with common name |name|.
  PemKeyAndCertificate IssueClient(const std::string& name) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::string certificate_;
};

// Writes |contents| to a fresh file under the test's temporary directory; returns its path.
std::string WriteTempFile(const std::string& name, const std::string& contents);

}  // namespace artd::testing

#endif  // TESTS_SERVICE_TEST_CERTIFICATES_H_
