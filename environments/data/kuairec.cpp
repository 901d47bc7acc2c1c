#include "environments/data/kuairec.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <unordered_set>

#include "environments/data/csv.hpp"
#include "environments/data/data_error.hpp"

namespace stagesim::data {
namespace {

namespace fs = std::filesystem;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t kV1MaxVideoId = 10728;  // v2 ids are 0..10727 (id 1225 removed)
constexpr const char* kKnownFiles[] = {"small_matrix.csv",        "big_matrix.csv",
                                       "user_features.csv",       "item_categories.csv",
                                       "item_daily_features.csv", "social_network.csv"};

std::string thousands(std::int64_t v) {
  const std::string digits = std::to_string(v);
  std::string s;
  std::size_t start = digits[0] == '-' ? 1 : 0;
  s.append(digits, 0, start);
  for (std::size_t i = start; i < digits.size(); ++i) {
    if (i > start && (digits.size() - i) % 3 == 0) s.push_back(',');
    s.push_back(digits[i]);
  }
  return s;
}

std::string format_g(double v) {
  if (std::isnan(v)) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// The eight interaction columns, looked up by name.
struct InteractionColumns {
  std::size_t user, video, play, vdur, time, date, ts, ratio;
  explicit InteractionColumns(const CsvReader& r)
      : user(r.column("user_id")),
        video(r.column("video_id")),
        play(r.column("play_duration")),
        vdur(r.column("video_duration")),
        time(r.column("time")),
        date(r.column("date")),
        ts(r.column("timestamp")),
        ratio(r.column("watch_ratio")) {}
};

struct RawRow {
  std::int64_t user = 0;
  std::int64_t video = 0;
  double play = kNaN;
  double vdur = kNaN;
  double ts = kNaN;
  std::int64_t date = -1;
  double ratio = kNaN;
  int missing = 0;
  bool skip = false;
};

// Parses one interaction row: every numeric column is validated (a bad number throws); missing
// ids / ratio mark the row skipped.
void read_row(const CsvReader& r, const InteractionColumns& c, RawRow& row) {
  row.skip = false;
  const auto u = r.as_int(c.user);
  const auto v = r.as_int(c.video);
  auto ratio = r.as_double(c.ratio);
  const auto play = r.as_double(c.play);
  const auto vdur = r.as_double(c.vdur);
  const auto ts = r.as_double(c.ts);
  const auto date = r.as_int(c.date);
  row.missing = !u + !v + !ratio + !play + !vdur + !ts + !date + r.is_missing(c.time);
  if (date && (*date < 0 || *date > std::numeric_limits<std::int32_t>::max())) {
    throw r.error("column 'date': " + std::to_string(*date) + " is not a yyyymmdd date",
                  "fix or remove this row");
  }
  row.play = play ? *play : kNaN;
  row.vdur = vdur ? *vdur : kNaN;
  row.ts = ts ? *ts : kNaN;
  row.date = date ? *date : -1;
  if (!ratio && play && vdur && *vdur > 0) ratio = *play / *vdur;
  if (!u || !v || !ratio) {
    row.skip = true;
    return;
  }
  if (*u < 0 || *v < 0) {
    throw r.error("negative user_id/video_id", "ids must be non-negative integers");
  }
  // An infinite ratio would be clipped to a bound (or poison the table) without a trace.
  if (!std::isfinite(*ratio)) {
    throw r.error(r.is_missing(c.ratio)
                      ? "watch_ratio is missing and play_duration / video_duration is not finite"
                      : "column 'watch_ratio': '" + std::string(r.field(c.ratio).substr(0, 40)) +
                            "' is not a finite number",
                  "fix or remove this row");
  }
  row.user = *u;
  row.video = *v;
  row.ratio = *ratio;
}

double clip(double x, const std::optional<double>& clip) {
  if (!clip) return x;
  return std::clamp(x, 0.0, *clip);
}

void add_count_warnings(LoadSummary& s) {
  const std::string name = fs::path(s.file).filename().string();
  if (s.max_video_id >= kV1MaxVideoId) {
    s.warnings.push_back("max video_id is " + std::to_string(s.max_video_id) +
                         ": this looks like a KuaiRec v1 copy, whose video ids are shifted (v2 "
                         "removed id 1225); use KuaiRec v2");
  }
  auto official = official_kuairec_counts(name);
  if (!official) return;
  std::string diff;
  if (s.rows != official->rows) {
    diff += "rows " + thousands(s.rows) + " vs " + thousands(official->rows);
  }
  if (official->users && s.users != official->users) {
    diff += (diff.empty() ? "" : ", ") + std::string("users ") + thousands(s.users) + " vs " +
            thousands(official->users);
  }
  if (official->items && s.items != official->items) {
    diff += (diff.empty() ? "" : ", ") + std::string("items ") + thousands(s.items) + " vs " +
            thousands(official->items);
  }
  if (!diff.empty()) {
    s.warnings.push_back("counts differ from the official KuaiRec v2 " + name + " (" + diff +
                         "): the file may be incomplete, filtered or another version");
  }
}

// "[8]", "[27, 9]" or "[]" in column `col`; DataError otherwise.
void parse_list_field(const CsvReader& r, std::size_t col, std::vector<std::int32_t>& out) {
  if (!parse_id_list_literal(r.field(col), out)) {
    std::string shown(r.field(col).substr(0, 40));
    throw r.error("column '" + r.header()[col] + "': '" + shown + "' is not a list like [1, 2]",
                  "fix or remove this row");
  }
}

}  // namespace

// ---- Locating -----------------------------------------------------------------------------------

fs::path locate_kuairec_dir(const fs::path& root, std::string_view required_file) {
  const fs::path candidates[] = {root, root / "data", root / "KuaiRec" / "data",
                                 root / "KuaiRec 2.0" / "data"};
  std::error_code ec;
  for (const fs::path& dir : candidates) {
    if (!required_file.empty()) {
      if (fs::is_regular_file(dir / required_file, ec)) return dir;
      continue;
    }
    for (const char* f : kKnownFiles) {
      if (fs::is_regular_file(dir / f, ec)) return dir;
    }
  }
  std::string tried;
  for (const fs::path& dir : candidates) tried += (tried.empty() ? "" : ", ") + dir.string();
  const std::string what =
      required_file.empty() ? std::string("KuaiRec CSV files") : std::string(required_file);
  throw DataError(root.string(), "no " + what + " found (tried " + tried + ")",
                  "point the data directory at the unpacked KuaiRec 2.0 folder");
}

fs::path kuairec_file(const fs::path& root, std::string_view file) {
  return locate_kuairec_dir(root, file) / file;
}

// ---- Summaries ----------------------------------------------------------------------------------

std::optional<OfficialCounts> official_kuairec_counts(std::string_view name) {
  if (name == "small_matrix.csv") return OfficialCounts{4676570, 1411, 3327};
  if (name == "big_matrix.csv") return OfficialCounts{12530806, 7176, 10728};
  if (name == "user_features.csv") return OfficialCounts{7176, 0, 0};
  if (name == "item_categories.csv") return OfficialCounts{10728, 0, 0};
  if (name == "item_daily_features.csv") return OfficialCounts{343341, 0, 0};
  if (name == "social_network.csv") return OfficialCounts{472, 0, 0};
  return std::nullopt;
}

std::string LoadSummary::report() const {
  std::string s = file + ": " + thousands(rows) + " rows read, " + thousands(skipped_rows) +
                  " skipped, " + thousands(kept_rows) + " kept";
  if (users || items) {
    s += "; " + thousands(users) + " users x " + thousands(items) + " items";
  }
  s += "; " + thousands(duplicates) + " duplicate (user, video) rows; " +
       thousands(missing_values) + " missing values.";
  const std::string name = fs::path(file).filename().string();
  if (auto o = official_kuairec_counts(name)) {
    bool match = true;
    for (const std::string& w : warnings) match = match && w.rfind("counts differ", 0) != 0;
    s += match ? " Matches the official KuaiRec v2 counts (" : " Official KuaiRec v2 counts: (";
    s += thousands(o->rows) + " rows";
    if (o->users) s += ", " + thousands(o->users) + " users x " + thousands(o->items) + " items";
    s += ").";
  }
  for (const std::string& w : warnings) s += " WARNING: " + w + ".";
  return s;
}

// ---- Duplicate policies -------------------------------------------------------------------------

DuplicatePolicy parse_duplicate_policy(std::string_view name) {
  if (name == "keep_all") return DuplicatePolicy::kKeepAll;
  if (name == "first") return DuplicatePolicy::kFirst;
  if (name == "last") return DuplicatePolicy::kLast;
  if (name == "mean") return DuplicatePolicy::kMean;
  if (name == "max") return DuplicatePolicy::kMax;
  throw DataError("duplicate policy", "unknown policy '" + std::string(name) + "'",
                  "use keep_all, first, last, mean or max");
}

std::string_view duplicate_policy_name(DuplicatePolicy p) {
  switch (p) {
    case DuplicatePolicy::kKeepAll:
      return "keep_all";
    case DuplicatePolicy::kFirst:
      return "first";
    case DuplicatePolicy::kLast:
      return "last";
    case DuplicatePolicy::kMean:
      return "mean";
    case DuplicatePolicy::kMax:
      return "max";
  }
  return "?";
}

// ---- Interactions -------------------------------------------------------------------------------

Interactions load_kuairec_interactions(const fs::path& csv, const InteractionOptions& opt) {
  CsvReader r(csv);
  const InteractionColumns c(r);
  Interactions out;
  LoadSummary& s = out.summary;
  s.file = r.path();
  const bool details = opt.keep_details;
  RawRow row;
  while (r.next()) {
    read_row(r, c, row);
    s.missing_values += row.missing;
    if (row.skip) {
      ++s.skipped_rows;
      continue;
    }
    out.user.push_back(out.users.intern(row.user));
    out.item.push_back(out.items.intern(row.video));
    s.max_video_id = std::max(s.max_video_id, row.video);
    out.watch_ratio.push_back(clip(row.ratio, opt.clip));
    if (details) {
      out.play_duration.push_back(row.play);
      out.video_duration.push_back(row.vdur);
      out.timestamp.push_back(row.ts);
      out.date.push_back(static_cast<std::int32_t>(row.date));
    }
  }
  s.rows = r.records();

  // Group rows by (user, item): a stable sort keeps file order inside each group.
  const std::size_t n = out.user.size();
  const auto n_items = static_cast<std::int64_t>(out.items.size());
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  auto key = [&](std::uint32_t i) {
    return static_cast<std::int64_t>(out.user[i]) * n_items + out.item[i];
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return key(a) < key(b); });
  std::vector<std::int64_t> chosen;  // per first row of a group: row to emit, or -1
  std::vector<double> value;
  if (opt.duplicates != DuplicatePolicy::kKeepAll) {
    chosen.assign(n, -1);
    value.assign(n, 0);
  }
  for (std::size_t g = 0; g < n;) {
    std::size_t e = g + 1;
    while (e < n && key(order[e]) == key(order[g])) ++e;
    s.duplicates += static_cast<std::int64_t>(e - g - 1);
    if (!chosen.empty()) {
      const std::uint32_t first = order[g];
      std::uint32_t pick = first;
      double v = out.watch_ratio[first];
      switch (opt.duplicates) {
        case DuplicatePolicy::kFirst:
        case DuplicatePolicy::kKeepAll:
          break;
        case DuplicatePolicy::kLast:
          pick = order[e - 1];
          v = out.watch_ratio[pick];
          break;
        case DuplicatePolicy::kMean: {
          double sum = 0;
          for (std::size_t k = g; k < e; ++k) sum += out.watch_ratio[order[k]];
          v = sum / static_cast<double>(e - g);
          break;
        }
        case DuplicatePolicy::kMax:
          for (std::size_t k = g + 1; k < e; ++k) {
            if (out.watch_ratio[order[k]] > v) {
              pick = order[k];
              v = out.watch_ratio[pick];
            }
          }
          break;
      }
      chosen[first] = pick;
      value[first] = v;
    }
    g = e;
  }
  order.clear();
  order.shrink_to_fit();

