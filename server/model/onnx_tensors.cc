#include "server/model/onnx_tensors.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace mlpserve {
namespace {

absl::Status TensorError(const std::string& name, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "': ", problem));
}

// Element count of `dims`, refusing negative dims and counts above
// kMaxTensorElements (which also rules out int64 overflow).
absl::StatusOr<int64_t> ElementCount(const std::vector<int64_t>& dims, const std::string& name) {
  int64_t count = 1;
  for (int64_t d : dims) {
    if (d < 0) return TensorError(name, absl::StrCat("negative dimension ", d));
    if (d == 0) {
      count = 0;
      continue;
    }
    if (count > kMaxTensorElements / d) {
      return TensorError(name, absl::StrCat("more than ", kMaxTensorElements, " elements"));
    }
    count *= d;
  }
  return count;
}

float LittleEndianFloat(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  uint32_t bits = static_cast<uint32_t>(b[0]) | (static_cast<uint32_t>(b[1]) << 8) |
                  (static_cast<uint32_t>(b[2]) << 16) | (static_cast<uint32_t>(b[3]) << 24);
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace

absl::StatusOr<FloatTensor> DecodeFloatTensor(const onnx::TensorProto& tensor,
                                              const std::string& tensor_name) {
  if (tensor.data_type() != onnx::TensorProto::FLOAT) {
    return TensorError(tensor_name, absl::StrCat("data type ", tensor.data_type(),
                                                 " is not FLOAT (only float32 is served)"));
  }
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL || tensor.external_data_size() > 0) {
    return TensorError(tensor_name, "external data is not supported");
  }
  if (tensor.has_segment()) return TensorError(tensor_name, "segmented tensors are not supported");
  FloatTensor out;
  out.dims.assign(tensor.dims().begin(), tensor.dims().end());
  absl::StatusOr<int64_t> count = ElementCount(out.dims, tensor_name);
  if (!count.ok()) return count.status();

  if (tensor.has_raw_data()) {
    const std::string& raw = tensor.raw_data();
    if (tensor.float_data_size() > 0) {
      return TensorError(tensor_name, "has both raw_data and float_data");
    }
    if (raw.size() % sizeof(float) != 0 ||
        static_cast<uint64_t>(raw.size() / sizeof(float)) != static_cast<uint64_t>(*count)) {
      return TensorError(
          tensor_name, absl::StrCat("raw_data holds ", raw.size(), " bytes but dims need ", *count,
                                    " floats (", *count * 4, " bytes)"));
    }
    out.values.resize(*count);
    for (int64_t i = 0; i < *count; ++i) out.values[i] = LittleEndianFloat(&raw[i * 4]);
    return out;
  }
  if (tensor.float_data_size() != *count) {
    return TensorError(tensor_name, absl::StrCat("float_data holds ", tensor.float_data_size(),
                                                 " values but dims need ", *count));
  }
  out.values.assign(tensor.float_data().begin(), tensor.float_data().end());
  return out;
}

absl::StatusOr<FloatTensor> DecodeConstantNode(const onnx::NodeProto& node) {
  const std::string output = node.output_size() > 0 ? node.output(0) : node.name();
  auto node_error = [&](absl::string_view problem) {
    return absl::InvalidArgumentError(
        absl::StrCat("node '", node.name(), "' (op Constant): ", problem));
  };
  if (node.attribute_size() != 1) {
    return node_error(absl::StrCat("expects exactly one attribute, has ", node.attribute_size()));
  }
  const onnx::AttributeProto& attr = node.attribute(0);
  if (attr.name() == "value") {
    if (!attr.has_t()) return node_error("attribute 'value' holds no tensor");
    absl::StatusOr<FloatTensor> t = DecodeFloatTensor(attr.t(), output);
    if (!t.ok()) return node_error(t.status().message());
    return t;
  }
  FloatTensor out;
  if (attr.name() == "value_float") {
    out.values.push_back(attr.f());
    return out;
  }
  if (attr.name() == "value_floats") {
    if (attr.floats_size() > kMaxTensorElements) return node_error("too many values");
    out.dims.push_back(attr.floats_size());
    out.values.assign(attr.floats().begin(), attr.floats().end());
    return out;
  }
  return node_error(absl::StrCat("attribute '", attr.name(), "' is not supported"));
}

