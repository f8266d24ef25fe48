// Names that end up in Prometheus labels and protobuf `string` fields (model,
// tensor and node names), both of which must be valid UTF-8: a single bad
// byte makes Prometheus refuse the whole scrape and the client refuse the
// whole response.
#ifndef MLPSERVE_SERVER_COMMON_UTF8_H_
#define MLPSERVE_SERVER_COMMON_UTF8_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace mlpserve {

// True when `text` is valid UTF-8 (protobuf's own check; texts over 2 GiB
// count as invalid).
bool IsValidUtf8(absl::string_view text);

// `text` itself when it is valid UTF-8 without control characters,
// otherwise its C hex escape ("a\xffc" prints as a\xff\x63, "a\nb" as
// a\nb): safe to put into an error message, a log line or a label.
std::string PrintableName(absl::string_view text);

// What a client sent (a name, a version, a datatype), for an error message:
// PrintableName of at most its first kClientTextBytes bytes (cut at a
// character boundary), then "... (N bytes)". Echoing a 1 MB name in full
// would push the status message past the client's metadata limit (8 KiB by
// default), and the client would see RESOURCE_EXHAUSTED instead of the error.
inline constexpr size_t kClientTextBytes = 128;
std::string ClientText(absl::string_view text);

// A longer text (an error message that quotes names from a file) made safe
// for a protobuf string: its valid UTF-8 characters as they are, each byte
// that is not part of one and each control character C-escaped ("\xff",
// "\n"); cut after about `max_bytes` bytes of `text` (at a character
// boundary), then "... (N bytes)". An escaped byte takes 4 bytes, so the
// result may reach about 4 x max_bytes.
std::string PrintableText(absl::string_view text, size_t max_bytes);

}  // namespace mlpserve

#endif  // MLPSERVE_SERVER_COMMON_UTF8_H_
