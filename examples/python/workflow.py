#!/usr/bin/python3
"""The Strata workflow from Python, through the gateway (strata.gateway.v1).

Imports a root file system tarball, runs a container that changes a file, lists the diff,
commits it with an author, a message and a CMD change, prints the history, runs the new
image and checks its output. Stubs are generated from the repository's protos/ when the
example runs (Debian's python3-grpcio, protoc and grpc_python_plugin):

  examples/python/workflow.py --gateway unix:/run/strata/gateway.sock --rootfs busybox.tar
"""
import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import grpc

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROTOS = ROOT / "protos"


def generate_stubs(out):
    """Compiles every Strata proto into out/ and puts it on the import path.

    With Debian's protoc and its gRPC Python plugin (protobuf-compiler-grpc): the protoc that
    python3-grpc-tools bundles (1.14) predates proto3 `optional`, which the protos use.
    """
    files = [str(p.relative_to(PROTOS)) for p in PROTOS.glob("strata/**/*.proto")]
    subprocess.run(["protoc", f"-I{PROTOS}", f"--python_out={out}",
                    "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
                    f"--grpc_python_out={out}"] + files, check=True)
    sys.path.insert(0, out)


def import_tarball(stub, gw, path, tag):
    def requests():
        yield gw.ImportImageRequest(options=gw.ImportOptions(
            tag=tag, source=os.path.basename(path), size=os.path.getsize(path)))
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                yield gw.ImportImageRequest(data=chunk)
    image = None
    for response in stub.ImportImage(requests()):
        if response.HasField("image"):
            image = response.image
    return image


def run(stub, gw, types, image, cmd, remove):
    """Runs a container to its exit; returns (container id, stdout, exit code)."""
    options = gw.RunOptions(image=image, remove=remove,
                            options=types.ContainerOptions(cmd=cmd))
    container, out, code = None, b"", None
    for response in stub.Run(iter([gw.RunRequest(options=options)])):
        if response.HasField("container"):
            container = response.container.id
        elif response.output.HasField("exit"):
            code = response.output.exit.exit_code
        else:
            out += response.output.stdout
    return container, out.decode(), code


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gateway",
                        default=os.environ.get("STRATA_GATEWAY", "unix:/run/strata/gateway.sock"))
    parser.add_argument("--rootfs", required=True, help="a root file system tarball")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as stubs:
        generate_stubs(stubs)
        from strata.gateway.v1 import gateway_pb2 as gw, gateway_pb2_grpc
        from strata.imagegraph.v1 import imagegraph_pb2 as ig
        from strata.runtime.v1 import runtime_pb2 as rt
        from strata.types.v1 import types_pb2 as types

        stub = gateway_pb2_grpc.GatewayStub(grpc.insecure_channel(args.gateway))
        suffix = str(time.time_ns())
        base = import_tarball(stub, gw, args.rootfs, f"py-base:{suffix}")
        print("imported", base.id)

        container, _, code = run(stub, gw, types, base.id,
                                 ["sh", "-c", "echo hello from python > /greeting"], False)
        assert code == 0, code
        letters = {rt.ADDED: "A", rt.CHANGED: "C", rt.DELETED: "D"}
        for batch in stub.Diff(rt.DiffRequest(container=container)):
            for change in batch.changes:
                print(letters[change.kind], change.path)

        image = None
        for response in stub.Commit(gw.CommitRequest(
                container=container, tag=f"py-app:{suffix}", author="Py <py@example.com>",
                message="greeting from python", changes=['CMD ["cat", "/greeting"]'])):
            if response.HasField("image"):
                image = response.image
        print("committed", image.id)

        history = stub.History(ig.HistoryRequest(ref=image.id))
        for entry in history.entries:
            print(entry.image_id[7:19] or "<missing>", entry.created_by, "|", entry.author, "|",
                  entry.comment)
        assert history.entries[0].author == "Py <py@example.com>"
        assert history.entries[0].comment == "greeting from python"

        _, out, code = run(stub, gw, types, image.id, [], True)
        print("new image prints:", out.strip())
        assert (out, code) == ("hello from python\n", 0), (out, code)
        stub.RemoveContainer(rt.RemoveRequest(container=container, force=True))
        print("OK")


if __name__ == "__main__":
    main()
