#include "policies/feature_view.hpp"

namespace stagesim {

FeatureView::FeatureView(int world_dim, std::vector<int> columns)
    : world_dim_(world_dim),
      dim_(columns.empty() ? world_dim : static_cast<int>(columns.size())),
      cols_(std::move(columns)),
      all_(cols_.empty()),
      one_(dim_) {}

const double* FeatureView::rows(const Request& req, std::span<const int> items) {
  const int n = static_cast<int>(items.size());
  if (all_ && !req.held) {
    // The whole pool in order needs no copy.
    bool identity = n == req.features.rows();
    for (int i = 0; identity && i < n; ++i) identity = items[i] == i;
    if (identity) return req.features.data();
  }
  buf_.resize(static_cast<size_t>(n) * dim_);
  double* out = buf_.data();
  for (int i = 0; i < n; ++i) {
    const double* src = req.feature_row(items[i]);
    if (all_) {
      std::copy(src, src + dim_, out + static_cast<std::ptrdiff_t>(i) * dim_);
    } else {
      for (int j = 0; j < dim_; ++j) out[static_cast<std::ptrdiff_t>(i) * dim_ + j] = src[cols_[j]];
    }
  }
  return out;
}

const double* FeatureView::row(const Request& req, int item) {
  const double* src = req.feature_row(item);
  if (all_) return src;
  for (int j = 0; j < dim_; ++j) one_[j] = src[cols_[j]];
  return one_.data();
}

}  // namespace stagesim
