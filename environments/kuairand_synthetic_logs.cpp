#include "environments/kuairand_synthetic_logs.hpp"

#include <algorithm>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "base/rng.hpp"
#include "environments/data/kuairand.hpp"
#include "sim/errors.hpp"

namespace stagesim {
namespace {

namespace fs = std::filesystem;
using data::KuaiRandLog;
using data::KuaiRandRelease;

double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

// yyyymmdd of day `d` after 2022-04-08.
std::int32_t date_of(std::int64_t d) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int y = 2022, m = 4, day = 8;
  for (std::int64_t k = 0; k < d; ++k) {
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (++day > kDays[m - 1] + (m == 2 && leap ? 1 : 0)) {
      day = 1;
      if (++m > 12) m = 1, ++y;
    }
  }
  return y * 10000 + m * 100 + day;
}

struct File {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f{nullptr, &std::fclose};
  std::string path;
  void open(const fs::path& p, const char* header) {
    path = p.string();
    f.reset(std::fopen(path.c_str(), "wb"));
    if (!f) throw IoError(path + ": cannot be written; check that the directory is writable");
    std::fprintf(f.get(), "%s\n", header);
  }
  void close() {
    if (f && (std::fflush(f.get()) != 0 || std::ferror(f.get())))
      throw IoError(path + ": write failed; check the free disk space");
    f.reset();
  }
};

constexpr const char* kLogHeader =
    "user_id,video_id,date,hourmin,time_ms,is_click,is_like,is_follow,is_comment,is_forward,"
    "is_hate,long_view,play_time_ms,duration_ms,profile_stay_time,comment_stay_time,"
    "is_profile_enter,is_rand,tab";

}  // namespace

