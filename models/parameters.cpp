#include "models/parameters.hpp"

#include <algorithm>
#include <boost/random/normal_distribution.hpp>
#include <stdexcept>

namespace stagesim::models {

std::size_t ParameterSet::add(std::string name, RowMatrixXd value) {
  tensors_.push_back(std::move(value));
  names_.push_back(std::move(name));
  return tensors_.size() - 1;
}

std::int64_t ParameterSet::scalar_count() const {
  std::int64_t n = 0;
  for (const RowMatrixXd& t : tensors_) n += t.size();
  return n;
}

ParameterSet ParameterSet::zeros_like() const {
  ParameterSet z;
  for (std::size_t i = 0; i < tensors_.size(); ++i)
    z.add(names_[i], RowMatrixXd::Zero(tensors_[i].rows(), tensors_[i].cols()));
  return z;
}

void ParameterSet::set_zero() {
  for (RowMatrixXd& t : tensors_) t.setZero();
}

bool ParameterSet::same_layout(const ParameterSet& other) const {
  if (other.size() != size()) return false;
  for (std::size_t i = 0; i < size(); ++i)
    if (other[i].rows() != tensors_[i].rows() || other[i].cols() != tensors_[i].cols())
      return false;
  return true;
}

bool ParameterSet::all_finite() const {
  return models::all_finite(tensors_);
}

std::vector<RowMatrixXd*> ParameterSet::pointers(std::size_t first, std::size_t count) {
  std::vector<RowMatrixXd*> p;
  const std::size_t last = std::min(size(), first + std::min(count, size()));
  for (std::size_t i = first; i < last; ++i) p.push_back(&tensors_[i]);
  return p;
}

std::vector<const RowMatrixXd*> ParameterSet::pointers(std::size_t first, std::size_t count) const {
  std::vector<const RowMatrixXd*> p;
  const std::size_t last = std::min(size(), first + std::min(count, size()));
  for (std::size_t i = first; i < last; ++i) p.push_back(&tensors_[i]);
  return p;
}

void copy_values(ParameterSet& target, const ParameterSet& source) {
  if (!target.same_layout(source))
    throw std::invalid_argument("copy_values: parameter sets have different layouts");
  for (std::size_t i = 0; i < target.size(); ++i) target[i] = source[i];
}

void polyak_update(ParameterSet& target, const ParameterSet& source, double tau) {
  if (!(tau >= 0.0 && tau <= 1.0))
    throw std::invalid_argument("polyak_update: tau must be in [0, 1]");
  if (!target.same_layout(source))
    throw std::invalid_argument("polyak_update: parameter sets have different layouts");
  for (std::size_t i = 0; i < target.size(); ++i) {
    if (tau == 1.0)  // exact copy, even over a non-finite target
      target[i] = source[i];
    else
      target[i].array() = tau * source[i].array() + (1.0 - tau) * target[i].array();
  }
}

bool all_finite(std::span<const double> x) {
  // x − x is 0 for finite x and NaN otherwise; counting the misses is an integer reduction that
  // vectorises (Eigen's allFinite() stops at the first miss, so it runs one element at a time,
  // a percent of a policy-gradient step on the gradient tables). Relies on IEEE arithmetic: under
  // -ffinite-math-only the compiler may fold x − x to 0.
  std::ptrdiff_t bad = 0;
  for (double v : x) bad += !(v - v == 0.0);
  return bad == 0;
}

bool all_finite(std::span<const RowMatrixXd> tensors) {
  for (const RowMatrixXd& t : tensors)
    if (!all_finite(std::span<const double>(t.data(), static_cast<std::size_t>(t.size()))))
      return false;
  return true;
}

void fill_normal(RowMatrixXd& t, double sd, Rng& rng) {
  boost::random::normal_distribution<double> normal(0.0, sd);
  for (Eigen::Index i = 0; i < t.size(); ++i) t.data()[i] = normal(rng);
}

}  // namespace stagesim::models
