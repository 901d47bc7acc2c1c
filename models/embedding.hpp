// Embedding table: one trainable row per id (users, items); a batch looks rows up by id and the
// backward pass adds each row's gradient back into the table (repeated ids accumulate).
#pragma once

#include <span>
#include <string>

#include "models/parameters.hpp"

namespace stagesim::models {

class Embedding {
 public:
  // Registers `name` (rows × dim, zero) in params; invalid_argument on sizes < 1.
  Embedding(ParameterSet& params, const std::string& name, int rows, int dim);

  int rows() const { return rows_; }
  int dim() const { return dim_; }
  std::size_t index() const { return index_; }

  // Entries N(0, sd²), row by row.
  void init(ParameterSet& params, Rng& rng, double sd) const;

  // out.row(i) = scale · table.row(ids[i]) (scale 1: a plain copy). Ids are not range-checked
  // (callers validate their batches once).
  void lookup(const ParameterSet& params, std::span<const int> ids, RowMatrixXd& out,
              double scale = 1.0) const;

  // table_grad.row(ids[i]) += d.row(i) in batch order; the gradient tensor is zeroed first unless
  // accumulate.
  void backward(std::span<const int> ids, const RowMatrixXd& d, ParameterSet& grads,
                bool accumulate = false) const;

 private:
  int rows_, dim_;
  std::size_t index_;
};

}  // namespace stagesim::models
