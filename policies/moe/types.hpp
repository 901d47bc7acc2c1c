// Shared aliases of the Mixture-of-Experts pool learner (two-stage-bandits spec §7).
#pragma once

#include <Eigen/Core>
#include <boost/random/mersenne_twister.hpp>

namespace stagesim::moe {

// Row-major so that one user's features (or one item's embedding) are contiguous.
using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
// Product features are stored in float: 1M products × 400 columns must fit in memory.
using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Every random draw goes through an engine passed in by the caller (Boost: portable streams).
using Rng = boost::random::mt19937_64;

}  // namespace stagesim::moe
