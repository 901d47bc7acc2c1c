#include "learners/pg/pl_mixture.hpp"

#include <algorithm>
#include <boost/random/uniform_01.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "learners/pg/counter_rng.hpp"
#include "learners/pg/fast_exp.hpp"
#include "learners/pg/fast_log.hpp"
#include "learners/pg/top_k.hpp"

namespace stagesim::pg {

std::vector<int> slot_block_sizes(int n_slots, int n_models) {
  if (n_slots < 0 || n_models <= 0) throw std::invalid_argument("slot_block_sizes: bad sizes");
  std::vector<int> sizes(static_cast<std::size_t>(n_models), n_slots / n_models);
  for (int m = 0; m < n_slots % n_models; ++m) ++sizes[static_cast<std::size_t>(m)];
  return sizes;
}

std::vector<int> slot_models(std::span<const int> block_sizes) {
  std::vector<int> models;
  for (int m = 0; m < static_cast<int>(block_sizes.size()); ++m) {
    models.insert(models.end(), static_cast<std::size_t>(block_sizes[m]), m);
  }
  return models;
}

PLMixture::PLMixture(int n_models, int n_users, int n_items, int dim, Rng& init_rng,
                     double temperature) {
  if (n_models <= 0 || n_users <= 0 || n_items <= 0 || dim <= 0 || !(temperature > 0.0)) {
    throw std::invalid_argument("PLMixture: sizes and temperature must be positive");
  }
  models::TwoTowerSpec spec;
  spec.user = {models::TowerKind::kEmbedding, n_users, dim, {}, false, /*init_sd=*/1.0};
  spec.item = {models::TowerKind::kEmbedding, n_items, dim, {}, false, /*init_sd=*/1.0};
  spec.temperature = temperature;
  for (int m = 0; m < n_models; ++m)
    models_.emplace_back(params_, "model" + std::to_string(m), spec);
  for (const models::TwoTower& model : models_) model.init(params_, init_rng);
}

void PLMixture::batch_logits(std::span<const int> users, std::vector<RowMatrixXd>& out) const {
  out.resize(static_cast<std::size_t>(n_models()));
  // Small (B × dim), so const methods need no shared scratch.
  models::TwoTower::Cache cache;
  for (int m = 0; m < n_models(); ++m)
    models_[m].score_matrix(params_, models::TowerInput::of_ids(users), models::TowerInput::all(),
                            cache, out[m]);
}

void PLMixture::backprop(std::span<const int> users, const std::vector<RowMatrixXd>& grad_logits,
                         models::ParameterSet& grads, bool accumulate) const {
  if (!grads.same_layout(params_)) {
    if (accumulate) throw std::invalid_argument("PLMixture::backprop: gradient layout");
    grads = params_.zeros_like();
  }
  models::TwoTower::Cache cache;
  for (int m = 0; m < n_models(); ++m) {
    models_[m].embed(params_, models::TowerInput::of_ids(users), models::TowerInput::all(), cache);
    models_[m].score_matrix_backward(params_, models::TowerInput::of_ids(users),
                                     models::TowerInput::all(), cache, grad_logits[m], grads,
                                     accumulate);
  }
}

CandidateSampler::CandidateSampler(int n_items)
    : n_items_(n_items),
      n_leaves_(1),
      key_(static_cast<std::size_t>(n_items)),
      fkey_(static_cast<std::size_t>(n_items)),
      taken_(static_cast<std::size_t>(n_items), 0) {
  while (n_leaves_ < n_items) n_leaves_ *= 2;
  tree_.assign(static_cast<std::size_t>(2 * n_leaves_), 0.0);
}

std::uint32_t CandidateSampler::next_stamp() {
  if (++stamp_ == 0) {  // wrapped: old stamps could collide
    std::fill(taken_.begin(), taken_.end(), 0u);
    stamp_ = 1;
  }
  return stamp_;
}

void CandidateSampler::sample(SamplerKind kind, const RowSoftmax& softmax,
                              std::span<const int> block_sizes, Rng& rng, std::span<int> out) {
  switch (kind) {
    case SamplerKind::kSequential:
      sample_sequential(softmax, block_sizes, rng, out);
      break;
    case SamplerKind::kGumbelTopK:
      sample_gumbel(softmax, block_sizes, rng, out, false);
      break;
    case SamplerKind::kGumbelTopKFloat32:
      sample_gumbel(softmax, block_sizes, rng, out, true);
      break;
  }
}

namespace {
// Below this total the remaining weights (relative to the row maximum) risk denormals: the tree is
// refilled relative to the maximum over the remaining items.
constexpr double kTinyMass = 1e-280;
}  // namespace

void CandidateSampler::fill_tree(const double* w, std::span<const int> taken) {
  double* leaf = tree_.data() + n_leaves_;
  std::copy(w, w + n_items_, leaf);
  for (int b : taken) leaf[b] = 0.0;
  // Level by level (not node by node) so the pairwise sums vectorise.
  for (int level = n_leaves_ / 2; level >= 1; level /= 2) {
    for (int i = level; i < 2 * level; ++i) tree_[i] = tree_[2 * i] + tree_[2 * i + 1];
  }
}

void CandidateSampler::remove_leaf(int leaf) {
  // Parents are recomputed from their children, never decremented: no cancellation when a heavy
  // item leaves a tree of tiny ones. The running sum stays in a register (a + b == b + a exactly).
  int i = n_leaves_ + leaf;
  tree_[i] = 0.0;
  double sum = 0.0;
  for (; i > 1; i /= 2) {
    sum += tree_[i ^ 1];
    tree_[i / 2] = sum;
  }
}

int CandidateSampler::draw_leaf(double u) const {
  int i = 1;
  while (i < n_leaves_) {  // branch-free: the direction is data, not a mispredicted jump
    const double left = tree_[2 * i];
    const int right = u >= left;
    u -= left * right;  // exact: left or 0
    i = 2 * i + right;
  }
  int leaf = i - n_leaves_;
  if (leaf >= n_items_ || tree_[i] <= 0.0) {
    // Rounding walked past the last positive leaf (probability ~2^-53): take the last one.
    leaf = n_items_ - 1;
    while (tree_[n_leaves_ + leaf] <= 0.0) --leaf;
  }
  return leaf;
}

void CandidateSampler::sample_sequential(const RowSoftmax& softmax,
                                         std::span<const int> block_sizes, Rng& rng,
                                         std::span<int> out) {
  boost::random::uniform_01<double> uniform;
  int k = 0;
  for (int m = 0; m < static_cast<int>(block_sizes.size()); ++m) {
    if (block_sizes[m] == 0) continue;
    fill_tree(softmax.weights(m), out.first(static_cast<std::size_t>(k)));
    for (int t = 0; t < block_sizes[m]; ++t) {
      if (tree_[1] < kTinyMass) {  // refill relative to the maximum over the remaining items
        const double* s = softmax.logits(m);
        double mx = -std::numeric_limits<double>::infinity();
        for (int b = 0; b < n_items_; ++b) {
          if (std::find(out.begin(), out.begin() + k, b) == out.begin() + k)
            mx = std::max(mx, s[b]);
        }
        exp_shifted(s, mx, key_.data(), n_items_);
        fill_tree(key_.data(), out.first(static_cast<std::size_t>(k)));
      }
      const int item = draw_leaf(uniform(rng) * tree_[1]);
      out[k++] = item;
      remove_leaf(item);
    }
  }
}

void CandidateSampler::sample_gumbel(const RowSoftmax& softmax, std::span<const int> block_sizes,
                                     Rng& rng, std::span<int> out, bool float32) {
  boost::random::uniform_01<double> uniform;
  Eigen::Map<Eigen::ArrayXd> key(key_.data(), n_items_);
  int k = 0;
  for (int m = 0; m < static_cast<int>(block_sizes.size()); ++m) {
    if (block_sizes[m] == 0) continue;
    const double* s = softmax.logits(m);
    if (float32) {
      // One 64-bit key from the stream per block; the block's uniforms are counter-based hashes
      // of the item index under it, and both logs are the vectorised log_float.
      constexpr float kLow = std::numeric_limits<float>::min();
      constexpr float kHigh = 1.0f - std::numeric_limits<float>::epsilon();
      float* g = fkey_.data();
      counter_uniforms_float(rng(), g, n_items_);
      for (int b = 0; b < n_items_; ++b) g[b] = std::max(g[b] * kHigh, kLow);
      log_float(g, g, n_items_);
      for (int b = 0; b < n_items_; ++b) g[b] = -g[b];
      log_float(g, g, n_items_);  // G = −log(−log U)
      for (int b = 0; b < n_items_; ++b) g[b] = static_cast<float>(s[b]) - g[b];
      for (int j = 0; j < k; ++j) g[out[j]] = -std::numeric_limits<float>::infinity();
      top_.select(g, n_items_, block_sizes[m], out.data() + k);
      k += block_sizes[m];
      continue;
    }
    for (int b = 0; b < n_items_; ++b) key_[b] = uniform(rng);
    // Gumbel noise −log(−log U); U = 0 gives −inf: an item that cannot be drawn (p = 2^-53).
    key = Eigen::Map<const Eigen::ArrayXd>(s, n_items_) - (-key.log()).log();
    for (int j = 0; j < k; ++j) key_[out[j]] = -std::numeric_limits<double>::infinity();
    top_.select(key_.data(), n_items_, block_sizes[m], out.data() + k);
    k += block_sizes[m];
  }
}

void CandidateSampler::greedy(const std::vector<RowMatrixXd>& logits, Eigen::Index row,
                              std::span<const int> block_sizes, std::span<int> out) {
  next_stamp();
  int k = 0;
  for (int m = 0; m < static_cast<int>(block_sizes.size()); ++m) {
    const int n = block_sizes[m];
    if (n == 0) continue;
    // The top (k + n) of s_m contain at least n items not taken by the k earlier slots.
    order_.resize(static_cast<std::size_t>(k + n));
    top_.select(logits[m].row(row).data(), n_items_, k + n, order_.data());
    for (int j = 0, taken = 0; taken < n; ++j) {
      const int item = order_[j];
      if (taken_[item] == stamp_) continue;
      taken_[item] = stamp_;
      out[k + taken++] = item;
    }
    k += n;
  }
}

}  // namespace stagesim::pg
