"""C++ code generation from .proto files with Debian's protoc (and grpc_cpp_plugin for services).

Bazel's native proto rules would need the protobuf repository; a genrule calling the system compiler
keeps the build offline.
"""

def cc_proto(name, srcs, deps = [], grpc = False, visibility = None):
    """Generates and compiles C++ for |srcs| (paths relative to the workspace root).

    Args:
      name: the cc_library's name.
      srcs: .proto files in this package.
      deps: other cc_proto targets whose .proto files these import.
      grpc: also generate gRPC service stubs.
      visibility: of the cc_library.
    """
    outs = []
    for src in srcs:
        base = src[:-len(".proto")]
        outs += [base + ".pb.h", base + ".pb.cc"]
        if grpc:
            outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]
    plugin = ""
    if grpc:
        plugin = " --grpc_out=$(GENDIR) --plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin"
    native.genrule(
        name = name + "_generate",
        srcs = srcs + [d + "_sources" for d in deps],
        outs = outs,
        cmd = "/usr/bin/protoc -I. -I/usr/include --cpp_out=$(GENDIR)" + plugin + " " +
              " ".join(["$(location %s)" % s for s in srcs]),
    )
    native.filegroup(
        name = name + "_sources",
        srcs = srcs,
        visibility = ["//visibility:public"],
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = deps + ["//third_party/system:protobuf"] + (["//third_party/system:grpc"] if grpc else []),
        copts = ["-Wno-unused-parameter"],
        visibility = visibility,
    )
