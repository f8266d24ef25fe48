// libFuzzer target: arbitrary bytes as a serialized ModelInferRequest (what
// arrives on the wire). When they parse, DecodeInferRequest against a fixed
// contract, with and without reject_non_finite. On OK: 1 <= rows <=
// max_batch_size, the view holds exactly rows * features FP32 values, lies
// inside the request's raw contents or fp32_contents, and (when rejecting)
// holds only finite values; every byte of it is read so ASan sees a bad view.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "proto/inference.pb.h"
#include "server/rpc/infer_decode.h"
#include "tests/fuzz/fuzz_model.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

bool Inside(absl::string_view view, const char* begin, size_t size) {
  return view.data() >= begin && view.data() + view.size() <= begin + size;
}

void CheckDecoded(const inference::ModelInferRequest& request, const mlpserve::DecodedInput& in,
                  bool reject_non_finite) {
  Check(in.rows >= 1 && in.rows <= mlpserve::fuzz::kMaxBatchSize);
  Check(in.bytes.size() ==
        static_cast<size_t>(in.rows * mlpserve::fuzz::kInputFeatures) * sizeof(float));
  bool inside = false;
  for (const std::string& raw : request.raw_input_contents()) {
    inside = inside || Inside(in.bytes, raw.data(), raw.size());
  }
  if (request.inputs_size() > 0) {
    const auto& values = request.inputs(0).contents().fp32_contents();
    inside = inside || Inside(in.bytes, reinterpret_cast<const char*>(values.data()),
                              values.size() * sizeof(float));
  }
  Check(inside);
  for (size_t i = 0; i < in.bytes.size(); i += sizeof(float)) {
    float v;
    std::memcpy(&v, in.bytes.data() + i, sizeof v);
    if (reject_non_finite) Check(std::isfinite(v));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  inference::ModelInferRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  for (bool reject : {false, true}) {
    absl::StatusOr<mlpserve::DecodedInput> decoded =
        mlpserve::DecodeInferRequest(request, mlpserve::fuzz::SmallContract(reject));
    if (decoded.ok()) {
      CheckDecoded(request, *decoded, reject);
    } else {
      Check(decoded.status().code() == absl::StatusCode::kInvalidArgument);
    }
  }
  return 0;
}