  if (!chosen.empty() && s.duplicates > 0) {
    std::size_t w = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (chosen[i] < 0) continue;
      const auto p = static_cast<std::size_t>(chosen[i]);
      out.user[w] = out.user[i];
      out.item[w] = out.item[i];
      out.watch_ratio[w] = value[i];
      if (details) {
        // p >= i for the policies that pick a later row, so p has not been overwritten yet.
        out.play_duration[w] = out.play_duration[p];
        out.video_duration[w] = out.video_duration[p];
        out.timestamp[w] = out.timestamp[p];
        out.date[w] = out.date[p];
      }
      ++w;
    }
    for (auto* v : {&out.watch_ratio, &out.play_duration, &out.video_duration, &out.timestamp}) {
      if (!v->empty()) v->resize(w);
    }
    out.user.resize(w);
    out.item.resize(w);
    if (details) out.date.resize(w);
  }
  if (opt.positive_threshold) {
    const double t = *opt.positive_threshold;
    out.positive.resize(out.watch_ratio.size());
    for (std::size_t i = 0; i < out.watch_ratio.size(); ++i) {
      const double x = out.watch_ratio[i];
      out.positive[i] = opt.positive_strict ? x > t : x >= t;
    }
  }
  s.kept_rows = out.size();
  s.users = out.users.size();
  s.items = out.items.size();
  add_count_warnings(s);
  return out;
}

