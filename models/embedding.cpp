#include "models/embedding.hpp"

#include <stdexcept>

namespace stagesim::models {

Embedding::Embedding(ParameterSet& params, const std::string& name, int rows, int dim)
    : rows_(rows), dim_(dim) {
  if (rows < 1 || dim < 1)
    throw std::invalid_argument("Embedding " + name + ": rows and dim must be >= 1");
  index_ = params.add(name, RowMatrixXd::Zero(rows, dim));
}

void Embedding::init(ParameterSet& params, Rng& rng, double sd) const {
  fill_normal(params[index_], sd, rng);
}

void Embedding::lookup(const ParameterSet& params, std::span<const int> ids, RowMatrixXd& out,
                       double scale) const {
  const RowMatrixXd& table = params[index_];
  out.resize(static_cast<Eigen::Index>(ids.size()), dim_);
  if (scale == 1.0) {
    for (std::size_t i = 0; i < ids.size(); ++i)
      out.row(static_cast<Eigen::Index>(i)) = table.row(ids[i]);
  } else {
    for (std::size_t i = 0; i < ids.size(); ++i)
      out.row(static_cast<Eigen::Index>(i)) = scale * table.row(ids[i]);
  }
}

void Embedding::backward(std::span<const int> ids, const RowMatrixXd& d, ParameterSet& grads,
                         bool accumulate) const {
  if (d.rows() != static_cast<Eigen::Index>(ids.size()) || d.cols() != dim_)
    throw std::invalid_argument("Embedding::backward: shapes disagree");
  RowMatrixXd& g = grads[index_];
  if (!accumulate) g.setZero(rows_, dim_);
  for (std::size_t i = 0; i < ids.size(); ++i) g.row(ids[i]) += d.row(static_cast<Eigen::Index>(i));
}

}  // namespace stagesim::models
