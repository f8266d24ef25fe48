#include "server/metrics/activation_page.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace mlpserve {
namespace {

constexpr int kColumns = 32;  // units per heatmap row
constexpr int kCell = 14;     // px, including a 1 px gap

std::string Escape(absl::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string IdPart(absl::string_view text) {
  std::string out(text);
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) c = '_';
  }
  return out;
}

// Positive rate 0 -> dark purple, 1 -> yellow (viridis end points).
std::string Color(double rate) {
  const double t = std::clamp(rate, 0.0, 1.0);
  auto mix = [t](int a, int b) { return static_cast<int>(a + (b - a) * t + 0.5); };
  return absl::StrFormat("rgb(%d,%d,%d)", mix(68, 253), mix(1, 231), mix(84, 37));
}

std::string LayerFigure(const ModelActivations& m, const LayerActivationView& layer) {
  const int64_t rows = (layer.units + kColumns - 1) / kColumns;
  const int64_t width = std::min<int64_t>(layer.units, kColumns) * kCell;
  const std::string dead_text =
      layer.window_full
          ? absl::StrFormat("dead %d / %d", layer.dead_units, layer.units)
          : absl::StrFormat("dead: not judged until the window is full (%d of %d rows)",
                            layer.window_rows, m.view.dead_window_rows);
  std::string out = absl::StrFormat(
      "<figure class=\"layer\" id=\"layer-%s-%d-%d\" data-layer=\"%d\" data-units=\"%d\" "
      "data-dead=\"%d\">\n<figcaption>layer %d &middot; %s &middot; %s &middot; %d units "
      "&middot; negative ratio %.3f &middot; %s &middot; window %d rows</figcaption>\n",
      IdPart(m.model), m.version, layer.layer, layer.layer, layer.units, layer.dead_units,
      layer.layer, Escape(layer.node.empty() ? "(unnamed)" : layer.node), Escape(layer.activation),
      layer.units, layer.negative_ratio, dead_text, layer.window_rows);
  absl::StrAppendFormat(&out,
                        "<svg class=\"heatmap\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
                        "height=\"%d\" viewBox=\"0 0 %d %d\">\n",
                        width, rows * kCell, width, rows * kCell);
  for (int64_t u = 0; u < layer.units; ++u) {
    const int64_t x = (u % kColumns) * kCell, y = (u / kColumns) * kCell;
    const bool dead = layer.dead[u];
    absl::StrAppendFormat(&out,
                          "<rect class=\"unit%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                          "fill=\"%s\"><title>unit %d: positive rate %.4f%s</title></rect>",
                          dead ? " dead" : "", x, y, kCell - 1, kCell - 1,
                          dead ? "#000" : Color(layer.positive_rate[u]), u, layer.positive_rate[u],
                          dead ? " (dead)" : "");
    if (dead) {
      absl::StrAppendFormat(&out, "<path class=\"dead-mark\" d=\"M%d %dL%d %dM%d %dL%d %d\"/>",
                            x + 2, y + 2, x + kCell - 3, y + kCell - 3, x + kCell - 3, y + 2, x + 2,
                            y + kCell - 3);
    }
    out += "\n";
  }
  out += "</svg>\n</figure>\n";
  return out;
}

constexpr absl::string_view kHead = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
<title>mlpserve activations</title>
<style>
body{font-family:sans-serif;margin:1.5em;color:#222}
section.model{margin-bottom:2em}
figure.layer{margin:0 0 1.2em 0}
figcaption{font-size:0.9em;margin-bottom:0.3em}
path.dead-mark{stroke:#e41a1c;stroke-width:2}
.legend{font-size:0.85em;color:#555}
</style></head><body>
<h1>mlpserve &mdash; activation sign statistics</h1>
<p class="legend">Each cell is a unit of an observed hidden activation; colour is the fraction
of recent rows with a positive pre-activation (purple 0 &rarr; yellow 1). Black cells with a red
cross are dead: no positive pre-activation in a full window (none is marked until the
window has filled).</p>
)";

}  // namespace

std::string ActivationsPage(const std::vector<ModelActivations>& views) {
  std::string out(kHead);
  if (views.empty()) {
    out += "<p class=\"empty\">No model with activation statistics is loaded.</p>\n";
  }
  for (const ModelActivations& m : views) {
    absl::StrAppendFormat(
        &out,
        "<section class=\"model\" id=\"model-%s-%d\" data-model=\"%s\" data-version=\"%d\">\n"
        "<h2>%s &middot; version %d</h2>\n<p>%d rows observed in %d batches; window %d "
        "rows.</p>\n",
        IdPart(m.model), m.version, Escape(m.model), m.version, Escape(m.model), m.version,
        m.view.rows_seen, m.view.batches_seen, m.view.dead_window_rows);
    if (m.view.layers.empty()) out += "<p>No observed hidden activation.</p>\n";
    for (const LayerActivationView& layer : m.view.layers) out += LayerFigure(m, layer);
    out += "</section>\n";
  }
  out += "</body></html>\n";
  return out;
}

}  // namespace mlpserve