SyntheticLogCounts write_synthetic_kuairand(const SessionWorldParams& p,
                                            const SyntheticLogOptions& o, std::uint64_t seed,
                                            const fs::path& dir) {
  if (std::string e = check_session_world_params(p); !e.empty())
    throw ConfigError("synthetic KuaiRand logs: " + e);
  const auto& degrees = data::kuairand_active_degrees();
  if (p.user_groups > static_cast<std::int64_t>(degrees.size()))
    throw ConfigError("synthetic KuaiRand logs: user_groups = " + std::to_string(p.user_groups) +
                      " but KuaiRand has " + std::to_string(degrees.size()) +
                      " user_active_degree values; use at most that many groups");
  std::error_code ec;
  fs::create_directories(dir, ec);
  Rng rng(seed);
  boost::random::normal_distribution<double> normal;
  boost::random::uniform_01<double> unif;
  const int B = kBehaviours;
  const auto dim = static_cast<int>(p.dim);
  const auto n_items = static_cast<int>(p.items);
  const double inv_sqrt_dim = 1.0 / std::sqrt(static_cast<double>(dim));

  // Items: group centres, embeddings, per-behaviour effects, durations.
  std::vector<double> centre(static_cast<std::size_t>(p.item_groups * dim));
  for (double& c : centre) c = normal(rng);
  std::vector<double> x(static_cast<std::size_t>(n_items) * dim);
  std::vector<double> effect(static_cast<std::size_t>(n_items) * B);
  std::vector<double> duration(n_items);
  std::vector<int> group(n_items);
  for (int i = 0; i < n_items; ++i) {
    group[i] = static_cast<int>(unif(rng) * static_cast<double>(p.item_groups));
    group[i] = std::min<int>(group[i], static_cast<int>(p.item_groups) - 1);
    for (int k = 0; k < dim; ++k)
      x[static_cast<std::size_t>(i) * dim + k] =
          (centre[static_cast<std::size_t>(group[i]) * dim + k] + p.item_spread * normal(rng)) *
          inv_sqrt_dim;
    for (int b = 0; b < B; ++b)
      effect[static_cast<std::size_t>(i) * B + b] = p.item_effect_sd * normal(rng);
    duration[i] = std::exp(p.duration_log_mean + p.duration_log_sd * normal(rng));
  }

  File early, late, random, users, videos;
  const KuaiRandRelease pure = KuaiRandRelease::pure;
  early.open(dir / data::kuairand_log_file(KuaiRandLog::standard_early, pure), kLogHeader);
  late.open(dir / data::kuairand_log_file(KuaiRandLog::standard_late, pure), kLogHeader);
  random.open(dir / data::kuairand_log_file(KuaiRandLog::random, pure), kLogHeader);
  const std::int32_t first_late = 20220422;

  users.open(dir / data::kuairand_user_features_file(pure),
             "user_id,user_active_degree,is_lowactive_period,is_live_streamer,is_video_author,"
             "follow_user_num,follow_user_num_range,fans_user_num,fans_user_num_range,"
             "friend_user_num,friend_user_num_range,register_days,register_days_range,"
             "onehot_feat0,onehot_feat1,onehot_feat2,onehot_feat3,onehot_feat4,onehot_feat5,"
             "onehot_feat6,onehot_feat7,onehot_feat8,onehot_feat9,onehot_feat10,onehot_feat11,"
             "onehot_feat12,onehot_feat13,onehot_feat14,onehot_feat15,onehot_feat16,"
             "onehot_feat17");

  SyntheticLogCounts counts;
  std::vector<double> theta(dim);
  const std::int64_t day0 = *data::kuairand_day_number(20220408);
  for (std::int64_t u = 0; u < o.users; ++u) {
    // Group by the shares (uniform without them).
    int g = 0;
    {
      double v = unif(rng), acc = 0;
      const auto G = static_cast<int>(p.user_groups);
      for (g = 0; g < G - 1; ++g) {
        acc += p.user_group_shares.empty() ? 1.0 / G : p.user_group_shares[g];
        if (v < acc) break;
      }
    }
    for (double& t : theta) t = normal(rng);
    const double rho =
        (p.group_return.empty() ? 0.0 : p.group_return[g]) + p.personal_sd * normal(rng);
    const double s0 = p.initial_satisfaction * std::exp(p.satisfaction_sd * normal(rng) -
                                                        p.satisfaction_sd * p.satisfaction_sd / 2);
    std::fprintf(users.f.get(),
                 "%lld,%s,0,0,0,%lld,\"(0,10]\",0,0,0,0,400,366-730,0,1,2,3,4,0,0,1,2,3,0,1,%s\n",
                 static_cast<long long>(u), degrees[g].c_str(), static_cast<long long>(u % 10),
                 u % 3 == 0 ? ",,,,," : "0.0,1.0,0.0,0.0,0.0,1.0");

    std::int64_t day = 0;
    while (day < o.days) {
      const std::int32_t date = date_of(day);
      const std::int64_t day_number = day0 + day;
      int minute = static_cast<int>(unif(rng) * 20 * 60);  // sessions start before 20:00
      double s = s0, sum_s = 0, last_reward = 0;
      std::int64_t n = 0;
      for (;;) {
        ++n;
        double gain = -p.fatigue;
        double positives = 0;
        for (std::int64_t k = 0; k < p.slate; ++k) {
          const int i = std::min(static_cast<int>(unif(rng) * n_items), n_items - 1);
          double aff = 0;
          for (int d = 0; d < dim; ++d) aff += theta[d] * x[static_cast<std::size_t>(i) * dim + d];
          std::array<int, kBehaviours> y{};
          for (int b = 0; b < B; ++b) {
            const double pb = sigmoid(p.logit_offset[b] + p.affinity[b] * aff +
                                      effect[static_cast<std::size_t>(i) * B + b]);
            y[b] = unif(rng) < pb ? 1 : 0;
            gain += p.satisfaction_gain[b] * y[b];
            positives += (b == B - 1 ? -1.0 : 1.0) * y[b];  // hate counts against
          }
          const double play = duration[i] * sigmoid(p.play_offset + p.play_affinity * aff +
                                                    p.play_noise * normal(rng));
          gain += p.play_gain * play / 60.0;
          const double play_ms = std::round(play * 1000.0);
          const double dur_ms = std::round(duration[i] * 1000.0);
          const bool single = unif(rng) < o.single_column_share;
          const int click = single ? (data::kuairand_valid_play(play_ms, dur_ms) ? 1 : 0) : y[0];
          const bool is_rand = date >= first_late && unif(rng) < o.random_share;
          File& out = is_rand ? random : (date >= first_late ? late : early);
          const int hm = std::min(minute, 23 * 60 + 59);
          const long long t_ms = (day_number * 86400LL + hm * 60LL - 8 * 3600LL) * 1000LL +
                                 static_cast<long long>(k) * 997LL;
          // Columns: ids, date, hourmin, time_ms, is_click, is_like, is_follow, is_comment,
          // is_forward, is_hate, long_view, play, duration, stays, profile_enter, is_rand, tab.
          std::fprintf(
              out.f.get(), "%lld,%d,%d,%d,%lld,%d,%d,%d,%d,%d,%d,%d,%.0f,%.0f,0,0,0,%d,%d\n",
              static_cast<long long>(u), i, date, (hm / 60) * 100 + hm % 60, t_ms, click, y[2],
              y[5], y[3], y[4], y[6], y[1], play_ms, dur_ms, is_rand ? 1 : 0, single ? 1 : 0);
          ++counts.rows;
        }
        ++minute;
        s += gain;
        sum_s += s;
        last_reward = positives / static_cast<double>(p.slate);
        if (s <= 0 || unif(rng) < p.leave_hazard || n >= p.max_requests) break;
      }
      ++counts.sessions;
      const double signal = p.return_signal == ReturnSignal::mean_satisfaction
                                ? sum_s / static_cast<double>(n)
                                : last_reward;
      const double q = std::clamp(p.return_bias + rho + p.kappa * signal, 0.001, 0.999);
      // Truncated geometric on 1..max_return_day by inversion.
      const double v = unif(rng);
      const double tail = 1.0 - std::pow(1.0 - q, static_cast<double>(p.max_return_day));
      std::int64_t gap =
          1 + static_cast<std::int64_t>(std::floor(std::log1p(-v * tail) / std::log1p(-q)));
      gap = std::clamp<std::int64_t>(gap, 1, p.max_return_day);
      day += gap;
      if (day < o.days) ++counts.gaps;
    }
  }

  videos.open(dir / data::kuairand_video_features_file(pure),
              "video_id,author_id,video_type,upload_dt,upload_type,visible_status,video_duration,"
              "server_width,server_height,music_id,music_type,tag");
  for (int i = 0; i < n_items; ++i) {
    // The first tag is the item's group; every third video lists a second tag (a quoted list).
    if (i % 3 == 0)
      std::fprintf(videos.f.get(),
                   "%d,%d,NORMAL,2022-03-01,ShortImport,1,%.1f,720,1280,%d,4.0,\"%d,%d\"\n", i,
                   i % 97, std::round(duration[i] * 1000.0), i % 13, group[i],
                   static_cast<int>((group[i] + 1) % p.item_groups));
    else
      std::fprintf(videos.f.get(), "%d,%d,NORMAL,2022-03-01,ShortImport,1,%.1f,720,1280,%d,,%d\n",
                   i, i % 97, std::round(duration[i] * 1000.0), i % 13, group[i]);
  }
  for (File* f : {&early, &late, &random, &users, &videos}) f->close();
  return counts;
}

}  // namespace stagesim
