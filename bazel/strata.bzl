"""Macros every Strata package uses: our warnings policy and C++ protos via protoc."""

# Our own code builds with warnings on and treated as errors. Generated code does not.
STRATA_COPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-unused-parameter",
    "-Wno-missing-field-initializers",
]

def strata_cc_library(name, copts = [], **kwargs):
    native.cc_library(name = name, copts = STRATA_COPTS + copts, **kwargs)

def strata_cc_binary(name, copts = [], **kwargs):
    native.cc_binary(name = name, copts = STRATA_COPTS + copts, **kwargs)

def strata_cc_test(name, copts = [], deps = [], **kwargs):
    native.cc_test(
        name = name,
        copts = STRATA_COPTS + copts,
        deps = deps + ["//third_party/system:gtest_main"],
        **kwargs
    )

def strata_proto_library(name, proto, deps = [], visibility = None, alwayslink = False):
    """C++ messages and gRPC stubs for one .proto, compiled with Debian's protoc.

    Args:
      name: the cc_library to create; depend on it for both messages and stubs.
      proto: the .proto file, relative to this package. Import paths are relative to the
        package, so `strata/x/v1/x.proto` is imported as such.
      deps: other strata_proto_library targets this proto imports.
      visibility: passed through.
      alwayslink: link the descriptors even when no code refers to them (so that server
        reflection can describe the messages).
    """
    base = proto[:-len(".proto")]
    outs = [base + ext for ext in [".pb.h", ".pb.cc", ".grpc.pb.h", ".grpc.pb.cc"]]
    dep_protos = [d + "_srcs" for d in deps]
    native.filegroup(
        name = name + "_srcs",
        srcs = [proto] + dep_protos,
        visibility = visibility,
    )
    native.genrule(
        name = name + "_gen",
        srcs = [proto] + dep_protos,
        outs = outs,
        cmd = " ".join([
            "/usr/bin/protoc",
            "--proto_path=%s" % native.package_name(),
            "--proto_path=/usr/include",
            "--cpp_out=$(GENDIR)/%s" % native.package_name(),
            "--grpc_out=$(GENDIR)/%s" % native.package_name(),
            "--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin",
            "$(location %s)" % proto,
        ]),
    )
    native.cc_library(
        name = name,
        srcs = [base + ".pb.cc", base + ".grpc.pb.cc"],
        hdrs = [base + ".pb.h", base + ".grpc.pb.h"],
        includes = ["."],
        alwayslink = alwayslink,
        deps = deps + [
            "//third_party/system:grpc",
            "//third_party/system:protobuf",
        ],
        visibility = visibility,
    )
