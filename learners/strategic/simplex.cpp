#include "learners/strategic/simplex.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>

namespace stagesim::strategic {

void IndexSampler::set(const Eigen::Ref<const Eigen::VectorXd>& p) {
  cdf_.resize(static_cast<std::size_t>(p.size()));
  double s = 0;
  for (Eigen::Index k = 0; k < p.size(); ++k) cdf_[static_cast<std::size_t>(k)] = s += p[k];
}

int IndexSampler::draw(Rng& rng) const {
  // Scale by the total so a sum that rounds below 1 never yields an index past the end.
  const double u = uniform01(rng) * cdf_.back();
  const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
  const auto k = static_cast<int>(it - cdf_.begin());
  return std::min(k, static_cast<int>(cdf_.size()) - 1);
}

void project_onto_simplex(Eigen::Ref<Eigen::VectorXd> v) {
  const Eigen::Index n = v.size();
  std::vector<double> u(v.data(), v.data() + n);
  std::sort(u.begin(), u.end(), std::greater<>());
  double css = 0, theta = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    css += u[static_cast<std::size_t>(i)];
    const double t = (css - 1.0) / static_cast<double>(i + 1);
    if (u[static_cast<std::size_t>(i)] - t > 0) theta = t;
  }
  for (Eigen::Index i = 0; i < n; ++i) v[i] = std::max(v[i] - theta, 0.0);
}

void normalise_log_weights(Eigen::Ref<Eigen::VectorXd> logw, Eigen::Ref<Eigen::VectorXd> p) {
  const double mx = logw.maxCoeff();
  if (!std::isfinite(mx)) throw std::domain_error("non-finite log-weight in a simplex update");
  // Shift first (exact for the entries near the maximum, which carry the mass), then subtract
  // the log of the shifted sum: log-weights of 1e6 lose no more than small ones.
  logw.array() -= mx;
  double s = 0;
  for (Eigen::Index k = 0; k < logw.size(); ++k) s += std::exp(logw[k]);
  const double log_s = std::log(s);
  double total = 0;
  for (Eigen::Index k = 0; k < logw.size(); ++k) {
    logw[k] -= log_s;
    total += p[k] = std::exp(logw[k]);
  }
  p /= total;  // sum to 1 within one rounding
}

void smooth(const Eigen::Ref<const Eigen::VectorXd>& p, double explore,
            Eigen::Ref<Eigen::VectorXd> out) {
  const double floor = explore / static_cast<double>(p.size());
  out = (1.0 - explore) * p.array() + floor;
}

}  // namespace stagesim::strategic
