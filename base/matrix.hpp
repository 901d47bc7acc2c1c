// The dense matrix types every layer shares (one definition for the engine, worlds, learners and
// stages).
#pragma once

#include <Eigen/Core>

namespace stagesim {

// Row-major so that one user's features, one item's embedding or one context's logits are
// contiguous.
using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
// Product features are stored in float: 1M products × 400 columns must fit in memory.
using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMatrixXi = Eigen::Matrix<int, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
// The engine's historical name for RowMatrixXd (the same type).
using RowMatrix = RowMatrixXd;

}  // namespace stagesim
