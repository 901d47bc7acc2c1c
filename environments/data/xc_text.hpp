#pragma once
// Extreme Classification repository text format (AmazonCat-13K and friends):
//   N D L                      header: points, features, labels
//   l1,l2,... f:v f:v ...      one line per point; 0-based indices
// Labels are comma-separated (a space after a comma is tolerated); features are `idx:value`
// separated by spaces or tabs; a point without labels starts with whitespace. Empty lines and
// lines starting with '#' are skipped. The file is streamed; counts are taken from the header and
// checked against what was read.
#include <cstdint>
#include <filesystem>

#include "environments/data/sparse.hpp"

namespace stagesim::data {

struct XcDataset {
  std::int64_t num_points = 0;    // N from the header
  std::int64_t num_features = 0;  // D
  std::int64_t num_labels = 0;    // L
  CsrMatrix features;             // N x D
  IdLists labels;                 // N lists of label ids in [0, L), in file order
};

// DataError (FILE:LINE) on a malformed header, a bad token, an index out of range, a truncated
// line, or a point count different from the header's.
// With keep_features = false the features are still checked but not stored (`features` is then
// an N x D matrix without entries): the bandit worlds need only the labels, and AmazonCat's
// sparse features would cost about 1 GB.
XcDataset read_xc_text(const std::filesystem::path& path, bool keep_features = true);

}  // namespace stagesim::data