std::int64_t count_overlapping_pairs(const Interactions& a, const Interactions& b) {
  std::unordered_set<std::uint64_t> pairs;
  auto pack = [](std::int64_t u, std::int64_t v) {
    return (static_cast<std::uint64_t>(u) << 32) ^ static_cast<std::uint64_t>(v);
  };
  pairs.reserve(static_cast<std::size_t>(a.size()));
  for (std::int64_t i = 0; i < a.size(); ++i) {
    pairs.insert(pack(a.users.id(a.user[i]), a.items.id(a.item[i])));
  }
  std::unordered_set<std::uint64_t> seen;
  for (std::int64_t i = 0; i < b.size(); ++i) {
    const std::uint64_t k = pack(b.users.id(b.user[i]), b.items.id(b.item[i]));
    if (pairs.count(k)) seen.insert(k);
  }
  return static_cast<std::int64_t>(seen.size());
}

// ---- Dense table --------------------------------------------------------------------------------

template <class T>
DenseTable<T> load_kuairec_dense(const fs::path& csv, const DenseOptions& opt) {
  if (opt.duplicates == DuplicatePolicy::kKeepAll) {
    throw DataError(csv.string(), "duplicate policy keep_all cannot fill a dense table",
                    "use first, last, mean or max");
  }
  DenseTable<T> out;
  LoadSummary& s = out.summary;
  RawRow row;
  {  // Pass 1: ids in order of first appearance.
    CsvReader r(csv);
    const InteractionColumns c(r);
    s.file = r.path();
    while (r.next()) {
      read_row(r, c, row);
      s.missing_values += row.missing;
      if (row.skip) {
        ++s.skipped_rows;
        continue;
      }
      out.users.intern(row.user);
      out.items.intern(row.video);
      s.max_video_id = std::max(s.max_video_id, row.video);
    }
    s.rows = r.records();
  }
  const std::int64_t nu = out.users.size();
  const std::int64_t ni = out.items.size();
  // The table must be bounded by what the file holds: a few rows with many distinct ids would
  // otherwise demand a huge, almost empty table. KuaiRec's matrices are 99.6 % (small) and 16 %
  // (big) observed; below 1/64 the data is not a users × videos matrix.
  const double cells_d = static_cast<double>(nu) * static_cast<double>(ni);
  const double rows_kept = static_cast<double>(s.rows - s.skipped_rows);
  const double bytes = cells_d * (sizeof(T) + 0.125);
  if (cells_d > 64.0 * rows_kept + 4096.0) {
    throw DataError(csv.string(),
                    thousands(nu) + " distinct user_ids x " + thousands(ni) +
                        " distinct video_ids from " + thousands(static_cast<std::int64_t>(rows_kept)) +
                        " rows would be a dense table of " + thousands(static_cast<std::int64_t>(cells_d)) +
                        " cells (" + format_g(bytes / 1e9) + " GB), under 1/64 observed",
                    "a KuaiRec matrix has each user rate many videos; check the id columns");
  }
  if (opt.max_bytes && bytes > *opt.max_bytes) {
    throw DataError(csv.string(),
                    "the dense table of " + thousands(nu) + " users x " + thousands(ni) +
                        " videos needs " + format_g(bytes / 1e9) + " GB of memory, but " +
                        format_g(*opt.max_bytes / 1e9) + " GB are available",
                    "use a machine with more memory or a smaller matrix (small_matrix.csv)");
  }
  out.values = DenseMatrix<T>(nu, ni, T{0});
  const auto cells = static_cast<std::size_t>(nu * ni);
  std::vector<std::uint64_t> seen((cells + 63) / 64, 0);
  std::vector<std::uint32_t> count;  // only once a duplicate appears under kMean
  {                                  // Pass 2: values.
    CsvReader r(csv);
    const InteractionColumns c(r);
    while (r.next()) {
      read_row(r, c, row);
      if (row.skip) continue;
      const auto ui = out.users.find(row.user);
      const auto vi = out.items.find(row.video);
      if (!ui || !vi) {
        throw r.error("the file changed while it was being read", "load it again");
      }
      const std::size_t cell = static_cast<std::size_t>(*ui) * static_cast<std::size_t>(ni) +
                               static_cast<std::size_t>(*vi);
      const double x = clip(row.ratio, opt.clip);
      T& slot = out.values.values[cell];
      std::uint64_t& word = seen[cell / 64];
      const std::uint64_t bit = std::uint64_t{1} << (cell % 64);
      if (!(word & bit)) {
        word |= bit;
        slot = static_cast<T>(x);
        ++out.observed_cells;
        continue;
      }
      ++s.duplicates;
      switch (opt.duplicates) {
        case DuplicatePolicy::kFirst:
        case DuplicatePolicy::kKeepAll:
          break;
        case DuplicatePolicy::kLast:
          slot = static_cast<T>(x);
          break;
        case DuplicatePolicy::kMax:
          if (x > static_cast<double>(slot)) slot = static_cast<T>(x);
          break;
        case DuplicatePolicy::kMean: {
          if (count.empty()) {
            count.assign(cells, 0);
            for (std::size_t k = 0; k < cells; ++k) count[k] = (seen[k / 64] >> (k % 64)) & 1;
          }
          const std::uint32_t k = ++count[cell];
          slot = static_cast<T>(static_cast<double>(slot) +
                                (x - static_cast<double>(slot)) / static_cast<double>(k));
          break;
        }
      }
    }
  }
  s.kept_rows = out.observed_cells;
  s.users = nu;
  s.items = ni;
  add_count_warnings(s);
  return out;
}

