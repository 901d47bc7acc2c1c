#include "models/gradient_check.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace stagesim::models {

std::string GradientCheckReport::summary() const {
  std::ostringstream s;
  s.precision(6);
  s << "checked " << checked << " entries, " << failed << " failed; max abs error " << max_abs_error
    << ", max rel error " << max_rel_error;
  if (worst) {
    const std::string& n = worst->tensor < names.size() ? names[worst->tensor] : std::string("?");
    s.precision(10);
    s << "; worst " << n << "(" << worst->row << ", " << worst->col << "): analytic "
      << worst->analytic << " numeric " << worst->numeric;
  }
  return s.str();
}

GradientCheckReport check_gradient(std::span<RowMatrixXd* const> params,
                                   std::span<const RowMatrixXd> analytic,
                                   const std::function<double()>& loss,
                                   const GradientCheckOptions& options,
                                   std::span<const std::string> names) {
  if (params.size() != analytic.size())
    throw std::invalid_argument("check_gradient: one analytic gradient per tensor");
  if (!names.empty() && names.size() != params.size())
    throw std::invalid_argument("check_gradient: one name per tensor");
  if (!(options.step > 0) || !(options.tolerance >= 0) || !(options.abs_tolerance >= 0))
    throw std::invalid_argument("check_gradient: step > 0, tolerances >= 0");
  GradientCheckReport report;
  const double h = options.step;
  for (std::size_t t = 0; t < params.size(); ++t) {
    RowMatrixXd& theta = *params[t];
    const RowMatrixXd& g = analytic[t];
    if (g.rows() != theta.rows() || g.cols() != theta.cols())
      throw std::invalid_argument("check_gradient: gradient " + std::to_string(t) +
                                  " has another shape than its tensor");
    report.names.push_back(names.empty() ? "tensor " + std::to_string(t) : names[t]);
    report.analytic_abs_sum.push_back(g.cwiseAbs().sum());
    const Eigen::Index n = theta.size();
    const Eigen::Index stride =
        options.max_entries > 0 && n > options.max_entries ? n / options.max_entries : 1;
    for (Eigen::Index i = 0; i < n; i += stride) {
      double& x = theta.data()[i];
      const double saved = x;
      x = saved + h;
      const double up = loss();
      x = saved - h;
      const double down = loss();
      x = saved;
      const double numeric = (up - down) / (2 * h);
      const double a = g.data()[i];
      const double err = std::abs(a - numeric);
      const double scale = std::max(std::abs(a), std::abs(numeric));
      const double allowed = std::max(options.abs_tolerance, options.tolerance * scale);
      // A NaN error fails and ranks as the worst.
      const double ratio = std::isnan(err) ? INFINITY
                           : allowed > 0   ? err / allowed
                           : err == 0      ? 0.0
                                           : INFINITY;
      ++report.checked;
      if (!(err <= allowed)) ++report.failed;
      if (!std::isnan(err)) report.max_abs_error = std::max(report.max_abs_error, err);
      if (scale > 0 && !std::isnan(err))
        report.max_rel_error = std::max(report.max_rel_error, err / scale);
      if (!report.worst || ratio > report.worst_ratio) {
        report.worst_ratio = ratio;
        report.worst = GradientCheckEntry{t, i / theta.cols(), i % theta.cols(), a, numeric};
      }
    }
  }
  return report;
}

GradientCheckReport check_gradient(ParameterSet& params, const ParameterSet& analytic,
                                   const std::function<double()>& loss,
                                   const GradientCheckOptions& options) {
  if (!params.same_layout(analytic))
    throw std::invalid_argument("check_gradient: gradient layout differs from the parameters'");
  std::vector<std::string> names;
  std::vector<RowMatrixXd> grads;
  for (std::size_t t = 0; t < params.size(); ++t) {
    names.push_back(params.name(t));
    grads.push_back(analytic[t]);
  }
  return check_gradient(params.pointers(), grads, loss, options, names);
}

GradientCheckReport check_gradient(ParameterSet& params,
                                   const std::function<double(ParameterSet*)>& loss_and_gradient,
                                   const GradientCheckOptions& options) {
  ParameterSet grad = params.zeros_like();
  loss_and_gradient(&grad);
  return check_gradient(
      params, grad, [&] { return loss_and_gradient(nullptr); }, options);
}

}  // namespace stagesim::models
