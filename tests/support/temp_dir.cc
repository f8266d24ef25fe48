#include "tests/support/temp_dir.h"

#include <stdlib.h>

namespace mlpserve::testing {

std::string MakeTempDir(const std::string& prefix) {
  const char* base = getenv("TEST_TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + prefix + "XXXXXX";
  const char* made = mkdtemp(pattern.data());
  return made != nullptr ? std::string(made) : std::string();
}

}  // namespace mlpserve::testing
