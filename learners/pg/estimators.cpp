#include "learners/pg/estimators.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "learners/pg/libm_float.hpp"
#include "learners/pg/pl_mixture.hpp"
#include "learners/pg/top_k.hpp"

namespace stagesim::pg {

namespace {

constexpr float kRefEps = 1e-10f;  // the reference's "+ 1e-10" inside every log1p

constexpr std::pair<std::string_view, Estimator> kNames[] = {
    {"v-pg", Estimator::kVPg},
    {"v-pg-swr", Estimator::kVPgSwr},
    {"ca-pg", Estimator::kCaPg},
    {"ca-pg-swr", Estimator::kCaPgSwr},
};

}  // namespace

std::optional<Estimator> estimator_from_name(std::string_view name) {
  for (const auto& [n, e] : kNames) {
    if (n == name) return e;
  }
  return std::nullopt;
}

std::string_view estimator_name(Estimator estimator) {
  for (const auto& [n, e] : kNames) {
    if (e == estimator) return n;
  }
  return "?";
}

EstimatorKernel::EstimatorKernel(const EstimatorOptions& options, std::span<const int> block_sizes,
                                 int n_items)
    : options_(options),
      n_models_(static_cast<int>(block_sizes.size())),
      n_items_(n_items),
      block_sizes_(block_sizes.begin(), block_sizes.end()) {
  n_slots_ = 0;
  block_start_.push_back(0);
  for (int n : block_sizes_) block_start_.push_back(n_slots_ += n);
  slot_model_ = slot_models(block_sizes_);
  if (n_slots_ > n_items_) throw std::invalid_argument("EstimatorKernel: K exceeds the item pool");
  if (options_.estimator == Estimator::kCaPg && n_items_ < n_slots_ + 1) {
    throw std::invalid_argument("EstimatorKernel: CA-PG needs at least K + 1 items");
  }
  alpha_.resize(static_cast<std::size_t>(n_models_));
  sparse_.resize(static_cast<std::size_t>(n_models_));
  top_.resize(static_cast<std::size_t>(n_models_ * (n_slots_ + 1)));
  s_hat_.resize(static_cast<std::size_t>(n_slots_));
  pick_.resize(static_cast<std::size_t>(n_slots_ + 1));
  stamp_.assign(static_cast<std::size_t>(n_items_), 0u);
  mask_.assign(static_cast<std::size_t>(n_items_), 1.0);
  for (auto* v : {&suffix_, &d_, &p_, &logq_, &beta_, &prefix_}) {
    v->resize(static_cast<std::size_t>(n_slots_));
  }
  for (auto* v : {&fp_, &fe_, &fy_, &fb_, &fgp_, &fh_, &ft_})
    v->resize(static_cast<std::size_t>(n_slots_));
  for (auto& v : fw_) v.resize(static_cast<std::size_t>(n_slots_));
  new_max_.resize(static_cast<std::size_t>(n_slots_));
}

void EstimatorKernel::clear_accumulators() {
  std::fill(alpha_.begin(), alpha_.end(), 0.0);
  for (auto& s : sparse_) s.clear();
}

double EstimatorKernel::masked_sum(const double* w) const {
  return Eigen::Map<const Eigen::VectorXd>(w, n_items_)
      .dot(Eigen::Map<const Eigen::VectorXd>(mask_.data(), n_items_));
}

ScoreResult EstimatorKernel::row_gradient(const RowSoftmax& sm, const ScoreInputs& in,
                                          std::span<double* const> grad_rows) {
  clear_accumulators();
  const bool stable = options_.precision == Precision::kStableDouble;
  const int n_targets = static_cast<int>(in.targets.size());
  double loss = 0.0;
  switch (options_.estimator) {
    case Estimator::kVPgSwr:
      loss = vpg_swr(sm, in);
      break;
    case Estimator::kCaPgSwr:
      for (int l = 0; l < n_targets; ++l) {
        loss += in.weights[l] * ca_swr(sm, in.targets[l], in.weights[l]);
      }
      break;
    case Estimator::kVPg:
      loss = stable ? vpg_stable(sm, in) : vpg_float(sm, in);
      break;
    case Estimator::kCaPg: {
      // Ŝ_{−a} from per-model top lists sorted once per row, or, when those lists are long (K
      // large, few targets: model m's list has block_start_[m + 1] + 1 entries), by selecting
      // each block's few items among those not taken yet (the same Ŝ, far less sorting).
      int lists = 0, direct = 0;
      for (int m = 0; m < n_models_; ++m) {
        if (block_sizes_[m] == 0) continue;
        lists += top_length(m);
        direct += n_targets * (block_sizes_[m] + 1);
      }
      // Lists built for this softmax by an earlier call are reused; a softmax shared by several
      // calls pays for its lists once.
      const bool reuse = in.same_softmax && top_valid_;
      const bool by_lists = reuse || lists <= direct * std::max(in.softmax_rows, 1);
      if (by_lists && !reuse) build_top_lists(sm);
      if (!by_lists) top_valid_ = false;
      for (int l = 0; l < n_targets; ++l) {
        if (by_lists || !build_s_hat_direct(sm, in.targets[l])) {
          if (!by_lists) build_top_lists(sm);  // rare: see build_s_hat_direct
          build_s_hat(in.targets[l]);
        }
        const double c = in.weights[l];
        loss += c * (stable ? ca_stable(sm, in.targets[l], c) : ca_float(sm, in.targets[l], c));
      }
      break;
    }
  }

  bool finite = std::isfinite(loss);
  for (int m = 0; m < n_models_; ++m) {
    Eigen::Map<Eigen::VectorXd> g(grad_rows[m], n_items_);
    g = alpha_[m] * Eigen::Map<const Eigen::VectorXd>(sm.weights(m), n_items_);
    finite = finite && std::isfinite(alpha_[m]);
    for (const auto& [item, value] : sparse_[m]) {
      g[item] += value;
      finite = finite && std::isfinite(value);
    }
  }
  return {loss, finite};
}

// V-PG-SwR: ℓ_S = Σ_k [s_{m(k)}(c_k) − A_{m(k)}], ∂ℓ_S/∂s_m = Σ_{k∈m} e_{c_k} − n_m softmax_m.
double EstimatorKernel::vpg_swr(const RowSoftmax& sm, const ScoreInputs& in) {
  double weight = 0.0;
  for (double c : in.weights) weight += c;
  double score = 0.0;
  for (int k = 0; k < n_slots_; ++k) {
    const int m = slot_model_[k];
    score += sm.log_prob(m, in.candidates[k]);
    add(m, in.candidates[k], weight);
  }
  for (int m = 0; m < n_models_; ++m) alpha_[m] -= weight * block_sizes_[m] / sm.sum(m);
  return weight * score;
}

// CA-PG-SwR for one target a; returns ℓ and accumulates c ∂ℓ/∂s.
double EstimatorKernel::ca_swr(const RowSoftmax& sm, int a, double c) {
  // Each model contributes κ_m (e_a − softmax_m); only κ_m differs between the forms.
  const auto add_model = [&](int m, double kappa) {
    add(m, a, c * kappa);
    alpha_[m] -= c * kappa / sm.sum(m);
  };
  if (n_models_ == 1) {  // TOP1-PG: ℓ = s(a) − A, independent of K
    add_model(0, 1.0);
    return sm.log_prob(0, a);
  }
  if (options_.swr_mixture_form == SwrMixtureForm::kReferenceSumOfPowers) {
    // ℓ = logsumexp_m x_m, x_m = n_m log p_m(a); ∂ℓ/∂s_m = softmax(x)_m n_m (e_a − softmax_m).
    // Models with n_m = 0 contribute p^0 = 1 inside the sum, as in the reference.
    double mx = -std::numeric_limits<double>::infinity();
    for (int m = 0; m < n_models_; ++m) mx = std::max(mx, block_sizes_[m] * sm.log_prob(m, a));
    double total = 0.0;
    for (int m = 0; m < n_models_; ++m) total += std::exp(block_sizes_[m] * sm.log_prob(m, a) - mx);
    const double score = mx + std::log(total);
    for (int m = 0; m < n_models_; ++m) {
      if (block_sizes_[m] == 0) continue;
      const double gamma = std::exp(block_sizes_[m] * sm.log_prob(m, a) - score);
      add_model(m, gamma * block_sizes_[m]);
    }
    return score;
  }
  // ℓ = log(1 − Q), log Q = Σ_m n_m log(1 − p_m(a));
  // ∂ℓ/∂s_m = n_m p_m [Q / (1 − p_m)] / (1 − Q) · (e_a − softmax_m), with Q / (1 − p_m) summed in
  // log space without the own factor (so p_m → 1 stays finite).
  double log_q = 0.0;
  for (int m = 0; m < n_models_; ++m) {
    if (block_sizes_[m] > 0) log_q += block_sizes_[m] * sm.log1m_prob(m, a);
  }
  const double one_minus_q = -std::expm1(log_q);
  for (int m = 0; m < n_models_; ++m) {
    const int n = block_sizes_[m];
    if (n == 0) continue;
    double log_rest = n > 1 ? (n - 1) * sm.log1m_prob(m, a) : 0.0;
    for (int o = 0; o < n_models_; ++o) {
      if (o != m && block_sizes_[o] > 0) log_rest += block_sizes_[o] * sm.log1m_prob(o, a);
    }
    add_model(m, n * std::exp(sm.log_prob(m, a) + log_rest) / one_minus_q);
  }
  return std::log(one_minus_q);
}

// V-PG, stable: with R_m = Σ_{b∉S} w_m(b), the mass left before slot k is
// D_k = R_m + Σ_{j≥k} w_m(c_j) (a sum of positives: no cancellation however peaked s is).
// ℓ_S = Σ_k [s(c_k) − max − log D_k]; ∂ℓ_S/∂s_m(b) = Σ_{k∈m} [1{b = c_k} − w(b) 1{b ∉ c_{<k}} /
// D_k].
double EstimatorKernel::vpg_stable(const RowSoftmax& sm, const ScoreInputs& in) {
  double weight = 0.0;
  for (double c : in.weights) weight += c;
  const auto& cand = in.candidates;
  for (int k = 0; k < n_slots_; ++k) mask_[cand[k]] = 0.0;
  double score = 0.0;
  for (int m = 0; m < n_models_; ++m) {
    const int k0 = block_start_[m], k1 = block_start_[m + 1];
    if (k0 == k1) continue;
    const double* w = sm.weights(m);
    const double rest = masked_sum(w);
    double suffix = 0.0;
    for (int j = n_slots_ - 1; j >= k0; --j) suffix_[j] = suffix += w[cand[j]];
    double total_inv = 0.0;  // Σ_{k∈m} 1/D_k
    for (int k = k0; k < k1; ++k) {
      const double d = rest + suffix_[k];
      score += sm.logits(m)[cand[k]] - sm.max(m) - std::log(d);
      d_[k] = 1.0 / d;
      total_inv += d_[k];
      add(m, cand[k], weight);
    }
    alpha_[m] -= weight * total_inv;
    // Items already taken before slot k are not in D_k: undo the dense term for those slots.
    for (int j = 0; j < k0; ++j) add(m, cand[j], weight * w[cand[j]] * total_inv);
    double later_inv = 0.0;  // Σ_{k∈m, k>j} 1/D_k
    for (int j = k1 - 2; j >= k0; --j) {
      later_inv += d_[j + 1];
      add(m, cand[j], weight * w[cand[j]] * later_inv);
    }
  }
  for (int k = 0; k < n_slots_; ++k) mask_[cand[k]] = 1.0;
  return weight * score;
}

// Block m takes n_m items skipping at most block_start_[m] taken ones and a (or, in place, one
// extra): model m's top (block_start_[m + 1] + 1) always suffices.
int EstimatorKernel::top_length(int m) const {
  return std::min(block_start_[m + 1] + 1, n_items_);
}

void EstimatorKernel::build_top_lists(const RowSoftmax& sm) {
  top_valid_ = false;  // until every list is this softmax's
  for (int m = 0; m < n_models_; ++m) {
    if (block_sizes_[m] == 0) continue;
    top_select_.select(sm.logits(m), n_items_, top_length(m), &top_[m * (n_slots_ + 1)]);
  }
  top_valid_ = true;
}

// Appends a block's n picks (pick_[0..n], the first n+1 with in-place substitution, where a
// among them gives its place to the extra one) to Ŝ at position k, and marks them taken.
void EstimatorKernel::take_block_picks(int n, int a, bool in_place, int& k) {
  if (in_place) {
    for (int p = 0; p < n; ++p) {
      if (pick_[p] == a) {
        pick_[p] = pick_[n];
        break;
      }
    }
  }
  for (int p = 0; p < n; ++p) {
    s_hat_[k++] = pick_[p];
    stamp_[pick_[p]] = stamp_id_;
  }
}

void EstimatorKernel::build_s_hat(int a) {
  if (++stamp_id_ == 0) {
    std::fill(stamp_.begin(), stamp_.end(), 0u);
    stamp_id_ = 1;
  }
  const bool in_place = options_.in_place_substitution;
  int k = 0;
  for (int m = 0; m < n_models_; ++m) {
    const int n = block_sizes_[m];
    if (n == 0) continue;
    const int* top = &top_[m * (n_slots_ + 1)];
    const int need = in_place ? n + 1 : n;
    int count = 0;
    for (int j = 0, len = top_length(m); j < len && count < need; ++j) {
      const int b = top[j];
      if (stamp_[b] == stamp_id_ || (!in_place && b == a)) continue;
      pick_[count++] = b;
    }
    take_block_picks(n, a, in_place, k);
  }
}

// build_s_hat without the sorted lists: block m's picks are the top (n_m + 1, or n_m without
// in-place substitution) of s_m over the items not taken by earlier blocks (nor a, without
// in-place substitution), found by one selection on a copy of s_m with those items at −inf.
// That is exactly the walk down the sorted list unless an excluded item is selected (fewer
// eligible items above −inf: only with non-finite logits); then it returns false and the caller
// takes the lists.
bool EstimatorKernel::build_s_hat_direct(const RowSoftmax& sm, int a) {
  if (++stamp_id_ == 0) {
    std::fill(stamp_.begin(), stamp_.end(), 0u);
    stamp_id_ = 1;
  }
  const bool in_place = options_.in_place_substitution;
  constexpr double kOut = -std::numeric_limits<double>::infinity();
  masked_.resize(static_cast<std::size_t>(n_items_));
  int k = 0;
  for (int m = 0; m < n_models_; ++m) {
    const int n = block_sizes_[m];
    if (n == 0) continue;
    const int need = in_place ? n + 1 : n;
    const double* s = sm.logits(m);
    const double* key = s;
    if (k > 0 || !in_place) {
      std::copy(s, s + n_items_, masked_.begin());
      for (int j = 0; j < k; ++j) masked_[s_hat_[j]] = kOut;
      if (!in_place) masked_[a] = kOut;
      key = masked_.data();
    }
    top_select_.select(key, n_items_, need, pick_.data());
    for (int p = 0; p < need; ++p) {
      const int b = pick_[p];
      if (stamp_[b] == stamp_id_ || (!in_place && b == a)) return false;
    }
    take_block_picks(n, a, in_place, k);
  }
  return true;
}

// CA-PG, stable. Slot k (model m = m(k)) draws a with p_k = w(a)/D_k; with
// D⁻_k = Σ_{b∉Ŝ∪{a}} w(b) + Σ_{j≥k} w(ĉ_j) and D_k = D⁻_k + w(a), q_k = 1 − p_k = D⁻_k / D_k is
// formed as a ratio (no 1 − p cancellation). ℓ = log(1 − Q), Q = Π q_k, and
// ∂ℓ/∂s_m = Σ_{k∈m} β_k (π_k − e_a), β_k = −Q_{−k} p_k / (1 − Q), π_k = w 1{∉ ĉ_{<k}} / D_k.
double EstimatorKernel::ca_stable(const RowSoftmax& sm, int a, double c) {
  for (int k = 0; k < n_slots_; ++k) mask_[s_hat_[k]] = 0.0;
  mask_[a] = 0.0;
  for (int m = 0; m < n_models_; ++m) {
    const int k0 = block_start_[m], k1 = block_start_[m + 1];
    if (k0 == k1) continue;
    const double* w = sm.weights(m);
    const double rest = masked_sum(w);
    double suffix = 0.0;
    for (int j = n_slots_ - 1; j >= k0; --j) suffix_[j] = suffix += w[s_hat_[j]];
    for (int k = k0; k < k1; ++k) {
      const double d_minus = rest + suffix_[k];
      d_[k] = d_minus + w[a];
      p_[k] = w[a] / d_[k];
      logq_[k] = std::log(d_minus / d_[k]);
    }
  }
  for (int k = 0; k < n_slots_; ++k) mask_[s_hat_[k]] = 1.0;
  mask_[a] = 1.0;

  double log_q = 0.0;
  for (int k = 0; k < n_slots_; ++k) {
    prefix_[k] = log_q;  // Σ_{j<k} log q_j
    log_q += logq_[k];
  }
  const double one_minus_q = -std::expm1(log_q);
  double later = 0.0;  // Σ_{j>k} log q_j
  for (int k = n_slots_ - 1; k >= 0; --k) {
    beta_[k] = -std::exp(prefix_[k] + later) * p_[k] / one_minus_q;
    later += logq_[k];
  }
  for (int m = 0; m < n_models_; ++m) {
    const int k0 = block_start_[m], k1 = block_start_[m + 1];
    if (k0 == k1) continue;
    const double* w = sm.weights(m);
    double beta_sum = 0.0, beta_over_d = 0.0;
    for (int k = k0; k < k1; ++k) {
      beta_sum += beta_[k];
      beta_over_d += beta_[k] / d_[k];
    }
    alpha_[m] += c * beta_over_d;
    add(m, a, -c * beta_sum);
    for (int j = 0; j < k0; ++j) add(m, s_hat_[j], -c * w[s_hat_[j]] * beta_over_d);
    double later_beta = 0.0;  // Σ_{k∈m, k>j} β_k / D_k
    for (int j = k1 - 2; j >= k0; --j) {
      later_beta += beta_[j + 1] / d_[j + 1];
      add(m, s_hat_[j], -c * w[s_hat_[j]] * later_beta);
    }
  }
  return std::log(one_minus_q);
}

double EstimatorKernel::ca_log_inclusion(const RowSoftmax& sm, int target) {
  clear_accumulators();
  build_top_lists(sm);
  build_s_hat(target);
  top_valid_ = false;  // not a row_gradient call: the next one must not take these lists
  return ca_stable(sm, target, 0.0);
}

// float32 reference, forward. Slot k (model m): a_k = s_m(x), x = target or the slot's own item;
// n_1 = A_m; n_k = A_m + log1p(−exp(B_k − A_m) + ε), B_k = logsumexp_{j<k} s_m(items_j);
// p_k = exp(a_k − n_k). Stores p_k, e_k = exp(B_k − A_m), y_k = −e_k + ε, B_k.
//
// Every operation is the reference's scalar float32 one in its order; only the exp, log and log1p
// of a block run as array passes (libm_float.hpp: the library's bits, vectorised). The running
// logsumexp keeps its sequential sum, with each step's exponent computed in one pass first.
void EstimatorKernel::float_slot_forward(const RowSoftmax& sm, const int* items, int target) {
  float* arg = fw_[0].data();
  float* val = fw_[1].data();
  float* run_max = fw_[2].data();
  unsigned char* new_max = new_max_.data();
  for (int m = 0; m < n_models_; ++m) {
    const int k0 = block_start_[m], k1 = block_start_[m + 1];
    if (k0 == k1) continue;
    const double* s = sm.logits(m);
    const float big_a = static_cast<float>(sm.log_sum_exp(m));
    // Running logsumexp over items_0..items_j: a new maximum v rescales the sum by
    // exp(old max − v) and adds 1, any other item adds exp(v − max).
    const int n_run = k1 - 1;
    float mx = -std::numeric_limits<float>::infinity();
    for (int j = 0; j < n_run; ++j) {
      const float v = static_cast<float>(s[items[j]]);
      new_max[j] = v > mx;
      arg[j] = new_max[j] ? mx - v : v - mx;
      if (new_max[j]) mx = v;
      run_max[j] = mx;
    }
    libm_expf(arg, val, n_run);
    float run_sum = 0.0f;
    for (int j = 0; j < n_run; ++j) {
      run_sum = new_max[j] ? run_sum * val[j] + 1.0f : run_sum + val[j];
      val[j] = run_sum;
    }
    const int j0 = std::max(k0 - 1, 0);  // fb_[j + 1] is needed from slot k0 on
    if (n_run > j0) libm_logf(val + j0, val + j0, n_run - j0);
    for (int j = j0; j < n_run; ++j) fb_[j + 1] = run_max[j] + val[j];
    // Slots k >= 1: e_k = exp(B_k − A), y_k = −e_k + ε, n_k = A + log1p(y_k).
    const int k_low = std::max(k0, 1), n_tail = k1 - k_low;
    if (n_tail > 0) {
      for (int k = k_low; k < k1; ++k) arg[k] = fb_[k] - big_a;
      libm_expf(arg + k_low, fe_.data() + k_low, n_tail);
      for (int k = k_low; k < k1; ++k) fy_[k] = -fe_[k] + kRefEps;
      libm_log1pf(fy_.data() + k_low, val + k_low, n_tail);
    }
    for (int k = k0; k < k1; ++k) {
      const float a_k = static_cast<float>(s[target >= 0 ? target : items[k]]);
      const float normalizer = k > 0 ? big_a + val[k] : big_a;
      arg[k] = a_k - normalizer;
    }
    libm_expf(arg + k0, fp_.data() + k0, k1 - k0);
  }
}

// float32 reference, backward from fgp_[k] = ∂ℓ/∂p_k (already weighted), in autograd's order:
// log1p' = g/(1+x), exp' = g·exp, logsumexp' = g·softmax.
//
// Slot k's ∂/∂(B_k − A) = h_k reaches every earlier item j through logsumexp' as
// h_k exp(s(items_j) − B_k). Summed over the slots k > j of the block this is
// exp(s(items_j) − B_{k*}) T_{k*}, k* = max(j + 1, k0), with the suffix sums
// T_k = h_k + exp(B_k − B_{k+1}) T_{k+1} (B grows with k, so every factor is <= 1): O(K) per block
// instead of the O(K²) double loop autograd runs. A non-finite h_k also makes ∂/∂A non-finite, so
// the overflow is reported exactly when the reference's gradient is non-finite.
void EstimatorKernel::float_slot_backward(const RowSoftmax& sm, const int* items, int target) {
  float* arg = fw_[0].data();
  float* val = fw_[1].data();
  for (int m = 0; m < n_models_; ++m) {
    const int k0 = block_start_[m], k1 = block_start_[m + 1];
    if (k0 == k1) continue;
    const double* s = sm.logits(m);
    float g_big_a = 0.0f;
    for (int k = k0; k < k1; ++k) {
      const float g_z = fgp_[k] * fp_[k];  // z = a_k − n_k
      add(m, target >= 0 ? target : items[k], g_z);
      float g_a_k = -g_z;  // ∂/∂A through n_k
      fh_[k] = 0.0f;
      if (k > 0) {
        const float g_y = -g_z / (1.0f + fy_[k]);
        const float g_b = -g_y * fe_[k];  // ∂/∂(B_k − A)
        g_a_k -= g_b;
        fh_[k] = g_b;
      }
      g_big_a += g_a_k;
    }
    // Suffix sums T_k for k = k1 − 1 down to max(k0, 1), then each earlier item once.
    const int k_low = std::max(k0, 1);
    if (k1 - 1 > k_low) {
      for (int k = k_low; k < k1 - 1; ++k) arg[k] = fb_[k] - fb_[k + 1];
      libm_expf(arg + k_low, val + k_low, k1 - 1 - k_low);
    }
    float t = 0.0f;
    for (int k = k1 - 1; k >= k_low; --k) {
      t = k + 1 < k1 ? fh_[k] + val[k] * t : fh_[k];
      ft_[k] = t;
    }
    const int n_run = k1 - 1;
    for (int j = 0; j < n_run; ++j)
      arg[j] = static_cast<float>(s[items[j]]) - fb_[std::max(j + 1, k0)];
    libm_expf(arg, val, n_run);
    for (int j = 0; j < n_run; ++j) add(m, items[j], val[j] * ft_[std::max(j + 1, k0)]);
    alpha_[m] += g_big_a / sm.sum(m);  // ∂A/∂s = softmax = w / Σw
  }
}

// V-PG, float32 reference: ℓ_S = Σ_k log1p(−exp(log1p(−p_k + ε)) + ε).
double EstimatorKernel::vpg_float(const RowSoftmax& sm, const ScoreInputs& in) {
  float weight = 0.0f;
  for (double c : in.weights) weight += static_cast<float>(c);
  const int* items = in.candidates.data();
  float_slot_forward(sm, items, -1);
  float* u1 = fw_[0].data();
  float* e1 = fw_[1].data();
  float* u2 = fw_[2].data();
  float* l2 = fw_[3].data();
  for (int k = 0; k < n_slots_; ++k) u1[k] = -fp_[k] + kRefEps;
  libm_log1pf(u1, e1, n_slots_);
  libm_expf(e1, e1, n_slots_);
  for (int k = 0; k < n_slots_; ++k) u2[k] = -e1[k] + kRefEps;
  libm_log1pf(u2, l2, n_slots_);
  float score = 0.0f;
  for (int k = 0; k < n_slots_; ++k) {
    score += l2[k];
    const float g_e1 = -weight / (1.0f + u2[k]);
    fgp_[k] = -(g_e1 * e1[k]) / (1.0f + u1[k]);  // 0 · inf = NaN when p_k rounds to 1
  }
  float_slot_backward(sm, items, -1);
  return static_cast<double>(weight) * score;
}

// CA-PG, float32 reference: ℓ = log1p(−exp(Σ_k log1p(−p_k + ε)) + ε).
double EstimatorKernel::ca_float(const RowSoftmax& sm, int a, double c) {
  float_slot_forward(sm, s_hat_.data(), a);
  float* u = fw_[0].data();
  float* l = fw_[1].data();
  for (int k = 0; k < n_slots_; ++k) u[k] = -fp_[k] + kRefEps;
  libm_log1pf(u, l, n_slots_);
  float sum_log = 0.0f;
  for (int k = 0; k < n_slots_; ++k) sum_log += l[k];
  const float e = std::exp(sum_log);
  const float x = -e + kRefEps;
  const float score = std::log1p(x);
  const float g_sum_log = -(static_cast<float>(c) / (1.0f + x)) * e;
  for (int k = 0; k < n_slots_; ++k) fgp_[k] = g_sum_log / (1.0f + u[k]) * -1.0f;
  float_slot_backward(sm, s_hat_.data(), a);
  return score;
}

ScoreResult estimator_gradient(const EstimatorOptions& options, std::span<const int> block_sizes,
                               const std::vector<RowMatrixXd>& logits,
                               const RowMatrixXi& candidates, const RowMatrixXi& targets,
                               const RowMatrixXd& rewards, std::vector<RowMatrixXd>& grad_logits) {
  const int n_models = static_cast<int>(logits.size());
  const Eigen::Index batch = logits.front().rows(), n_items = logits.front().cols();
  const Eigen::Index n_picks = targets.cols();
  EstimatorKernel kernel(options, block_sizes, static_cast<int>(n_items));
  RowSoftmax softmax;
  grad_logits.resize(static_cast<std::size_t>(n_models));
  for (auto& g : grad_logits) g.resize(batch, n_items);
  std::vector<double> weights(static_cast<std::size_t>(n_picks));
  std::vector<double*> rows(static_cast<std::size_t>(n_models));
  ScoreResult total;
  for (Eigen::Index i = 0; i < batch; ++i) {
    softmax.compute(logits, i);
    for (Eigen::Index l = 0; l < n_picks; ++l) {
      weights[l] = -rewards(i, l) / static_cast<double>(batch * n_picks);
    }
    for (int m = 0; m < n_models; ++m) rows[m] = grad_logits[m].row(i).data();
    const ScoreInputs inputs{
        {candidates.row(i).data(), static_cast<std::size_t>(candidates.cols())},
        {targets.row(i).data(), static_cast<std::size_t>(n_picks)},
        weights};
    const ScoreResult r = kernel.row_gradient(softmax, inputs, rows);
    total.loss += r.loss;
    total.finite = total.finite && r.finite;
  }
  return total;
}

}  // namespace stagesim::pg
