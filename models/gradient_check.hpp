// Central finite-difference check of a hand-written gradient, for any function of a list of
// tensors to a scalar loss. Every learner's tests use it. Entry (t, i) passes when
//   |analytic − numeric| ≤ max(abs_tolerance, tolerance · max(|analytic|, |numeric|)),
// numeric = (L(θ + h·e_i) − L(θ − h·e_i)) / (2h). With double precision and h = 1e-5 the
// difference has truncation error ≈ h²|L'''|/6 ≈ 1e-11 and rounding error ≈ 1e-16·|L|/h ≈ 1e-11
// for O(1) losses, so the defaults (1e-6 relative, 1e-7 absolute) are loose for a right gradient
// and far below a missing factor or term. Parameters are restored exactly after each probe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "models/parameters.hpp"

namespace stagesim::models {

struct GradientCheckOptions {
  double step = 1e-5;           // h
  double tolerance = 1e-6;      // relative
  double abs_tolerance = 1e-7;  // the error allowed for small gradients
  // Entries probed per tensor: 0 = all, otherwise at most this many, evenly spaced.
  std::int64_t max_entries = 0;
};

struct GradientCheckEntry {
  std::size_t tensor = 0;
  Eigen::Index row = 0, col = 0;
  double analytic = 0, numeric = 0;
};

struct GradientCheckReport {
  std::int64_t checked = 0;
  std::int64_t failed = 0;
  double max_abs_error = 0;
  // max over entries of |a − n| / max(|a|, |n|) (0 where both are 0)
  double max_rel_error = 0;
  // max over entries of |a − n| / allowed error: <= 1 passes
  double worst_ratio = 0;
  std::optional<GradientCheckEntry> worst;  // the entry of worst_ratio
  std::vector<std::string> names;           // per tensor
  std::vector<double> analytic_abs_sum;  // Σ|analytic| per tensor: a zero block passes vacuously

  bool passed() const { return checked > 0 && failed == 0; }
  // "checked 120 entries, 0 failed; max abs error 3e-11, max rel error 2e-9; worst E_1(3, 0):
  // analytic 0.25 numeric 0.2500001"
  std::string summary() const;
};

// loss(): the loss at the current values of params. analytic[t] has the shape of *params[t].
// names (optional, one per tensor) label the report. invalid_argument on mismatched shapes.
GradientCheckReport check_gradient(std::span<RowMatrixXd* const> params,
                                   std::span<const RowMatrixXd> analytic,
                                   const std::function<double()>& loss,
                                   const GradientCheckOptions& options = {},
                                   std::span<const std::string> names = {});

GradientCheckReport check_gradient(ParameterSet& params, const ParameterSet& analytic,
                                   const std::function<double()>& loss,
                                   const GradientCheckOptions& options = {});

// loss_and_gradient(grad): the loss at the current params; when grad is not null also its
// gradient, written into *grad (which has the layout of params). Called once with a gradient,
// then without for every probe.
GradientCheckReport check_gradient(ParameterSet& params,
                                   const std::function<double(ParameterSet*)>& loss_and_gradient,
                                   const GradientCheckOptions& options = {});

}  // namespace stagesim::models
