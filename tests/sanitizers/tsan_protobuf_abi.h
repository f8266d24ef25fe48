// Force-included (g++ -include) into every C++ file of the TSan build by
// run_tsan.sh, so that the code compiled with -fsanitize=thread agrees with
// Debian's uninstrumented libprotobuf on the layout of map fields.
//
// google/protobuf/map_field.h gives MapFieldBase two extra members (seq1_,
// seq2_) when __SANITIZE_THREAD__ is defined. Generated code compiled with
// TSan then builds map fields (the `parameters` maps of the KServe messages)
// with that layout, and libprotobuf's own MapFieldBase functions read them
// with the other: once ModelInfer's messages moved onto a protobuf Arena,
// their destruction (MapFieldBase::Destruct from the arena's cleanup)
// crashed or corrupted TSan's heap on the first call. Here map_field.h, and
// the protobuf headers it includes, are read once with the macro hidden, as
// libprotobuf was compiled; their include guards keep that reading.
//
// libstdc++ keys _GLIBCXX_TSAN (shared_ptr's reference counting) off the
// same macro in bits/c++config.h, so a standard header comes first, read
// with the macro visible.
#ifndef MLPSERVE_TESTS_SANITIZERS_TSAN_PROTOBUF_ABI_H_
#define MLPSERVE_TESTS_SANITIZERS_TSAN_PROTOBUF_ABI_H_

#ifdef __cplusplus
#include <cstddef>

#pragma push_macro("__SANITIZE_THREAD__")
#undef __SANITIZE_THREAD__
#include <google/protobuf/map_field.h>
#pragma pop_macro("__SANITIZE_THREAD__")
#endif  // __cplusplus

#endif  // MLPSERVE_TESTS_SANITIZERS_TSAN_PROTOBUF_ABI_H_
