// A file of the SDK's file state store as a damaged or hostile disk could hold it: loaded under the
// application's key (header parsing, then AES-256-GCM with the name and version as additional data).
// Whatever loads must store again as the next version and load back unchanged.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "art/crypto/bytes.h"
#include "client/state_store.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace artd::fuzz;

// One scratch directory per process (libFuzzer runs inputs one at a time).
const std::string& ScratchDirectory() {
  static const std::string* directory = [] {
    const char* base = getenv("TEST_TMPDIR");
    std::string pattern = absl::StrCat(base != nullptr ? base : "/tmp", "/state_file_fuzzer.XXXXXX");
    Check(mkdtemp(pattern.data()) != nullptr, "cannot create a scratch directory");
    return new std::string(pattern);
  }();
  return *directory;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  StateFileInput input;
  if (!ParseInput(data, size, &input)) return 0;
  // Names longer than this would exceed the file name limit once hex-encoded.
  if (input.name().size() > 100) return 0;
  const art::SecretBytes key(art::AsBytes(input.key()));
  absl::StatusOr<std::unique_ptr<artd::client::StateStore>> store =
      artd::client::OpenFileStateStore(ScratchDirectory(), key);
  if (!store.ok()) return 0;

  // The store's documented layout: one file per name, "s-" and the name in hex.
  const std::string path = absl::StrCat(ScratchDirectory(), "/s-", art::ToHex(art::AsBytes(input.name())));
  FILE* file = fopen(path.c_str(), "wb");
  Check(file != nullptr, "cannot write the state file");
  Check(fwrite(input.file_contents().data(), 1, input.file_contents().size(), file) ==
            input.file_contents().size(),
        "cannot write the state file");
  Check(fclose(file) == 0, "cannot write the state file");

  absl::StatusOr<std::optional<artd::client::VersionedState>> loaded = (*store)->Load(input.name());
  if (loaded.ok()) {
    Check(loaded->has_value(), "the state file was not found where the store keeps it");
    absl::StatusOr<uint64_t> next = (*store)->Store(input.name(), (*loaded)->version, (*loaded)->plaintext);
    Check(next.ok() && *next == (*loaded)->version + 1, "a loaded state does not store as its next version");
    absl::StatusOr<std::optional<artd::client::VersionedState>> again = (*store)->Load(input.name());
    Check(again.ok() && again->has_value() && (*again)->plaintext == (*loaded)->plaintext,
          "a stored state did not load back unchanged");
  }
  unlink(path.c_str());
  return 0;
}
