// libFuzzer target: arbitrary bytes as an ONNX file. ImportOnnxBytes must
// return a Status (never crash, hang or leak), and an Mlp it accepts must
// satisfy Mlp::Validate().
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "server/model/onnx_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<mlpserve::Mlp> mlp = mlpserve::ImportOnnxBytes(bytes, "fuzz.onnx");
  if (mlp.ok() && !mlp->Validate().ok()) std::abort();
  return 0;
}
