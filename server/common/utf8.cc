#include "server/common/utf8.h"

#include <algorithm>
#include <climits>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/stubs/common.h"

namespace mlpserve {

bool IsValidUtf8(absl::string_view text) {
  if (text.size() > static_cast<size_t>(INT_MAX)) return false;  // protobuf takes an int length
  return google::protobuf::internal::IsStructurallyValidUTF8(text.data(),
                                                             static_cast<int>(text.size()));
}

std::string PrintableName(absl::string_view text) {
  const bool control = std::any_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  return !control && IsValidUtf8(text) ? std::string(text) : absl::CHexEscape(text);
}

std::string ClientText(absl::string_view text) {
  if (text.size() <= kClientTextBytes) return PrintableName(text);
  size_t cut = kClientTextBytes;
  // Back to the first byte of a UTF-8 sequence (continuation bytes are
  // 10xxxxxx; a valid sequence has at most 3 of them).
  for (int i = 0; i < 3 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80; ++i) --cut;
  return absl::StrCat(PrintableName(text.substr(0, cut)), "... (", text.size(), " bytes)");
}

}  // namespace mlpserve
