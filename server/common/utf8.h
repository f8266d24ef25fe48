// Names that end up in Prometheus labels and protobuf `string` fields (model,
// tensor and node names), both of which must be valid UTF-8: a single bad
// byte makes Prometheus refuse the whole scrape and the client refuse the
// whole response.
#ifndef MLPSERVE_SERVER_COMMON_UTF8_H_
#define MLPSERVE_SERVER_COMMON_UTF8_H_

#include <string>

#include "absl/strings/string_view.h"

namespace mlpserve {

// True when `text` is valid UTF-8 (protobuf's own check; texts over 2 GiB
// count as invalid).
bool IsValidUtf8(absl::string_view text);

// `text` itself when valid UTF-8, otherwise its C escape ("a\xffc" prints as
// a\377c): safe to put into an error message, a log line or a label.
std::string PrintableName(absl::string_view text);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_COMMON_UTF8_H_
