#include "client/cli/member_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "art/base/status_macros.h"
#include "art/crypto/bytes.h"
#include "art/crypto/ed25519.h"
#include "art/crypto/random.h"
#include "art/identity/credential.h"
#include "client/state_store.h"

namespace artd::client::cli {
namespace {

constexpr size_t kStateKeySize = 32;

absl::Status ErrnoError(const std::string& what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// Parses |hex| as exactly |size| secret bytes; the intermediate copy is wiped.
absl::StatusOr<art::SecretBytes> SecretFromHex(std::string_view hex, size_t size, const std::string& what) {
  art::Bytes bytes;
  const bool parsed = art::FromHex(hex, &bytes);
  art::SecretBytes secret(bytes);
  art::SecureWipe(bytes.data(), bytes.size());
  if (!parsed || secret.size() != size) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must be ", 2 * size, " hex digits"));
  }
  return secret;
}

// Debian's Abseil has its own string_view type.
std::string_view StdView(absl::string_view view) { return std::string_view(view.data(), view.size()); }

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, " does not exist"));
    return ErrnoError("cannot open", path);
  }
  std::string content;
  char buffer[256];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return ErrnoError("cannot read", path);
    }
    content.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return content;
}

// Writes |content| to a new file |path| with |mode| and makes it durable, failing if it exists:
// both files written here are written once, and a second writer must not replace the first's.
absl::Status WriteNewFile(const std::string& path, std::string_view content, mode_t mode) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return absl::AlreadyExistsError(absl::StrCat(path, " already exists"));
    return ErrnoError("cannot create", path);
  }
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return ErrnoError("cannot write", path);
    }
    written += static_cast<size_t>(n);
  }
  const bool synced = fsync(fd) == 0;
  close(fd);
  if (!synced) return ErrnoError("cannot sync", path);
  return absl::OkStatus();
}

absl::Status MakeDirectory(const std::string& path) {
  // Owner-only: the directory holds the member's (encrypted) secrets and perhaps its key.
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoError("cannot create directory", path);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ClientOptions> MakeClientOptions(const ServiceSettings& settings,
                                                std::shared_ptr<grpc::Channel> channel) {
  ClientOptions options;
  options.channel = std::move(channel);
  options.api_key = settings.api_key;
  options.tenant_id = settings.tenant_id;
  for (const std::string& hex : settings.tenant_keys_hex) {
    art::Bytes bytes;
    if (!art::FromHex(hex, &bytes) || bytes.size() != art::kEd25519PublicKeySize) {
      return absl::InvalidArgumentError(
          absl::StrCat("tenant key ", hex, " is not ", 2 * art::kEd25519PublicKeySize, " hex digits"));
    }
    ART_RETURN_IF_ERROR(art::ValidateEd25519PublicKey(bytes));
    art::Ed25519PublicKey key;
    std::copy(bytes.begin(), bytes.end(), key.begin());
    options.trusted_tenant_keys.push_back(key);
  }
  return options;
}

absl::StatusOr<Certifier> SeedCertifier(const std::string& seed_hex) {
  ART_ASSIGN_OR_RETURN(art::SecretBytes seed, SecretFromHex(seed_hex, art::kEd25519SeedSize, "tenant signing seed"));
  ART_ASSIGN_OR_RETURN(art::Ed25519PrivateKey key, art::Ed25519PrivateKey::FromSeed(seed.span()));
  return Certifier([key](art::v1::Credential* credential) { return art::CertifyCredential(key, credential); });
}

absl::StatusOr<art::SecretBytes> MemberDir::StateKey(const std::string& state_key_hex, bool create) const {
  if (!state_key_hex.empty()) return SecretFromHex(state_key_hex, kStateKeySize, "ARTD_STATE_KEY");
  if (create) {
    ART_ASSIGN_OR_RETURN(art::SecretBytes key, art::RandomSecret(kStateKeySize));
    std::string hex = art::ToHex(key.span()) + "\n";
    absl::Status written = WriteNewFile(KeyPath(), hex, 0600);
    art::SecureWipe(hex.data(), hex.size());
    // A key file left by a registration that failed afterwards is reused below.
    if (written.ok()) return key;
    if (!absl::IsAlreadyExists(written)) return written;
  }
  struct stat info;
  if (stat(KeyPath().c_str(), &info) != 0) {
    if (errno == ENOENT) {
      return absl::FailedPreconditionError(
          absl::StrCat("no state key: set ARTD_STATE_KEY or keep the key file ", KeyPath()));
    }
    return ErrnoError("cannot stat", KeyPath());
  }
  // As ssh does with private keys: a key others can read no longer protects the state.
  if ((info.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(KeyPath(), " is accessible to other users; chmod 600 it (and consider the key exposed)"));
  }
  ART_ASSIGN_OR_RETURN(std::string hex, ReadSmallFile(KeyPath()));
  absl::StatusOr<art::SecretBytes> key =
      SecretFromHex(StdView(absl::StripAsciiWhitespace(hex)), kStateKeySize, absl::StrCat("the key in ", KeyPath()));
  art::SecureWipe(hex.data(), hex.size());
  return key;
}

absl::StatusOr<std::string> MemberDir::MemberId() const {
  absl::StatusOr<std::string> member = ReadSmallFile(MemberPath());
  if (absl::IsNotFound(member.status())) {
    return absl::FailedPreconditionError(absl::StrCat("no member is registered in ", path_, " (run register first)"));
  }
  if (!member.ok()) return member.status();
  return std::string(absl::StripAsciiWhitespace(*member));
}

absl::StatusOr<std::unique_ptr<MemberClient>> MemberDir::Register(ClientOptions options,
                                                                  const std::string& member_id,
                                                                  const Certifier& certify,
                                                                  const std::string& state_key_hex) const {
  if (member_id.empty()) return absl::InvalidArgumentError("the member id is empty");
  ART_RETURN_IF_ERROR(MakeDirectory(path_));
  if (absl::StatusOr<std::string> existing = MemberId(); existing.ok()) {
    return absl::AlreadyExistsError(absl::StrCat(path_, " already holds member ", *existing));
  }
  ART_ASSIGN_OR_RETURN(art::SecretBytes key, StateKey(state_key_hex, /*create=*/true));
  ART_ASSIGN_OR_RETURN(std::unique_ptr<StateStore> store, OpenFileStateStore(StorePath(), key));
  ART_ASSIGN_OR_RETURN(std::unique_ptr<MemberClient> member,
                       MemberClient::Register(std::move(options), member_id, certify, std::move(store)));
  // Written last: a directory names a member only once that member's state is complete.
  ART_RETURN_IF_ERROR(WriteNewFile(MemberPath(), member_id + "\n", 0600));
  return member;
}

absl::StatusOr<std::unique_ptr<MemberClient>> MemberDir::Open(ClientOptions options,
                                                              const std::string& state_key_hex) const {
  ART_ASSIGN_OR_RETURN(std::string member_id, MemberId());
  ART_ASSIGN_OR_RETURN(art::SecretBytes key, StateKey(state_key_hex, /*create=*/false));
  ART_ASSIGN_OR_RETURN(std::unique_ptr<StateStore> store, OpenFileStateStore(StorePath(), key));
  return MemberClient::Open(std::move(options), member_id, std::move(store));
}

}  // namespace artd::client::cli
