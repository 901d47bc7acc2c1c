// Elementwise activations of dense layers, applied in place, with the derivative written in terms
// of the activation's output (what a layer keeps for its backward pass).
#pragma once

#include <optional>
#include <string_view>

#include "base/matrix.hpp"

namespace stagesim::models {

enum class Activation { kIdentity, kRelu, kTanh, kSigmoid };

// "identity", "relu", "tanh", "sigmoid" (the one table names and enums convert through).
std::optional<Activation> activation_from_name(std::string_view name);
std::string_view activation_name(Activation a);

// x ← f(x). Sigmoid is evaluated in the form that cannot overflow for either sign.
void apply_activation(Activation a, RowMatrixXd& x);

// Given y = f(x), turns g = ∂L/∂y into ∂L/∂x in place: relu 1{y > 0}, tanh 1 − y², sigmoid
// y(1 − y), identity 1 (a no-op). relu's derivative at 0 is taken as 0.
void activation_backward(Activation a, const RowMatrixXd& y, RowMatrixXd& g);

}  // namespace stagesim::models