template DenseTable<float> load_kuairec_dense<float>(const fs::path&, const DenseOptions&);
template DenseTable<double> load_kuairec_dense<double>(const fs::path&, const DenseOptions&);

// ---- Side tables --------------------------------------------------------------------------------

bool parse_id_list_literal(std::string_view t, std::vector<std::int32_t>& out) {
  out.clear();
  auto skip = [&] {
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  };
  skip();
  if (t.empty() || t.front() != '[') return false;
  t.remove_prefix(1);
  skip();
  if (!t.empty() && t.front() == ']') {
    t.remove_prefix(1);
    skip();
    return t.empty();
  }
  for (;;) {
    skip();
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || ptr == t.data() || v < 0 ||
        v > std::numeric_limits<std::int32_t>::max()) {
      return false;
    }
    t.remove_prefix(static_cast<std::size_t>(ptr - t.data()));
    out.push_back(static_cast<std::int32_t>(v));
    skip();
    if (t.empty()) return false;
    if (t.front() == ',') {
      t.remove_prefix(1);
      continue;
    }
    if (t.front() != ']') return false;
    t.remove_prefix(1);
    skip();
    return t.empty();
  }
}

std::optional<std::size_t> UserFeatures::numeric_column(std::string_view name) const {
  for (std::size_t i = 0; i < numeric_names.size(); ++i) {
    if (numeric_names[i] == name) return i;
  }
  return std::nullopt;
}

