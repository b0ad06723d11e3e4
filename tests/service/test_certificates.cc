#include "tests/service/test_certificates.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "tests/service/service_harness.h"

namespace artd::testing {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "test certificates: %s failed\n", what);
    std::abort();
  }
}

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;

KeyPtr NewKey() {
  KeyPtr key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  Check(key != nullptr, "EVP_EC_gen");
  return key;
}

std::string KeyPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  Check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string CertificatePem(X509* certificate) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  Check(PEM_write_bio_X509(bio.get(), certificate) == 1, "PEM_write_bio_X509");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

void AddExtension(X509* certificate, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  Check(extension != nullptr, "X509V3_EXT_conf_nid");
  Check(X509_add_ext(certificate, extension, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(extension);
}

// A certificate for |key| named |common_name|, signed by |issuer_key| (|issuer| nullptr: self-signed).
CertPtr NewCertificate(EVP_PKEY* key, const std::string& common_name, X509* issuer, EVP_PKEY* issuer_key) {
  static long serial = 1;
  CertPtr certificate(X509_new(), &X509_free);
  Check(certificate != nullptr, "X509_new");
  X509_set_version(certificate.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 24 * 3600);
  X509_set_pubkey(certificate.get(), key);
  X509_NAME* name = X509_get_subject_name(certificate.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(certificate.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  return certificate;
}

}  // namespace

struct TestCertificateAuthority::State {
  KeyPtr key{nullptr, &EVP_PKEY_free};
  CertPtr certificate{nullptr, &X509_free};

  PemKeyAndCertificate Issue(const std::string& common_name, const char* extended_key_usage,
                             const char* subject_alt_name) const {
    KeyPtr leaf_key = NewKey();
    CertPtr leaf = NewCertificate(leaf_key.get(), common_name, certificate.get(), key.get());
    AddExtension(leaf.get(), certificate.get(), NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(leaf.get(), certificate.get(), NID_key_usage, "critical,digitalSignature");
    AddExtension(leaf.get(), certificate.get(), NID_ext_key_usage, extended_key_usage);
    if (subject_alt_name != nullptr)
      AddExtension(leaf.get(), certificate.get(), NID_subject_alt_name, subject_alt_name);
    Check(X509_sign(leaf.get(), key.get(), EVP_sha256()) > 0, "X509_sign");
    return PemKeyAndCertificate{KeyPem(leaf_key.get()), CertificatePem(leaf.get())};
  }
};

TestCertificateAuthority::TestCertificateAuthority(const std::string& name) : state_(std::make_unique<State>()) {
  state_->key = NewKey();
  state_->certificate = NewCertificate(state_->key.get(), name, nullptr, nullptr);
  X509* ca = state_->certificate.get();
  AddExtension(ca, ca, NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(ca, ca, NID_subject_key_identifier, "hash");
  Check(X509_sign(ca, state_->key.get(), EVP_sha256()) > 0, "X509_sign");
  certificate_ = CertificatePem(ca);
}

TestCertificateAuthority::~TestCertificateAuthority() = default;

PemKeyAndCertificate TestCertificateAuthority::IssueServer() const {
  return state_->Issue("localhost", "serverAuth", "DNS:localhost,IP:127.0.0.1");
}

PemKeyAndCertificate TestCertificateAuthority::IssueClient(const std::string& name) const {
  return state_->Issue(name, "clientAuth", nullptr);
}

std::string WriteTempFile(const std::string& name, const std::string& contents) {
  const std::string path = TempPath(name);
  std::ofstream file(path, std::ios::binary);
  file << contents;
  Check(static_cast<bool>(file), "writing a temporary file");
  return path;
}

}  // namespace artd::testing
