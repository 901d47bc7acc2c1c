#include "environments/data/multilabel.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "environments/data/data_error.hpp"

namespace stagesim::data {

CategoryRemap SelectCategories(const IdLists& labels, std::int64_t num_labels,
                               const CategorySelection& selection) {
  if (selection.first_rank < 1 || selection.count < 1 || num_labels < 0) {
    throw DataError("category selection",
                    "first_rank must be >= 1 and count >= 1 (got " +
                        std::to_string(selection.first_rank) + ", " +
                        std::to_string(selection.count) + ")",
                    "fix the experiment file");
  }
  // Sized by the labels that occur, not by the header's count (a tiny file may claim 2^31 labels;
  // labels that never occur rank nowhere).
  std::int64_t used = 0;
  for (std::int64_t p = 0; p < labels.size(); ++p) {
    for (std::int32_t l : labels[p]) {
      if (l < 0 || l >= num_labels) {
        throw DataError("labels",
                        "product " + std::to_string(p) + " has label " + std::to_string(l) +
                            " outside [0, " + std::to_string(num_labels) + ")",
                        "pass the label count from the data set header");
      }
      used = std::max<std::int64_t>(used, std::int64_t{l} + 1);
    }
  }
  std::vector<std::int64_t> freq(static_cast<std::size_t>(used), 0);
  std::vector<std::int64_t> last_seen(static_cast<std::size_t>(used), -1);
  for (std::int64_t p = 0; p < labels.size(); ++p) {
    for (std::int32_t l : labels[p]) {
      auto u = static_cast<std::size_t>(l);
      if (last_seen[u] != p) {
        last_seen[u] = p;
        ++freq[u];
      }
    }
  }
  std::vector<std::int32_t> order;
  for (std::int64_t l = 0; l < used; ++l) {
    if (freq[static_cast<std::size_t>(l)] > 0) order.push_back(static_cast<std::int32_t>(l));
  }
  std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
    return freq[static_cast<std::size_t>(a)] > freq[static_cast<std::size_t>(b)];
  });
  CategoryRemap r;
  std::vector<std::int32_t> to_new(static_cast<std::size_t>(used), -1);
  const std::size_t first = static_cast<std::size_t>(selection.first_rank - 1);
  for (std::size_t k = first; k < order.size() && k < first + selection.count; ++k) {
    to_new[static_cast<std::size_t>(order[k])] = static_cast<std::int32_t>(r.original.size());
    r.original.push_back(order[k]);
    r.frequency.push_back(freq[static_cast<std::size_t>(order[k])]);
  }
  std::vector<std::int32_t> row;
  for (std::int64_t p = 0; p < labels.size(); ++p) {
    row.clear();
    for (std::int32_t l : labels[p]) {
      const std::int32_t n = to_new[static_cast<std::size_t>(l)];
      if (n >= 0) row.push_back(n);
    }
    std::sort(row.begin(), row.end());
    row.erase(std::unique(row.begin(), row.end()), row.end());
    r.labels.push_back(row);
  }
  return r;
}

LabelStats ComputeLabelStats(const CategoryRemap& remap, int top_n, int bottom_n) {
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

std::string LabelStats::Report() const {
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