UserFeatures load_kuairec_user_features(const fs::path& csv) {
  CsvReader r(csv);
  UserFeatures out;
  out.summary.file = r.path();
  const std::size_t uid = r.column("user_id");
  const std::size_t degree = r.column("user_active_degree");
  out.numeric_names = {"is_lowactive_period", "is_live_streamer", "is_video_author",
                       "follow_user_num",     "fans_user_num",    "friend_user_num",
                       "register_days"};
  for (int k = 0; k <= 17; ++k) out.numeric_names.push_back("onehot_feat" + std::to_string(k));
  out.range_names = {"follow_user_num_range", "fans_user_num_range", "friend_user_num_range",
                     "register_days_range"};
  std::vector<std::size_t> num_cols;
  std::vector<std::size_t> range_cols;
  for (const std::string& n : out.numeric_names) num_cols.push_back(r.column(n));
  for (const std::string& n : out.range_names) range_cols.push_back(r.column(n));
  out.ranges.resize(range_cols.size());
  std::vector<double> values;
  while (r.next()) {
    out.user_id.push_back(r.required_int(uid));
    out.active_degree.emplace_back(r.field(degree));
    out.summary.missing_values += r.is_missing(degree);
    for (std::size_t c : num_cols) {
      auto v = r.as_double(c);
      out.summary.missing_values += !v;
      values.push_back(v ? *v : kNaN);
    }
    for (std::size_t k = 0; k < range_cols.size(); ++k) {
      out.ranges[k].emplace_back(r.field(range_cols[k]));
      out.summary.missing_values += r.is_missing(range_cols[k]);
    }
  }
  out.numeric.rows = static_cast<std::int64_t>(out.user_id.size());
  out.numeric.cols = static_cast<std::int64_t>(num_cols.size());
  out.numeric.values = std::move(values);
  out.summary.rows = r.records();
  out.summary.kept_rows = r.records();
  add_count_warnings(out.summary);
  return out;
}

