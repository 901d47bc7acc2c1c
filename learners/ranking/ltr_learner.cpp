#include "learners/ranking/ltr_learner.hpp"

#include <algorithm>
#include <boost/random/uniform_int_distribution.hpp>
#include <numeric>
#include <stdexcept>

#include "learners/ranking/mf_scorer.hpp"
#include "models/optimizers.hpp"

namespace stagesim::ranking {

std::string LtrOptions::check() const {
  if (dim < 1) return "dim must be at least 1";
  if (!(temperature > 0)) return "temperature must be positive";
  if (!(learning_rate > 0)) return "learning_rate must be positive";
  if (batch < 1 || epochs < 1 || patience < 1 || min_epochs < 1)
    return "batch, epochs, patience and min_epochs must be >= 1";
  if (sampled_negatives < 1) return "sampled_negatives must be at least 1";
  if (rank_negatives < 0 || prerank_negatives < 0 || global_negatives < 0 || exposed_negatives < 0)
    return "negative counts must be at least 0";
  if (distill_samples < 1) return "distill_samples must be at least 1";
  if (!(rankflow_alpha >= 0 && rankflow_alpha <= 1)) return "rankflow_alpha must be in [0, 1]";
  if (ks.empty()) return "ks: give at least one K";
  for (int k : ks)
    if (k < 1) return "ks: every K must be at least 1";
  return labels.check();
}

namespace {

int uniform_int(Rng& rng, int lo, int hi) {
  return boost::random::uniform_int_distribution<int>(lo, hi)(rng);
}

// Appends up to `count` distinct entries of `from` (in random order) to `out`; returns how many.
int draw_distinct(std::vector<std::int64_t>& from, int count, Rng& rng,
                  std::vector<std::int64_t>& out) {
  const int n = std::min<int>(count, static_cast<int>(from.size()));
  for (int i = 0; i < n; ++i) {
    std::swap(from[i], from[uniform_int(rng, i, static_cast<int>(from.size()) - 1)]);
    out.push_back(from[i]);
  }
  return n;
}

}  // namespace

LtrGroups make_groups(const FullyObservedWorld& world, const LtrSplit& split, const LtrOptions& o,
                      Rng& rng, const PipelineModels* teacher) {
  const bool mse = o.method == LtrMethod::kRankFlow && o.rankflow_alpha < 1;
  if (mse && !teacher)
    throw std::invalid_argument("RankFlow with rankflow_alpha < 1 needs the pipeline as teacher");
  LtrGroups g;
  const RequestLog& log = split.train;
  const bool retrieval = o.stage == LtrStage::kRetrieval;
  switch (o.method) {
    case LtrMethod::kBpr:
    case LtrMethod::kSsm:
      g.size = g.self = 1 + o.sampled_negatives;
      break;
    case LtrMethod::kBce:
      g.size = g.self = 1;
      break;
    case LtrMethod::kRankFlow:
      g.self = 1 + o.sampled_negatives;
      g.size = g.self + 2 * o.distill_samples;
      break;
    default:
      g.size = g.self =
          1 + o.exposed_negatives + o.rank_negatives + o.prerank_negatives + o.global_negatives;
  }
  auto random_item = [&](int u) {
    if (retrieval) return uniform_int(rng, 0, world.items - 1);
    const auto pool = split.pool(u);
    return pool.empty() ? 0 : pool[uniform_int(rng, 0, static_cast<int>(pool.size()) - 1)];
  };
  // One entry of the current group.
  auto push = [&](int item, double label, bool valid, bool top = false) {
    g.items.push_back(valid ? item : 0);
    g.labels.push_back(valid ? label : 0.0);
    g.mask.push_back(valid);
    g.top.push_back(top);
    if (mse) g.teacher.push_back(0.0);
  };
  // The next stage's score of the last pushed entry (RankFlow's MSE target).
  auto teach = [&](int u) {
    if (!mse || !g.mask.back()) return;
    const int item = g.items.back();
    double t = 0;
    if (retrieval)
      teacher->prerank_scores(u, std::span<const int>(&item, 1), std::span<double>(&t, 1));
    else
      teacher->rank_scores(u, std::span<const int>(&item, 1), std::span<double>(&t, 1));
    g.teacher.back() = t;
  };
  auto pad_to = [&](std::size_t end) {
    while (g.items.size() < end) push(0, 0, false);
  };
  std::vector<std::int64_t> pos, exp_neg, rank_neg, pre_neg, others, top, rest, picked;
  for (std::size_t r = 0; r < log.requests(); ++r) {
    const int u = log.user[r];
    pos.clear(), exp_neg.clear(), rank_neg.clear(), pre_neg.clear();
    for (std::int64_t i = log.begin(r); i < log.end(r); ++i) {
      switch (log.level[i]) {
        case kExposed:
          (log.click[i] ? pos : exp_neg).push_back(i);
          break;
        case kRankDropped:
          rank_neg.push_back(i);
          break;
        case kPrerankDropped:
          pre_neg.push_back(i);
          break;
        default:
          break;
      }
    }
    if (o.method == LtrMethod::kBce) {
      for (auto* set : {&pos, &exp_neg})
        for (std::int64_t i : *set) {
          g.users.push_back(u);
          push(log.item[i], log.click[i], true);
        }
      continue;
    }
    for (std::int64_t p : pos) {
      g.users.push_back(u);
      const std::size_t end = g.items.size() + g.size;
      if (o.method == LtrMethod::kBpr || o.method == LtrMethod::kSsm ||
          o.method == LtrMethod::kRankFlow) {
        push(log.item[p], 1.0, true);
        if (o.method == LtrMethod::kRankFlow && !retrieval) {
          // The pre-rank stage receives the retrieved candidates: negatives among them.
          others = exp_neg;
          others.insert(others.end(), rank_neg.begin(), rank_neg.end());
          others.insert(others.end(), pre_neg.begin(), pre_neg.end());
          picked.clear();
          draw_distinct(others, o.sampled_negatives, rng, picked);
          for (std::int64_t i : picked) push(log.item[i], 0.0, true);
        } else {
          for (int k = 0; k < o.sampled_negatives; ++k) push(random_item(u), 0.0, true);
        }
        g.pairs += static_cast<std::int64_t>(g.items.size() - (end - g.size)) - 1;
        if (o.method == LtrMethod::kRankFlow) {
          pad_to(end - g.size + g.self);
          // Teacher = the next stage: what it passed (top) vs what it dropped, in this request.
          top.clear(), rest.clear();
          if (retrieval) {
            top = rank_neg;
            top.insert(top.end(), pos.begin(), pos.end());
            top.insert(top.end(), exp_neg.begin(), exp_neg.end());
            rest = pre_neg;
          } else {
            top = pos;
            top.insert(top.end(), exp_neg.begin(), exp_neg.end());
            rest = rank_neg;
          }
          const std::size_t seg = g.items.size() + o.distill_samples;
          picked.clear();
          draw_distinct(top, o.distill_samples, rng, picked);
          for (std::int64_t i : picked) push(log.item[i], 1.0, true, true), teach(u);
          pad_to(seg);
          picked.clear();
          draw_distinct(rest, o.distill_samples, rng, picked);
          for (std::int64_t i : picked) push(log.item[i], 0.0, true, false), teach(u);
          ++g.pairs;
        }
        pad_to(end);
        continue;
      }
      // FS-LTR: the relabelled stage samples of this request.
      auto label = [&](std::int64_t i) {
        return stage_label(o.labels, static_cast<StageLevel>(log.level[i]), log.click[i] != 0);
      };
      push(log.item[p], label(p), true);
      std::size_t seg = g.items.size();
      for (auto [set, count] :
           {std::pair{&exp_neg, o.exposed_negatives}, std::pair{&rank_neg, o.rank_negatives},
            std::pair{&pre_neg, o.prerank_negatives}}) {
        picked.clear();
        draw_distinct(*set, count, rng, picked);
        for (std::int64_t i : picked) push(log.item[i], label(i), true);
        seg += count;
        pad_to(seg);
      }
      for (int k = 0; k < o.global_negatives; ++k)
        push(random_item(u), stage_label(o.labels, kRandomSample, false), true);
      // Pairs with different labels among the valid entries.
      const std::size_t first = end - g.size;
      for (std::size_t a = first; a < end; ++a)
        for (std::size_t b = first; b < end; ++b)
          if (g.mask[a] && g.mask[b] && g.labels[a] > g.labels[b]) ++g.pairs;
    }
  }
  if (o.method == LtrMethod::kBce) g.pairs = static_cast<std::int64_t>(g.users.size());
  return g;
}

double group_loss(const LtrOptions& o, int self, std::span<const double> s,
                  std::span<const double> l, Mask m, std::span<const std::uint8_t> top,
                  std::span<double> grad, std::span<const double> teacher) {
  switch (o.method) {
    case LtrMethod::kBpr:
      return bpr_loss(s, m, grad);
    case LtrMethod::kSsm:
      return softmax_loss(s, m, grad);
    case LtrMethod::kBce:
      return bce_loss(s, l, m, grad);
    case LtrMethod::kFsRankNet:
      return ranknet_loss(s, l, m, grad);
    case LtrMethod::kFsLambdaRank:
      return lambdarank_loss(s, l, m, grad);
    case LtrMethod::kRankFlow: {
      const double a = bpr_loss(s.first(self), m.first(self), grad.first(self));
      const std::size_t rest = s.size() - self;
      const double b =
          topk_distillation_loss(s.last(rest), top.last(rest), m.last(rest), grad.last(rest));
      for (std::size_t i = self; i < s.size(); ++i) grad[i] *= o.distill_weight;
      return a + o.distill_weight * b;
    }
  }
  return 0.0;
}

TopKAccumulator evaluate_ranking(MfScorer& mf, const FullyObservedWorld& world,
                                 const LtrSplit& split, const LtrOptions& o,
                                 const std::vector<std::vector<int>>& positives,
                                 bool exclude_validation) {
  TopKAccumulator acc(o.ks);
  std::vector<int> users;
  for (int u = 0; u < world.users; ++u) {
    if (positives[u].empty())
      acc.add_user({}, {});
    else
      users.push_back(u);
  }
  // One GEMM per block of users (score_all), then per user one pass over its pool keeping the K
  // best in a heap: an item is compared with the heap's worst only (most items lose at once).
  // The order (score descending, ties to the lower item id) is total, so the top K are the same
  // as a full sort's. Excluded items are marked in a per-item stamp instead of searched.
  constexpr std::size_t kBlock = 256;
  RowMatrixXd S;
  std::vector<std::pair<double, int>> heap;
  std::vector<int> top;
  std::vector<int> stamp(static_cast<std::size_t>(world.items), -1);
  const auto better = [](const std::pair<double, int>& a, const std::pair<double, int>& c) {
    return a.first > c.first || (a.first == c.first && a.second < c.second);
  };
  const std::size_t K = static_cast<std::size_t>(acc.max_k());
  heap.reserve(K + 1);
  for (std::size_t start = 0; start < users.size(); start += kBlock) {
    const std::size_t b = std::min<std::size_t>(kBlock, users.size() - start);
    mf.score_all(std::span<const int>(users).subspan(start, b), S);
    for (std::size_t i = 0; i < b; ++i) {
      const int u = users[start + i];
      for (int v : split.known[u]) stamp[v] = u;
      if (exclude_validation)
        for (int v : split.validation[u]) stamp[v] = u;
      const double* row = S.data() + static_cast<Eigen::Index>(i) * S.cols();
      heap.clear();
      // better() as the heap's "less": the heap's front is its worst entry.
      auto offer = [&](int v) {
        if (stamp[v] == u) return;
        const std::pair<double, int> c{row[v], v};
        if (heap.size() < K) {
          heap.push_back(c);
          std::push_heap(heap.begin(), heap.end(), better);
        } else if (better(c, heap.front())) {
          std::pop_heap(heap.begin(), heap.end(), better);
          heap.back() = c;
          std::push_heap(heap.begin(), heap.end(), better);
        }
      };
      if (o.stage == LtrStage::kRetrieval) {
        for (int v = 0; v < world.items; ++v) offer(v);
      } else {
        for (int v : world.pool(u)) offer(v);
      }
      std::sort_heap(heap.begin(), heap.end(), better);  // best first
      top.resize(heap.size());
      for (std::size_t j = 0; j < heap.size(); ++j) top[j] = heap[j].second;
      acc.add_user(top, positives[u]);
    }
  }
  return acc;
}

double train_epoch(MfScorer& mf, models::Adam& opt, const LtrGroups& g, const LtrOptions& o,
                   Rng& rng) {
  std::vector<int> order(g.count()), fu, fi;
  std::iota(order.begin(), order.end(), 0);
  for (std::size_t i = order.size(); i > 1; --i)
    std::swap(order[i - 1], order[uniform_int(rng, 0, static_cast<int>(i) - 1)]);
  const int G = g.size;
  // Zero once; each step writes only its groups' rows and clear_rows zeroes them again.
  models::ParameterSet grads = mf.params().zeros_like();
  Eigen::VectorXd s, d;
  std::vector<double> gbuf(G);
  const bool teacher = !g.teacher.empty();
  double total = 0;
  for (std::size_t start = 0; start < order.size(); start += o.batch) {
    const std::size_t b = std::min<std::size_t>(o.batch, order.size() - start);
    fu.resize(b), fi.resize(b * G);
    for (std::size_t j = 0; j < b; ++j) {
      const std::size_t grp = order[start + j];
      fu[j] = g.users[grp];
      for (int e = 0; e < G; ++e) fi[j * G + e] = g.items[grp * G + e];
    }
    mf.group_scores(fu, fi, G, s);
    d.resize(s.size());
    for (std::size_t j = 0; j < b; ++j) {
      const std::size_t off = static_cast<std::size_t>(order[start + j]) * G;
      total += group_loss(
          o, g.self, std::span<const double>(s.data() + j * G, G),
          std::span<const double>(g.labels).subspan(off, G), Mask(g.mask).subspan(off, G),
          std::span<const std::uint8_t>(g.top).subspan(off, G), gbuf,
          teacher ? std::span<const double>(g.teacher).subspan(off, G) : std::span<const double>());
      for (int e = 0; e < G; ++e) d[static_cast<Eigen::Index>(j * G + e)] = gbuf[e] / b;
    }
    mf.group_backward(d, grads);
    if (o.lazy_adam)
      opt.step_rows(mf.params(), grads, mf.touched_rows());
    else
      opt.step(mf.params(), grads);
    mf.clear_rows(grads);
  }
  return g.count() ? total / static_cast<double>(g.count()) : 0.0;
}

LtrResult train_and_evaluate(const FullyObservedWorld& world, const LtrSplit& split,
                             const LtrOptions& o, Rng& rng, const std::function<void()>& on_epoch,
                             const PipelineModels* teacher) {
  MfScorer mf({world.users, world.items, o.dim, o.temperature, o.init_sd});
  mf.init(rng);
  models::AdamOptions ao;
  ao.learning_rate = o.learning_rate;
  models::Adam opt(ao);
  models::ParameterSet best = mf.params();
  LtrResult res;
  double best_val = -1;
  int bad = 0;
  // Early stopping on validation NDCG at the largest K (HR saturates on easy worlds).
  const std::size_t kmax =
      static_cast<std::size_t>(std::max_element(o.ks.begin(), o.ks.end()) - o.ks.begin());
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    const LtrGroups g = make_groups(world, split, o, rng, teacher);
    res.groups_per_epoch = static_cast<std::int64_t>(g.count());
    res.pairs_per_epoch = g.pairs;
    res.final_train_loss = train_epoch(mf, opt, g, o, rng);
    res.epochs_run = epoch;
    const TopKAccumulator val = evaluate_ranking(mf, world, split, o, split.validation, false);
    const double v = val.values()[kmax].ndcg;
    if (on_epoch) on_epoch();
    if (v > best_val) {
      best_val = v;
      best = mf.params();
      res.best_epoch = epoch;
      res.validation = val.values();
      bad = 0;
    } else if (++bad >= o.patience && epoch >= o.min_epochs) {
      break;
    }
  }
  models::copy_values(mf.params(), best);
  const TopKAccumulator test = evaluate_ranking(mf, world, split, o, split.test, true);
  res.test = test.values();
  res.test_users = test.users();
  res.skipped_users = test.skipped_users();
  return res;
}

}  // namespace stagesim::ranking
