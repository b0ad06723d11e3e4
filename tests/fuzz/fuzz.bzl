"""One fuzz target, built two ways (see README.md)."""

def artd_fuzz_target(name, srcs, deps):
    """Declares the fuzz target |name| over |srcs| (which define LLVMFuzzerTestOneInput).

    Creates
      <name>_test: a cc_test replaying corpus/<name>/ and regressions/<name>/ (any compiler; part of
                   bazel test //...).
      <name>:      the libFuzzer binary (clang with --config=fuzz only, so tagged manual; see
                   scripts/fuzz.sh).

    Args:
      name: the target's name, also its corpus and regression directory names.
      srcs: the sources defining LLVMFuzzerTestOneInput.
      deps: what they use.
    """
    native.cc_library(
        name = name + "_lib",
        testonly = True,
        srcs = srcs,
        deps = deps,
        alwayslink = True,
    )
    native.cc_test(
        name = name + "_test",
        size = "small",
        args = [
            "tests/fuzz/corpus/" + name,
            "tests/fuzz/regressions/" + name,
        ],
        data = native.glob(["corpus/%s/**" % name, "regressions/%s/**" % name]),
        deps = [
            ":" + name + "_lib",
            ":replay_main",
        ],
    )
    native.cc_binary(
        name = name,
        testonly = True,
        linkopts = ["-fsanitize=fuzzer"],
        tags = [
            "fuzz_target",
            "manual",
        ],
        deps = [":" + name + "_lib"],
    )