ItemCategories load_kuairec_item_categories(const fs::path& csv) {
  CsvReader r(csv);
  ItemCategories out;
  out.summary.file = r.path();
  const std::size_t vid = r.column("video_id");
  const std::size_t feat = r.column("feat");
  std::vector<std::int32_t> tags;
  while (r.next()) {
    out.video_id.push_back(r.required_int(vid));
    parse_list_field(r, feat, tags);
    for (std::int32_t t : tags) {
      if (t > 30) {
        throw r.error("column 'feat': tag id " + std::to_string(t) + " is outside 0..30",
                      "KuaiRec tag ids are 0..30; fix or remove this row");
      }
    }
    out.tags.push_back(tags);
  }
  out.summary.rows = r.records();
  out.summary.kept_rows = r.records();
  add_count_warnings(out.summary);
  return out;
}

SocialNetwork load_kuairec_social_network(const fs::path& csv) {
  CsvReader r(csv);
  SocialNetwork out;
  out.summary.file = r.path();
  const std::size_t uid = r.column("user_id");
  const std::size_t fl = r.column("friend_list");
  std::vector<std::int32_t> friends;
  while (r.next()) {
    out.user_id.push_back(r.required_int(uid));
    parse_list_field(r, fl, friends);
    out.friends.push_back(friends);
  }
  out.summary.rows = r.records();
  out.summary.kept_rows = r.records();
  add_count_warnings(out.summary);
  return out;
}

