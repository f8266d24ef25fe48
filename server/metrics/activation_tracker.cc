#include "server/metrics/activation_tracker.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/model/model_config.h"

namespace mlpserve {
namespace {

// A full window holds about this many blocks when batches are small.
constexpr int64_t kBlocksPerWindow = 64;
// A block holds fewer than a 64th of the window plus one batch: its per-unit
// positive counts (uint32_t) cannot overflow.
static_assert(kMaxDeadWindowRows / kBlocksPerWindow + kMaxMaxBatchSize <= UINT32_MAX);

}  // namespace

std::vector<ActivationTracker::LayerMeta> ActivationTracker::ObservedLayers(const Mlp& mlp) {
  std::vector<LayerMeta> meta;
  for (size_t i = 0; i < mlp.layers.size(); ++i) {
    const DenseLayer& layer = mlp.layers[i];
    if (!IsObservedLayer(mlp, i)) continue;
    LayerMeta m;
    m.layer_index = static_cast<int>(i);
    m.node = layer.activation.node;
    m.activation = std::string(ActivationName(layer.activation.kind));
    m.units = layer.out;
    meta.push_back(std::move(m));
  }
  return meta;
}

ActivationTracker::ActivationTracker(const Mlp& mlp, uint64_t dead_window_rows)
    : meta_(ObservedLayers(mlp)),
      window_(static_cast<int64_t>(dead_window_rows == 0
                                       ? kDefaultDeadWindowRows
                                       : std::min(dead_window_rows, kMaxDeadWindowRows))),
      block_rows_(std::max<int64_t>(1, window_ / kBlocksPerWindow)) {
  values_total_.assign(meta_.size(), 0);
  negative_total_.assign(meta_.size(), 0);
  window_negative_.assign(meta_.size(), 0);
  for (const LayerMeta& m : meta_) window_positive_.emplace_back(m.units, 0);
}

absl::Status ActivationTracker::Validate(const BatchActivationCounts& counts) const {
  if (counts.rows <= 0 || counts.rows > kMaxMaxBatchSize) {
    return absl::InvalidArgumentError(absl::StrCat("activation counts: batch of ", counts.rows,
                                                   " rows (at most ", kMaxMaxBatchSize, ")"));
  }
  if (counts.layers.size() != meta_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("activation counts: ", counts.layers.size(),
                                                   " layers, the model observes ", meta_.size()));
  }
  for (size_t l = 0; l < meta_.size(); ++l) {
    const LayerSignCounts& c = counts.layers[l];
    const LayerMeta& m = meta_[l];
    const int64_t values = counts.rows * m.units;
    if (c.layer_index != m.layer_index || static_cast<int64_t>(c.positive_rows.size()) != m.units ||
        c.values != values || c.negative < 0 || c.negative > values) {
      return absl::InvalidArgumentError(absl::StrCat(
          "activation counts of layer ", c.layer_index, " do not match observed layer ", l,
          " (layer ", m.layer_index, ", ", m.units, " units, ", counts.rows, " rows)"));
    }
    for (uint32_t p : c.positive_rows) {
      if (p > counts.rows) {
        return absl::InvalidArgumentError(absl::StrCat("activation counts of layer ", m.layer_index,
                                                       ": ", p, " positive rows in a batch of ",
                                                       counts.rows));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ActivationTracker::Ingest(const BatchActivationCounts& counts) {
  if (absl::Status s = Validate(counts); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  rows_seen_ += counts.rows;
  ++batches_seen_;
  window_rows_ += counts.rows;
  // Merge into the newest block while it is smaller than block_rows_.
  const bool merge = !blocks_.empty() && blocks_.back().rows < block_rows_;
  if (!merge) {
    Block block;
    block.negative.assign(meta_.size(), 0);
    block.positive.reserve(meta_.size());
    for (const LayerMeta& m : meta_) block.positive.emplace_back(m.units, 0);
    blocks_.push_back(std::move(block));
  }
  Block& block = blocks_.back();
  block.rows += counts.rows;
  for (size_t l = 0; l < meta_.size(); ++l) {
    const LayerSignCounts& c = counts.layers[l];
    values_total_[l] += c.values;
    negative_total_[l] += c.negative;
    window_negative_[l] += c.negative;
    block.negative[l] += c.negative;
    std::vector<uint32_t>& block_positive = block.positive[l];
    std::vector<int64_t>& window_positive = window_positive_[l];
    for (size_t u = 0; u < c.positive_rows.size(); ++u) {
      block_positive[u] += c.positive_rows[u];
      window_positive[u] += c.positive_rows[u];
    }
  }
  Evict();
  return absl::OkStatus();
}

void ActivationTracker::Evict() {
  // Drop the oldest block while the rest still covers a full window.
  while (blocks_.size() > 1 && window_rows_ - blocks_.front().rows >= window_) {
    const Block& old = blocks_.front();
    window_rows_ -= old.rows;
    for (size_t l = 0; l < meta_.size(); ++l) {
      window_negative_[l] -= old.negative[l];
      std::vector<int64_t>& window_positive = window_positive_[l];
      for (size_t u = 0; u < old.positive[l].size(); ++u) window_positive[u] -= old.positive[l][u];
    }
    blocks_.pop_front();
  }
}

ActivationView ActivationTracker::Snapshot() const {
  ActivationView view;
  view.dead_window_rows = window_;
  view.layers.reserve(meta_.size());
  absl::MutexLock lock(&mu_);
  view.rows_seen = rows_seen_;
  view.batches_seen = batches_seen_;
  for (size_t l = 0; l < meta_.size(); ++l) {
    const LayerMeta& m = meta_[l];
    LayerActivationView layer;
    layer.layer = static_cast<int>(l);
    layer.layer_index = m.layer_index;
    layer.node = m.node;
    layer.activation = m.activation;
    layer.units = m.units;
    layer.values_total = values_total_[l];
    layer.negative_total = negative_total_[l];
    layer.window_rows = window_rows_;
    layer.window_full = window_rows_ >= window_;
    const int64_t window_values = window_rows_ * m.units;
    layer.negative_ratio =
        window_values > 0 ? static_cast<double>(window_negative_[l]) / window_values : 0.0;
    layer.positive_rate.resize(m.units, 0.0);
    layer.dead.resize(m.units, false);
    for (int64_t u = 0; u < m.units; ++u) {
      const int64_t positive = window_positive_[l][u];
      if (window_rows_ > 0) layer.positive_rate[u] = static_cast<double>(positive) / window_rows_;
      if (layer.window_full && positive == 0) {
        layer.dead[u] = true;
        ++layer.dead_units;
      }
    }
    view.layers.push_back(std::move(layer));
  }
  return view;
}

}  // namespace mlpserve
