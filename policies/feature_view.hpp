#pragma once
// The rows of a request's feature matrix that a stage instance scores, restricted to the columns
// it sees, as one contiguous row-major block.
#include <span>
#include <vector>

#include "sim/request.hpp"

namespace stagesim {

class FeatureView {
 public:
  FeatureView(int world_dim, std::vector<int> columns);  // empty columns = all
  int dim() const { return dim_; }
  // Pointer to |items| × dim() contiguous values; points into the request when no copy is needed.
  const double* rows(const Request& req, std::span<const int> items);
  // One item's features (copied into an internal buffer).
  const double* row(const Request& req, int item);

 private:
  int world_dim_, dim_;
  std::vector<int> cols_;
  bool all_;
  std::vector<double> buf_, one_;
};

}  // namespace stagesim
