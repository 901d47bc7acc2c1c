// The trainable state of a model: an ordered list of named dense tensors. A gradient, an
// optimiser's moments and a target network are ParameterSets of the same layout (zeros_like, copy),
// so optimisers, the gradient checker and Polyak averaging work on any model. Layers (dense.hpp,
// embedding.hpp, ...) register their tensors here and keep only indices, so a model is copied by
// copying its ParameterSet and one architecture can run on several sets (online and target).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "base/matrix.hpp"
#include "base/rng.hpp"

namespace stagesim::models {

class ParameterSet {
 public:
  static constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();

  // Appends a tensor and returns its index. References from operator[] stay valid until the next
  // add (build a model completely before training it).
  std::size_t add(std::string name, RowMatrixXd value);

  std::size_t size() const { return tensors_.size(); }
  bool empty() const { return tensors_.empty(); }
  RowMatrixXd& operator[](std::size_t i) { return tensors_[i]; }
  const RowMatrixXd& operator[](std::size_t i) const { return tensors_[i]; }
  const std::string& name(std::size_t i) const { return names_[i]; }
  // Number of scalars over all tensors.
  std::int64_t scalar_count() const;

  // Same names and shapes, all zero (the shape of a gradient).
  ParameterSet zeros_like() const;
  void set_zero();
  // Same number of tensors with the same shapes (names are not compared).
  bool same_layout(const ParameterSet& other) const;
  // True when every entry of every tensor is finite (callers skip an update on overflow).
  bool all_finite() const;

  // Pointers to the tensors [first, first + count) (count clipped to the end): what optimisers
  // take.
  std::vector<RowMatrixXd*> pointers(std::size_t first = 0, std::size_t count = kAll);
  std::vector<const RowMatrixXd*> pointers(std::size_t first = 0, std::size_t count = kAll) const;

  auto begin() { return tensors_.begin(); }
  auto end() { return tensors_.end(); }
  auto begin() const { return tensors_.begin(); }
  auto end() const { return tensors_.end(); }

 private:
  std::vector<RowMatrixXd> tensors_;
  std::vector<std::string> names_;
};

// target ← source, tensor by tensor; invalid_argument unless the layouts agree.
void copy_values(ParameterSet& target, const ParameterSet& source);

// Polyak averaging of a target network: θ_target ← τ·θ_source + (1 − τ)·θ_target for every entry
// (τ = 1 copies, τ = 0 leaves the target). invalid_argument on different layouts or τ ∉ [0, 1].
void polyak_update(ParameterSet& target, const ParameterSet& source, double tau);

// True when every entry is finite (a vectorised check, for hot paths too: a PL ranker's logits
// per request, the gradient tables per update).
bool all_finite(std::span<const double> x);
// True when every entry of every tensor is finite.
bool all_finite(std::span<const RowMatrixXd> tensors);

// Fills t with independent N(0, sd²) draws in storage (row-major) order.
void fill_normal(RowMatrixXd& t, double sd, Rng& rng);

}  // namespace stagesim::models
