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

std::string PrintableText(absl::string_view text, size_t max_bytes) {
  std::string out;
  size_t i = 0;
  while (i < text.size() && i < max_bytes) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) {
        out += absl::CHexEscape(text.substr(i, 1));
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // The length a sequence starting with `c` would have; 1 for a byte that
    // starts none (a continuation byte, 0xf8 and above).
    const size_t length = c >= 0xf8 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    if (length > 1 && i + length <= text.size() && IsValidUtf8(text.substr(i, length))) {
      out.append(text.data() + i, length);
      i += length;
    } else {
      absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
      ++i;
    }
  }
  if (i < text.size()) absl::StrAppend(&out, "... (", text.size(), " bytes)");
  return out;
}

}  // namespace mlpserve