absl::StatusOr<bool> DecodeBoolScalar(const onnx::TensorProto& tensor,
                                      const std::string& tensor_name) {
  if (tensor.data_type() != onnx::TensorProto::BOOL) {
    return TensorError(tensor_name,
                       absl::StrCat("data type ", tensor.data_type(), "; expected BOOL (9)"));
  }
  const std::vector<int64_t> dims(tensor.dims().begin(), tensor.dims().end());
  absl::StatusOr<int64_t> count = ElementCount(dims, tensor_name);
  if (!count.ok()) return count.status();
  if (*count != 1) return TensorError(tensor_name, "must hold exactly one value");
  if (tensor.has_raw_data()) {
    if (tensor.raw_data().size() != 1) {
      return TensorError(tensor_name, absl::StrCat("raw_data holds ", tensor.raw_data().size(),
                                                   " bytes; a BOOL is 1"));
    }
    return tensor.raw_data()[0] != 0;
  }
  if (tensor.int32_data_size() != 1) return TensorError(tensor_name, "holds no value");
  return tensor.int32_data(0) != 0;
}

absl::StatusOr<std::vector<int64_t>> DecodeInt64Vector(const onnx::TensorProto& tensor,
                                                       const std::string& tensor_name,
                                                       int64_t max_elements) {
  if (tensor.data_type() != onnx::TensorProto::INT64) {
    return TensorError(tensor_name,
                       absl::StrCat("data type ", tensor.data_type(), "; expected INT64 (7)"));
  }
  if (tensor.dims_size() > 1) {
    return TensorError(tensor_name, absl::StrCat("has rank ", tensor.dims_size(), "; expected 1"));
  }
  const std::vector<int64_t> dims(tensor.dims().begin(), tensor.dims().end());
  absl::StatusOr<int64_t> count = ElementCount(dims, tensor_name);
  if (!count.ok()) return count.status();
  if (*count > max_elements) {
    return TensorError(tensor_name,
                       absl::StrCat("holds ", *count, " values; at most ", max_elements));
  }
  std::vector<int64_t> values;
  if (tensor.has_raw_data()) {
    if (tensor.int64_data_size() > 0) {
      return TensorError(tensor_name, "has both raw_data and int64_data");
    }
    const std::string& raw = tensor.raw_data();
    if (raw.size() != static_cast<size_t>(*count) * 8) {
      return TensorError(tensor_name, absl::StrCat("raw_data holds ", raw.size(),
                                                   " bytes but dims need ", *count, " INT64"));
    }
    for (int64_t i = 0; i < *count; ++i) {
      uint64_t bits = 0;
      for (int b = 7; b >= 0; --b) {
        bits = (bits << 8) | static_cast<unsigned char>(raw[static_cast<size_t>(i * 8 + b)]);
      }
      values.push_back(static_cast<int64_t>(bits));
    }
    return values;
  }
  if (tensor.int64_data_size() != *count) {
    return TensorError(tensor_name, absl::StrCat("int64_data holds ", tensor.int64_data_size(),
                                                 " values but dims need ", *count));
  }
  values.assign(tensor.int64_data().begin(), tensor.int64_data().end());
  return values;
}

std::string ShapeString(const std::vector<int64_t>& dims) {
  return absl::StrCat("[", absl::StrJoin(dims, ", "), "]");
}

const onnx::AttributeProto* FindAttribute(const onnx::NodeProto& node, absl::string_view name) {
  for (const onnx::AttributeProto& attr : node.attribute()) {
    if (attr.name() == name) return &attr;
  }
  return nullptr;
}

namespace {

absl::Status AttributeTypeError(const onnx::AttributeProto& attr,
                                onnx::AttributeProto::AttributeType expected) {
  return absl::InvalidArgumentError(
      absl::StrCat("attribute '", attr.name(), "' has type ",
                   onnx::AttributeProto::AttributeType_Name(attr.type()), "; expected ",
                   onnx::AttributeProto::AttributeType_Name(expected)));
}

}  // namespace

absl::StatusOr<float> FloatAttribute(const onnx::NodeProto& node, absl::string_view name,
                                     float fallback) {
  const onnx::AttributeProto* attr = FindAttribute(node, name);
  if (attr == nullptr) return fallback;
  if (attr->type() != onnx::AttributeProto::FLOAT) {
    return AttributeTypeError(*attr, onnx::AttributeProto::FLOAT);
  }
  return attr->f();
}

absl::StatusOr<int64_t> IntAttribute(const onnx::NodeProto& node, absl::string_view name,
                                     int64_t fallback) {
  const onnx::AttributeProto* attr = FindAttribute(node, name);
  if (attr == nullptr) return fallback;
  if (attr->type() != onnx::AttributeProto::INT) {
    return AttributeTypeError(*attr, onnx::AttributeProto::INT);
  }
  return attr->i();
}

std::vector<float> BroadcastRow(const FloatTensor& t, int64_t n) {
  if (t.rank() <= 2 && t.values.size() == 1) return std::vector<float>(n, t.values[0]);
  bool row =
      (t.rank() == 1 && t.dims[0] == n) || (t.rank() == 2 && t.dims[0] == 1 && t.dims[1] == n);
  return row ? t.values : std::vector<float>();
}

}  // namespace mlpserve
