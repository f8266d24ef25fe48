#!/usr/bin/python3
"""Minimal KServe v2 gRPC client for mlpserve.

Calls ServerLive, ModelMetadata and ModelInfer (raw little-endian FP32 bytes)
and prints the outputs. Needs only Debian's python3-grpcio and
python3-grpc-tools (run with /usr/bin/python3). Stubs are generated from
proto/inference.proto into a temporary directory at start-up, or taken from
--stubs DIR (see generate_stubs.sh).

    /usr/bin/python3 client/python/simple_client.py --url localhost:8001 --model leaky_mlp
"""

import argparse
import os
import random
import shutil
import struct
import sys
import tempfile

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.path.join(HERE, "..", "..", "proto")


def generate_stubs(out_dir):
    from grpc_tools import protoc

    args = ["grpc_tools.protoc", "-I", PROTO_DIR, "--python_out=" + out_dir,
            "--grpc_python_out=" + out_dir, os.path.join(PROTO_DIR, "inference.proto")]
    if protoc.main(args) != 0:
        sys.exit("protoc failed on " + os.path.join(PROTO_DIR, "inference.proto"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="localhost:8001", help="server host:port")
    parser.add_argument("--model", required=True, help="model name")
    parser.add_argument("--version", default="", help="model version (default: server picks)")
    parser.add_argument("--batch", type=int, default=2, help="rows to send")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-call deadline, seconds")
    parser.add_argument("--stubs", help="directory with pre-generated stubs")
    args = parser.parse_args()

    stub_dir = args.stubs or tempfile.mkdtemp(prefix="mlpserve-stubs-")
    try:
        if not args.stubs:
            generate_stubs(stub_dir)
        sys.path.insert(0, stub_dir)
        import inference_pb2
        import inference_pb2_grpc
    finally:
        if not args.stubs:
            shutil.rmtree(stub_dir, ignore_errors=True)

    try:
        return run(args, inference_pb2, inference_pb2_grpc)
    except grpc.RpcError as e:  # one line, not a traceback
        print(f"error: {e.code().name}: {e.details()}", file=sys.stderr)
        return 1


def run(args, inference_pb2, inference_pb2_grpc):
    with grpc.insecure_channel(args.url) as channel:
        stub = inference_pb2_grpc.GRPCInferenceServiceStub(channel)
        live = stub.ServerLive(inference_pb2.ServerLiveRequest(), timeout=args.timeout)
        print("live:", live.live)

        md = stub.ModelMetadata(
            inference_pb2.ModelMetadataRequest(name=args.model, version=args.version),
            timeout=args.timeout)
        inp = md.inputs[0]
        features = int(inp.shape[1])
        print("model:", md.name, "versions:", list(md.versions), "input:", inp.name,
              inp.datatype, list(inp.shape))

        # Row r is [r*F+1, r*F+2, ...]; deterministic so outputs are checkable.
        values = [float(i + 1) for i in range(args.batch * features)]
        request = inference_pb2.ModelInferRequest(model_name=args.model,
                                                  model_version=args.version, id="python")
        tensor = request.inputs.add()
        tensor.name = inp.name
        tensor.datatype = "FP32"
        tensor.shape.extend([args.batch, features])
        request.raw_input_contents.append(struct.pack("<%df" % len(values), *values))

        response = stub.ModelInfer(request, timeout=args.timeout)
        for i, out in enumerate(response.outputs):
            shape = list(out.shape)
            if response.raw_output_contents:
                raw = response.raw_output_contents[i]
                data = list(struct.unpack("<%df" % (len(raw) // 4), raw))
            else:
                data = list(out.contents.fp32_contents)
            print(out.name, out.datatype, shape)
            cols = shape[-1] if shape else len(data)
            for r in range(0, len(data), max(cols, 1)):
                print("  ", data[r:r + cols])
    return 0


if __name__ == "__main__":
    sys.exit(main())
