#include "models/activation.hpp"

#include <array>
#include <cmath>
#include <utility>

namespace stagesim::models {

namespace {

constexpr std::array<std::pair<Activation, std::string_view>, 4> kNames{{
    {Activation::kIdentity, "identity"},
    {Activation::kRelu, "relu"},
    {Activation::kTanh, "tanh"},
    {Activation::kSigmoid, "sigmoid"},
}};

}  // namespace

std::optional<Activation> activation_from_name(std::string_view name) {
  for (const auto& [a, n] : kNames)
    if (n == name) return a;
  return std::nullopt;
}

std::string_view activation_name(Activation a) {
  for (const auto& [b, n] : kNames)
    if (a == b) return n;
  return "?";
}

void apply_activation(Activation a, RowMatrixXd& x) {
  auto v = x.array();
  switch (a) {
    case Activation::kIdentity:
      return;
    case Activation::kRelu:
      v = v.max(0.0);
      return;
    case Activation::kTanh:
      v = v.tanh();
      return;
    case Activation::kSigmoid:
      // e = exp(−|x|) ∈ (0, 1]: 1/(1+e) for x ≥ 0, e/(1+e) for x < 0.
      for (Eigen::Index i = 0; i < x.size(); ++i) {
        double& t = x.data()[i];
        const double e = std::exp(-std::abs(t));
        t = t >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
      }
      return;
  }
}

void activation_backward(Activation a, const RowMatrixXd& y, RowMatrixXd& g) {
  switch (a) {
    case Activation::kIdentity:
      return;
    case Activation::kRelu:
      g.array() = (y.array() > 0.0).select(g.array(), 0.0);
      return;
    case Activation::kTanh:
      g.array() *= 1.0 - y.array().square();
      return;
    case Activation::kSigmoid:
      g.array() *= y.array() * (1.0 - y.array());
      return;
  }
}

}  // namespace stagesim::models
