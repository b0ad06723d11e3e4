"""C++ code generation from .proto files with Debian's protoc and grpc_cpp_plugin.

Bazel's native proto rules would need the protobuf repository; genrules calling the system compilers
keep the build offline.
"""

def cc_proto(name, srcs, deps = [], visibility = None):
    """Generates and compiles the C++ messages of |srcs| (paths relative to this package).

    Args:
      name: the cc_library's name.
      srcs: .proto files in this package.
      deps: other cc_proto targets whose .proto files these import.
      visibility: of the cc_library.
    """
    outs = []
    for src in srcs:
        base = src[:-len(".proto")]
        outs += [base + ".pb.h", base + ".pb.cc"]
    native.genrule(
        name = name + "_generate",
        srcs = srcs + [d + "_sources" for d in deps],
        outs = outs,
        cmd = "/usr/bin/protoc -I. -I/usr/include --cpp_out=$(GENDIR) " +
              " ".join(["$(location %s)" % s for s in srcs]),
    )
    # These .proto files and those they import, for the genrules of dependants.
    native.filegroup(
        name = name + "_sources",
        srcs = srcs + [d + "_sources" for d in deps],
        visibility = ["//visibility:public"],
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = deps + ["//third_party/system:protobuf"],
        copts = ["-Wno-unused-parameter"],
        visibility = visibility,
    )

def cc_grpc(name, srcs, proto, visibility = None):
    """Generates and compiles the gRPC service stubs of |srcs|, whose messages |proto| compiles."""
    outs = []
    for src in srcs:
        base = src[:-len(".proto")]
        outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]
    native.genrule(
        name = name + "_generate",
        srcs = srcs + [proto + "_sources"],
        outs = outs,
        cmd = "/usr/bin/protoc -I. -I/usr/include --grpc_out=$(GENDIR) " +
              "--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin " +
              " ".join(["$(location %s)" % s for s in srcs]),
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = [proto, "//third_party/system:grpc"],
        copts = ["-Wno-unused-parameter"],
        visibility = visibility,
    )
