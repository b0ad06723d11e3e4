// The main of every fuzz target's regression test (the *_test targets, built with any compiler): runs
// LLVMFuzzerTestOneInput once on each file under the directories given as arguments, i.e. the
// committed seed corpus and the regression inputs of past crashes. A crash, a sanitizer finding or a
// failed invariant ends the test. Fails when the first directory (the corpus) holds no input, so a
// corpus that went missing cannot pass silently.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// Every regular file under |directory|, in a stable order.
std::vector<std::filesystem::path> InputsUnder(const std::filesystem::path& directory) {
  std::vector<std::filesystem::path> inputs;
  if (!std::filesystem::exists(directory)) return inputs;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(directory)) {
    // Runfiles are symlinks; README-like files document a directory and are not inputs.
    if (std::filesystem::is_regular_file(entry.path()) && entry.path().extension() != ".md") {
      inputs.push_back(entry.path());
    }
  }
  std::sort(inputs.begin(), inputs.end());
  return inputs;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR [REGRESSION_DIR...]\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; ++i) {
    const std::vector<std::filesystem::path> inputs = InputsUnder(argv[i]);
    if (i == 1 && inputs.empty()) {
      fprintf(stderr, "no inputs under %s\n", argv[i]);
      return 1;
    }
    for (const std::filesystem::path& path : inputs) {
      std::ifstream file(path, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
      if (!file.good() && !file.eof()) {
        fprintf(stderr, "cannot read %s\n", path.c_str());
        return 1;
      }
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    }
    printf("replayed %zu inputs from %s\n", inputs.size(), argv[i]);
  }
  return 0;
}
