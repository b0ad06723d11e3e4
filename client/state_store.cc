#include "client/state_store.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "art/base/status_macros.h"
#include "art/crypto/bytes.h"
#include "client/state_crypto.h"

namespace artd::client {
namespace {

// File layout: magic, the version in clear (so a writer can compare-and-swap without the key), then
// nonce || ciphertext || tag (see state_crypto.h).
constexpr char kMagic[4] = {'A', 'R', 'T', 'S'};
constexpr size_t kHeaderSize = sizeof(kMagic) + 8;

absl::Status ErrnoError(std::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(std::string(what), " ", path, ": ", std::strerror(errno)));
}

// A file descriptor closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

absl::Status WriteAll(int fd, const uint8_t* data, size_t size, const std::string& path) {
  while (size > 0) {
    ssize_t written = write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot write", path);
    }
    data += written;
    size -= static_cast<size_t>(written);
  }
  return absl::OkStatus();
}

// The whole file, or nullopt when it does not exist.
absl::StatusOr<std::optional<art::Bytes>> ReadFile(const std::string& path) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::nullopt;
    return ErrnoError("cannot open", path);
  }
  art::Bytes content;
  uint8_t buffer[8192];
  while (true) {
    ssize_t got = read(fd.get(), buffer, sizeof(buffer));
    if (got < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot read", path);
    }
    if (got == 0) break;
    content.insert(content.end(), buffer, buffer + got);
  }
  return content;
}

absl::StatusOr<uint64_t> ParseVersion(const art::Bytes& content, const std::string& path) {
  if (content.size() < kHeaderSize || std::memcmp(content.data(), kMagic, sizeof(kMagic)) != 0) {
    return absl::DataLossError(absl::StrCat(path, " is not a state file"));
  }
  uint64_t version = 0;
  for (size_t i = 0; i < 8; ++i) version = (version << 8) | content[sizeof(kMagic) + i];
  return version;
}

class FileStateStore : public StateStore {
 public:
  FileStateStore(std::string directory, art::SecretBytes key) : directory_(std::move(directory)), key_(std::move(key)) {}

  absl::StatusOr<std::optional<VersionedState>> Load(const std::string& name) override {
    const std::string path = PathOf(name);
    ART_ASSIGN_OR_RETURN(std::optional<art::Bytes> content, ReadFile(path));
    if (!content.has_value()) return std::nullopt;
    ART_ASSIGN_OR_RETURN(uint64_t version, ParseVersion(*content, path));
    ART_ASSIGN_OR_RETURN(art::SecretBytes plaintext,
                         OpenState(key_, name, version, art::ByteSpan(*content).subspan(kHeaderSize)));
    return VersionedState{version, std::move(plaintext)};
  }

  absl::StatusOr<uint64_t> Store(const std::string& name, uint64_t expected_version,
                                 const art::SecretBytes& plaintext) override {
    // The lock makes read-compare-rename atomic across processes; readers need none, since a rename
    // replaces the file whole.
    const std::string lock_path = directory_ + "/LOCK";
    Fd lock(open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (lock.get() < 0) return ErrnoError("cannot open", lock_path);
    while (flock(lock.get(), LOCK_EX) != 0) {
      if (errno != EINTR) return ErrnoError("cannot lock", lock_path);
    }
    const std::string path = PathOf(name);
    ART_ASSIGN_OR_RETURN(std::optional<art::Bytes> current, ReadFile(path));
    uint64_t current_version = 0;
    if (current.has_value()) {
      ART_ASSIGN_OR_RETURN(current_version, ParseVersion(*current, path));
    }
    if (current_version != expected_version) {
      if (expected_version == 0) {
        return absl::AlreadyExistsError(absl::StrCat("state \"", name, "\" already exists (version ",
                                                     current_version, ")"));
      }
      return absl::FailedPreconditionError(absl::StrCat("state \"", name, "\" is at version ", current_version,
                                                        ", not ", expected_version, ": reload it"));
    }
    const uint64_t version = expected_version + 1;
    ART_ASSIGN_OR_RETURN(art::Bytes sealed, SealState(key_, name, version, plaintext));
    art::Bytes content(kMagic, kMagic + sizeof(kMagic));
    for (int shift = 56; shift >= 0; shift -= 8) content.push_back(static_cast<uint8_t>(version >> shift));
    content.insert(content.end(), sealed.begin(), sealed.end());

    const std::string temp_path = path + ".tmp";  // Only the lock holder writes it.
    {
      Fd temp(open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
      if (temp.get() < 0) return ErrnoError("cannot create", temp_path);
      ART_RETURN_IF_ERROR(WriteAll(temp.get(), content.data(), content.size(), temp_path));
      if (fsync(temp.get()) != 0) return ErrnoError("cannot fsync", temp_path);
    }
    if (rename(temp_path.c_str(), path.c_str()) != 0) return ErrnoError("cannot rename", temp_path);
    // The rename itself is durable only once the directory is synced.
    Fd directory(open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (directory.get() < 0 || fsync(directory.get()) != 0) return ErrnoError("cannot fsync", directory_);
    return version;
  }

 private:
  // Hex keeps any name a safe file name.
  std::string PathOf(const std::string& name) const {
    return absl::StrCat(directory_, "/s-", art::ToHex(art::AsBytes(name)));
  }

  const std::string directory_;
  const art::SecretBytes key_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<StateStore>> OpenFileStateStore(const std::string& directory,
                                                               const art::SecretBytes& key) {
  ART_RETURN_IF_ERROR(CheckStateKey(key));
  if (directory.empty()) return absl::InvalidArgumentError("the state directory must not be empty");
  if (mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoError("cannot create", directory);
  struct stat info;
  if (stat(directory.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(directory, " is not a directory"));
  }
  return std::make_unique<FileStateStore>(directory, key);
}

}  // namespace artd::client
