#include "server/common/utf8.h"

#include <climits>

#include "absl/strings/escaping.h"
#include "google/protobuf/stubs/common.h"

namespace mlpserve {

bool IsValidUtf8(absl::string_view text) {
  if (text.size() > static_cast<size_t>(INT_MAX)) return false;  // protobuf takes an int length
  return google::protobuf::internal::IsStructurallyValidUTF8(text.data(),
                                                             static_cast<int>(text.size()));
}

std::string PrintableName(absl::string_view text) {
  return IsValidUtf8(text) ? std::string(text) : absl::CHexEscape(text);
}

}  // namespace mlpserve
