// Shared aliases of the early-stage policy-gradient kernels.
#pragma once

#include <Eigen/Core>
#include <boost/random/mersenne_twister.hpp>

namespace stagesim::pg {

// Row-major so that one context's logits (or one user's embedding) is contiguous.
using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMatrixXi = Eigen::Matrix<int, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Every random draw goes through an engine passed in by the caller (Boost: portable streams).
using Rng = boost::random::mt19937_64;

}  // namespace stagesim::pg
