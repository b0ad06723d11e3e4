// The encrypted file store: versions, compare-and-swap, authentication, and no plaintext on disk.
#include "client/state_store.h"

#include <dirent.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "art/crypto/bytes.h"

namespace artd::client {
namespace {

art::SecretBytes Key(uint8_t fill) {
  art::SecretBytes key(32);
  for (size_t i = 0; i < key.size(); ++i) key.data()[i] = static_cast<uint8_t>(fill + i);
  return key;
}

art::SecretBytes Secret(const std::string& text) { return art::SecretBytes(art::AsBytes(text)); }

std::string Text(const art::SecretBytes& bytes) { return std::string(bytes.data(), bytes.data() + bytes.size()); }

std::string NewDirectory() {
  static int counter = 0;
  const char* base = std::getenv("TEST_TMPDIR");
  return absl::StrCat(base != nullptr ? base : "/tmp", "/store-", getpid(), "-", counter++);
}

std::unique_ptr<StateStore> Open(const std::string& directory, const art::SecretBytes& key) {
  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenFileStateStore(directory, key);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

TEST(FileStateStore, StoresAndLoadsVersions) {
  const std::string directory = NewDirectory();
  std::unique_ptr<StateStore> store = Open(directory, Key(1));
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::optional<VersionedState>> missing = store->Load("group:00ff");
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_FALSE(missing->has_value());

  EXPECT_EQ(*store->Store("group:00ff", 0, Secret("first")), 1u);
  EXPECT_EQ(*store->Store("group:00ff", 1, Secret("second")), 2u);
  EXPECT_EQ(*store->Store("a/../odd name", 0, Secret("other")), 1u);

  // A second handle (as another process would open it) sees the same state.
  std::unique_ptr<StateStore> reopened = Open(directory, Key(1));
  absl::StatusOr<std::optional<VersionedState>> loaded = reopened->Load("group:00ff");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->version, 2u);
  EXPECT_EQ(Text((*loaded)->plaintext), "second");
  EXPECT_EQ(Text((*reopened->Load("a/../odd name"))->plaintext), "other");
}

TEST(FileStateStore, CompareAndSwapRefusesStaleWriters) {
  const std::string directory = NewDirectory();
  std::unique_ptr<StateStore> first = Open(directory, Key(1));
  std::unique_ptr<StateStore> second = Open(directory, Key(1));
  ASSERT_TRUE(first->Store("identity", 0, Secret("v1")).ok());
  EXPECT_EQ(second->Store("identity", 0, Secret("again")).status().code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(first->Store("identity", 1, Secret("v2")).ok());
  // |second| read version 1 and now writes on top of it: refused, nothing written.
  EXPECT_EQ(second->Store("identity", 1, Secret("stale")).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(second->Store("identity", 7, Secret("future")).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Text((*second->Load("identity"))->plaintext), "v2");
  EXPECT_EQ(*second->Store("identity", 2, Secret("v3")), 3u);
}

TEST(FileStateStore, AWrongKeyIsDataLoss) {
  const std::string directory = NewDirectory();
  ASSERT_TRUE(Open(directory, Key(1))->Store("identity", 0, Secret("secret")).ok());
  std::unique_ptr<StateStore> wrong = Open(directory, Key(2));
  EXPECT_EQ(wrong->Load("identity").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(OpenFileStateStore(directory, art::SecretBytes(16)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FileStateStore, FilesHoldNoPlaintextAndABlobCannotBeMovedToAnotherName) {
  const std::string directory = NewDirectory();
  std::unique_ptr<StateStore> store = Open(directory, Key(1));
  const std::string secret = "the-leaf-secret-0123456789abcdef";
  ASSERT_TRUE(store->Store("identity", 0, Secret(secret)).ok());
  ASSERT_TRUE(store->Store("other", 0, Secret("x")).ok());
  DIR* listing = opendir(directory.c_str());
  ASSERT_NE(listing, nullptr);
  int files = 0;
  while (dirent* entry = readdir(listing)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    EXPECT_EQ(name.find("identity"), std::string::npos) << name;
    std::ifstream file(directory + "/" + name, std::ios::binary);
    std::stringstream content;
    content << file.rdbuf();
    EXPECT_EQ(content.str().find(secret), std::string::npos) << name;
    EXPECT_EQ(content.str().find(art::ToHex(art::AsBytes(secret))), std::string::npos) << name;
    ++files;
  }
  closedir(listing);
  EXPECT_EQ(files, 3);  // Two blobs and the lock file; no temporary file left behind.

  // The name is bound into the ciphertext: a file copied over another name does not decrypt.
  const std::string identity_file = directory + "/s-" + art::ToHex(art::AsBytes("identity"));
  const std::string other_file = directory + "/s-" + art::ToHex(art::AsBytes("other"));
  ASSERT_EQ(std::rename(identity_file.c_str(), other_file.c_str()), 0);
  EXPECT_EQ(store->Load("other").status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace artd::client
