// Temporary directories for tests. ctest runs every test with TEST_TMPDIR set
// to <build>/test-tmp (tests/CMakeLists.txt), which `make test` empties
// first: what a test leaves behind stays in the build tree, never in /tmp.
#ifndef MLPSERVE_TESTS_SUPPORT_TEMP_DIR_H_
#define MLPSERVE_TESTS_SUPPORT_TEMP_DIR_H_

#include <string>

namespace mlpserve::testing {

// A fresh directory $TEST_TMPDIR/<prefix>XXXXXX (/tmp when TEST_TMPDIR is
// unset); "" when it cannot be made.
std::string MakeTempDir(const std::string& prefix);

}  // namespace mlpserve::testing

#endif  // MLPSERVE_TESTS_SUPPORT_TEMP_DIR_H_