std::optional<std::size_t> ItemDailyFeatures::numeric_column(std::string_view name) const {
  for (std::size_t i = 0; i < numeric_names.size(); ++i) {
    if (numeric_names[i] == name) return i;
  }
  return std::nullopt;
}

ItemDailyFeatures load_kuairec_item_daily_features(const fs::path& csv,
                                               const std::vector<std::string>& numeric_columns) {
  CsvReader r(csv);
  ItemDailyFeatures out;
  LoadSummary& s = out.summary;
  s.file = r.path();
  const std::size_t vid = r.column("video_id");
  const std::size_t date = r.column("date");
  const std::size_t author = r.column("author_id");
  struct Col {
    std::size_t index;
    bool numeric;
    std::vector<double> num;
    std::vector<std::string> text;
  };
  std::vector<Col> cols;
  const bool automatic = numeric_columns.empty();
  if (automatic) {
    for (std::size_t i = 0; i < r.header().size(); ++i) {
      if (i != vid && i != date && i != author) cols.push_back({i, true, {}, {}});
    }
  } else {
    for (const std::string& n : numeric_columns) cols.push_back({r.column(n), true, {}, {}});
  }
  while (r.next()) {
    out.video_id.push_back(r.required_int(vid));
    const std::int64_t d = r.required_int(date);
    if (d < 0 || d > std::numeric_limits<std::int32_t>::max()) {
      throw r.error("column 'date': " + std::to_string(d) + " is not a yyyymmdd date",
                    "fix or remove this row");
    }
    out.date.push_back(static_cast<std::int32_t>(d));
    auto a = r.as_int(author);
    s.missing_values += !a;
    out.author_id.push_back(a ? *a : -1);
    for (Col& c : cols) {
      const std::string_view f = r.field(c.index);
      const bool missing = is_missing_token(f);
      s.missing_values += missing;
      if (c.numeric) {
        if (!automatic) {
          auto v = r.as_double(c.index);
          c.num.push_back(v ? *v : kNaN);
          continue;
        }
        double v = kNaN;
        const ParseStatus st = parse_double(f, v);
        if (st != ParseStatus::kBad) {
          c.num.push_back(st == ParseStatus::kOk ? v : kNaN);
          continue;
        }
        c.numeric = false;  // demote to text
        c.text.reserve(c.num.size() + 1);
        for (double x : c.num) c.text.push_back(format_g(x));
        c.num.clear();
        c.num.shrink_to_fit();
      }
      c.text.emplace_back(f);
    }
  }
  const auto rows = static_cast<std::int64_t>(out.video_id.size());
  std::size_t n_num = 0;
  for (const Col& c : cols) n_num += c.numeric;
  out.numeric = DenseMatrix<double>(rows, static_cast<std::int64_t>(n_num), 0.0);
  std::size_t j = 0;
  for (Col& c : cols) {
    const std::string& name = r.header()[c.index];
    if (c.numeric) {
      for (std::int64_t i = 0; i < rows; ++i)
        out.numeric(i, static_cast<std::int64_t>(j)) = c.num[i];
      out.numeric_names.push_back(name);
      ++j;
    } else {
      out.text_names.push_back(name);
      out.text.push_back(std::move(c.text));
    }
  }
  s.rows = r.records();
  s.kept_rows = rows;
  add_count_warnings(s);
  return out;
}

}  // namespace stagesim::data
