#include "environments/data/multilabel.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "environments/data/data_error.hpp"

namespace stagesim::data {

CategoryRemap select_categories(const IdLists& labels, std::int64_t num_labels,
                               const CategorySelection& selection) {
  if (selection.first_rank < 1 || selection.count < 1 || num_labels < 0) {
    throw DataError("category selection",
                    "first_rank must be >= 1 and count >= 1 (got " +
                        std::to_string(selection.first_rank) + ", " +
                        std::to_string(selection.count) + ")",
                    "fix the experiment file");
  }
  // Indexed by the distinct labels that occur (sorted), not by the header's count: a tiny file
  // may claim 2^31 labels, or use one large id; labels that never occur rank nowhere.
  std::vector<std::int32_t> ids;
  for (std::int64_t p = 0; p < labels.size(); ++p) {
    for (std::int32_t l : labels[p]) {
      if (l < 0 || l >= num_labels) {
        throw DataError("labels",
                        "product " + std::to_string(p) + " has label " + std::to_string(l) +
                            " outside [0, " + std::to_string(num_labels) + ")",
                        "pass the label count from the data set header");
      }
      ids.push_back(l);
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  auto index_of = [&](std::int32_t l) {
    return static_cast<std::size_t>(std::lower_bound(ids.begin(), ids.end(), l) - ids.begin());
  };
  std::vector<std::int64_t> freq(ids.size(), 0);
  std::vector<std::int64_t> last_seen(ids.size(), -1);
  for (std::int64_t p = 0; p < labels.size(); ++p) {
    for (std::int32_t l : labels[p]) {
      const std::size_t u = index_of(l);
      if (last_seen[u] != p) {
        last_seen[u] = p;
        ++freq[u];
      }
    }
  }
  // Ranks by frequency, ties by label id (the stable sort keeps id order).
  std::vector<std::size_t> order(ids.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return freq[a] > freq[b]; });
  CategoryRemap r;
  std::vector<std::int32_t> to_new(ids.size(), -1);
  const std::size_t first = static_cast<std::size_t>(selection.first_rank - 1);
  for (std::size_t k = first; k < order.size() && k < first + selection.count; ++k) {
    to_new[order[k]] = static_cast<std::int32_t>(r.original.size());
    r.original.push_back(ids[order[k]]);
    r.frequency.push_back(freq[order[k]]);
  }
  std::vector<std::int32_t> row;
  for (std::int64_t p = 0; p < labels.size(); ++p) {
    row.clear();
    for (std::int32_t l : labels[p]) {
      const std::int32_t n = to_new[index_of(l)];
      if (n >= 0) row.push_back(n);
    }
    std::sort(row.begin(), row.end());
    row.erase(std::unique(row.begin(), row.end()), row.end());
    r.labels.push_back(row);
  }
  return r;
}

LabelStats compute_label_stats(const CategoryRemap& remap, int top_n, int bottom_n) {
  LabelStats s;
  s.products = remap.labels.size();
  s.categories = static_cast<std::int64_t>(remap.original.size());
  s.top_n = top_n;
  s.bottom_n = bottom_n;
  s.positives = std::accumulate(remap.frequency.begin(), remap.frequency.end(), std::int64_t{0});
  std::int64_t empty = 0;
  for (std::int64_t p = 0; p < s.products; ++p) empty += remap.labels[p].empty();
  if (s.products > 0 && s.categories > 0) {
    s.positive_rate =
        static_cast<double>(s.positives) / static_cast<double>(s.products * s.categories);
  }
  if (s.products > 0)
    s.no_label_share = static_cast<double>(empty) / static_cast<double>(s.products);
  // Kept ids are in rank order, so the top categories come first.
  const auto n = static_cast<std::size_t>(s.categories);
  const std::size_t top = std::min<std::size_t>(n, static_cast<std::size_t>(std::max(top_n, 0)));
  const std::size_t bottom =
      std::min<std::size_t>(n, static_cast<std::size_t>(std::max(bottom_n, 0)));
  std::int64_t top_sum = 0;
  std::int64_t bottom_sum = 0;
  for (std::size_t k = 0; k < top; ++k) top_sum += remap.frequency[k];
  for (std::size_t k = n - bottom; k < n; ++k) bottom_sum += remap.frequency[k];
  if (s.positives > 0) {
    s.top_share = static_cast<double>(top_sum) / static_cast<double>(s.positives);
    s.bottom_share = static_cast<double>(bottom_sum) / static_cast<double>(s.positives);
  }
  return s;
}

std::string LabelStats::report() const {
  char buf[640];
  std::snprintf(buf, sizeof buf,
                "Labels: %lld products, %lld kept categories, %lld positives; positive rate "
                "%.2f %% (paper 10.73 %%), top-%d share %.2f %% (paper 19.22 %%), bottom-%d share "
                "%.2f %% (paper 19.85 %%), products without a kept label %.2f %% (paper < 5 %%).",
                static_cast<long long>(products), static_cast<long long>(categories),
                static_cast<long long>(positives), 100 * positive_rate, top_n, 100 * top_share,
                bottom_n, 100 * bottom_share, 100 * no_label_share);
  return buf;
}

}  // namespace stagesim::data
