#!/bin/sh
# Generates the Python gRPC stubs for proto/inference.proto into OUT_DIR
# (default: ./build/python-stubs). Generated code is not committed.
#   client/python/generate_stubs.sh [OUT_DIR]
# Uses Debian's python3-grpc-tools, which /usr/bin/python3 sees.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
proto_dir="$here/../../proto"
out=${1:-build/python-stubs}
mkdir -p "$out"
/usr/bin/python3 -m grpc_tools.protoc -I "$proto_dir" \
  --python_out="$out" --grpc_python_out="$out" "$proto_dir/inference.proto"
echo "stubs in $out (inference_pb2.py, inference_pb2_grpc.py)"
