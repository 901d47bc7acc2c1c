#include "environments/data/kuairand.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "environments/data/csv.hpp"
#include "environments/data/data_error.hpp"

namespace stagesim::data {
namespace {

namespace fs = std::filesystem;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kUnknownMarker = -124.0;  // KuaiRand's "unknown" in some user-feature columns

std::string thousands(std::int64_t v) {
  const std::string digits = std::to_string(v);
  std::string s;
  const std::size_t start = digits[0] == '-' ? 1 : 0;
  s.append(digits, 0, start);
  for (std::size_t i = start; i < digits.size(); ++i) {
    if (i > start && (digits.size() - i) % 3 == 0) s.push_back(',');
    s.push_back(digits[i]);
  }
  return s;
}

std::string quoted(std::string_view s) {
  constexpr std::size_t kMax = 40;
  return "'" + (s.size() > kMax ? std::string(s.substr(0, kMax)) + "..." : std::string(s)) + "'";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::size_t mix(std::uint64_t z) {  // SplitMix64's finaliser: spreads keys over the table
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<std::size_t>(z ^ (z >> 31));
}

std::string_view suffix(KuaiRandRelease r) {
  return kuairand_release_name(r);
}

// A 0/1 flag; "1.0" / "0.0" accepted (pandas writes floats when a column had a missing cell).
std::uint8_t required_flag(const CsvReader& r, std::size_t col) {
  const std::int64_t v = r.required_int(col);
  if (v != 0 && v != 1) {
    throw r.error("column '" + r.header()[col] + "': " + quoted(r.field(col)) + " is not 0 or 1",
                  "KuaiRand flags are 0/1; fix or remove this row");
  }
  return static_cast<std::uint8_t>(v);
}

double optional_double(const CsvReader& r, std::size_t col, std::int64_t& missing) {
  const auto v = r.as_double(col);
  if (!v) {
    ++missing;
    return kNaN;
  }
  return *v;
}

// Index of `value` in `names`, appending it (and a warning, once) when it is new.
std::int32_t code_of(std::string_view value, std::vector<std::string>& names, std::size_t listed,
                     std::string_view column, std::vector<std::string>& warnings) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == value) return static_cast<std::int32_t>(i);
  }
  names.emplace_back(value);
  if (names.size() <= listed + 4) {  // the first few only: one line each
    warnings.push_back("column '" + std::string(column) + "' has the unlisted value " +
                       quoted(value) + " (kept as its own category)");
  }
  return static_cast<std::int32_t>(names.size() - 1);
}

}  // namespace

// ---- Files --------------------------------------------------------------------------------------

KuaiRandRelease parse_kuairand_release(std::string_view name) {
  if (name == "pure") return KuaiRandRelease::pure;
  if (name == "1k") return KuaiRandRelease::k1;
  if (name == "27k") return KuaiRandRelease::k27;
  throw DataError("KuaiRand release", "unknown release " + quoted(name), "use pure, 1k or 27k");
}

std::string_view kuairand_release_name(KuaiRandRelease r) {
  switch (r) {
    case KuaiRandRelease::pure:
      return "pure";
    case KuaiRandRelease::k1:
      return "1k";
    case KuaiRandRelease::k27:
      return "27k";
  }
  return "?";
}

std::string_view kuairand_log_name(KuaiRandLog log) {
  switch (log) {
    case KuaiRandLog::standard_early:
      return "standard_early";
    case KuaiRandLog::standard_late:
      return "standard_late";
    case KuaiRandLog::random:
      return "random";
  }
  return "?";
}

std::string kuairand_log_file(KuaiRandLog log, KuaiRandRelease release) {
  std::string stem;
  switch (log) {
    case KuaiRandLog::standard_early:
      stem = "log_standard_4_08_to_4_21_";
      break;
    case KuaiRandLog::standard_late:
      stem = "log_standard_4_22_to_5_08_";
      break;
    case KuaiRandLog::random:
      stem = "log_random_4_22_to_5_08_";
      break;
  }
  return stem + std::string(suffix(release)) + ".csv";
}

std::string kuairand_user_features_file(KuaiRandRelease release) {
  return "user_features_" + std::string(suffix(release)) + ".csv";
}

std::string kuairand_video_features_file(KuaiRandRelease release) {
  return "video_features_basic_" + std::string(suffix(release)) + ".csv";
}

namespace {
std::string part_name(std::string_view file_name, int k) {
  std::string stem(file_name);
  if (stem.size() > 4 && stem.compare(stem.size() - 4, 4, ".csv") == 0)
    stem.resize(stem.size() - 4);
  return stem + "_part" + std::to_string(k) + ".csv";
}
}  // namespace

fs::path locate_kuairand_dir(const fs::path& root, std::string_view required_file) {
  const fs::path candidates[] = {root, root / "data", root / "KuaiRand-Pure" / "data",
                                 root / "KuaiRand-1K" / "data", root / "KuaiRand-27K" / "data"};
  std::error_code ec;
  for (const fs::path& dir : candidates) {
    if (fs::is_regular_file(dir / required_file, ec) ||
        fs::is_regular_file(dir / part_name(required_file, 1), ec)) {
      return dir;
    }
  }
  std::string tried;
  for (const fs::path& dir : candidates) tried += (tried.empty() ? "" : ", ") + dir.string();
  throw DataError(
      root.string(),
      "no " + std::string(required_file) + " (nor its _part1 split) found (tried " + tried + ")",
      "point the data directory at the unpacked KuaiRand-Pure folder (see "
      "docs/datasets.md, KuaiRand)");
}

std::vector<fs::path> kuairand_log_parts(const fs::path& dir, std::string_view file_name) {
  std::error_code ec;
  const fs::path whole = dir / file_name;
  if (fs::is_regular_file(whole, ec)) return {whole};
  std::vector<fs::path> parts;
  for (int k = 1;; ++k) {
    const fs::path p = dir / part_name(file_name, k);
    if (!fs::is_regular_file(p, ec)) break;
    parts.push_back(p);
  }
  if (parts.empty()) {
    throw DataError(
        whole.string(),
        "no such file (nor " + part_name(file_name, 1) + ", " + part_name(file_name, 2) + ", ...)",
        "check the data directory and the release (pure, 1k, 27k)");
  }
  return parts;
}

// ---- Official counts ----------------------------------------------------------------------------

KuaiRandCounts kuairand_pure_standard_counts() {
  return {1436609, 27285, 7551};
}
KuaiRandCounts kuairand_pure_random_counts() {
  return {1186059, 27285, 7583};
}

std::string kuairand_count_mismatch(const KuaiRandCounts& seen, const KuaiRandCounts& official,
                                    std::string_view what) {
  std::string diff;
  auto add = [&](const char* name, std::int64_t a, std::int64_t b) {
    if (b == 0 || a == b) return;
    diff +=
        (diff.empty() ? "" : ", ") + std::string(name) + " " + thousands(a) + " vs " + thousands(b);
  };
  add("rows", seen.rows, official.rows);
  add("users", seen.users, official.users);
  add("items", seen.items, official.items);
  if (diff.empty()) return "";
  return "counts differ from the official " + std::string(what) + " (" + diff +
         "): the files may be incomplete, filtered or of another release";
}

// ---- Behaviours, dates, play rules --------------------------------------------------------------

std::string_view kuairand_behaviour_name(int b) {
  static constexpr std::string_view kNames[] = {"click",   "long_view", "like", "comment",
                                                "forward", "follow",    "hate"};
  return b >= 0 && b < kKuaiRandBehaviours ? kNames[b] : "?";
}

std::string_view kuairand_behaviour_column(int b) {
  static constexpr std::string_view kColumns[] = {
      "is_click", "long_view", "is_like", "is_comment", "is_forward", "is_follow", "is_hate"};
  return b >= 0 && b < kKuaiRandBehaviours ? kColumns[b] : "?";
}

bool kuairand_valid_play(double play, double duration) {
  if (std::isnan(play) || std::isnan(duration)) return false;
  return duration <= 7000.0 ? play >= duration : play > 7000.0;
}

bool kuairand_long_view(double play, double duration) {
  if (std::isnan(play) || std::isnan(duration)) return false;
  return duration <= 18000.0 ? play >= duration : play >= 18000.0;
}

std::optional<std::int32_t> kuairand_day_number(std::int64_t ymd) {
  if (ymd < 19000101 || ymd > 99991231) return std::nullopt;
  const auto y0 = static_cast<std::int32_t>(ymd / 10000);
  const auto m = static_cast<std::int32_t>(ymd / 100 % 100);
  const auto d = static_cast<std::int32_t>(ymd % 100);
  if (m < 1 || m > 12 || d < 1) return std::nullopt;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y0 % 4 == 0 && y0 % 100 != 0) || y0 % 400 == 0;
  if (d > kDays[m - 1] + (m == 2 && leap ? 1 : 0)) return std::nullopt;
  // Days from the civil date (proleptic Gregorian), counting years from March.
  const std::int32_t y = y0 - (m <= 2 ? 1 : 0);
  const std::int32_t era = y / 400;
  const std::int32_t yoe = y - era * 400;
  const std::int32_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

TabSemantics infer_tab_semantics(const KuaiRandLogSummary& s, double agreement,
                                 std::int64_t min_rows) {
  TabSemantics t{};
  for (int k = 0; k < kKuaiRandTabs; ++k) {
    const std::int64_t n = s.tab_timed_rows[k];
    if (n < std::max<std::int64_t>(min_rows, 1)) continue;
    const double share = static_cast<double>(s.tab_click_is_valid_play[k]) / static_cast<double>(n);
    t[k] = share >= agreement ? ClickMeaning::valid_play : ClickMeaning::click;
  }
  return t;
}

// ---- Log reader ---------------------------------------------------------------------------------

struct KuaiRandLogReader::Columns {
  std::size_t user, video, date, hourmin, time_ms, play, duration, profile_stay, comment_stay,
      profile_enter, is_rand, tab;
  std::array<std::size_t, kKuaiRandBehaviours> behaviour{};
  explicit Columns(const CsvReader& r)
      : user(r.column("user_id")),
        video(r.column("video_id")),
        date(r.column("date")),
        hourmin(r.column("hourmin")),
        time_ms(r.column("time_ms")),
        play(r.column("play_time_ms")),
        duration(r.column("duration_ms")),
        profile_stay(r.column("profile_stay_time")),
        comment_stay(r.column("comment_stay_time")),
        profile_enter(r.column("is_profile_enter")),
        is_rand(r.column("is_rand")),
        tab(r.column("tab")) {
    for (int b = 0; b < kKuaiRandBehaviours; ++b)
      behaviour[b] = r.column(kuairand_behaviour_column(b));
  }
};

KuaiRandLogReader::KuaiRandLogReader(std::vector<fs::path> parts, const KuaiRandLogOptions& options)
    : parts_(std::move(parts)), options_(options) {
  if (parts_.empty()) {
    throw DataError("KuaiRand log", "no files given", "name the log file(s) to read");
  }
  summary_.file = parts_.front().string();
  for (const fs::path& p : parts_) summary_.parts.push_back(p.string());
  open_part(0);
}

KuaiRandLogReader::~KuaiRandLogReader() = default;

bool KuaiRandLogReader::open_part(std::size_t i) {
  if (i >= parts_.size()) return false;
  part_ = i;
  reader_ = std::make_unique<CsvReader>(parts_[i]);
  cols_ = std::make_unique<Columns>(*reader_);
  return true;
}

const std::string& KuaiRandLogReader::path() const {
  return reader_->path();
}
std::int64_t KuaiRandLogReader::line() const {
  return reader_->line();
}

bool KuaiRandLogReader::next(KuaiRandLogRow& row) {
  while (!reader_->next()) {
    if (!open_part(part_ + 1)) return false;
  }
  const CsvReader& r = *reader_;
  const Columns& c = *cols_;
  KuaiRandLogSummary& s = summary_;
  row.user_id = r.required_int(c.user);
  row.video_id = r.required_int(c.video);
  if (row.user_id < 0 || row.video_id < 0) {
    throw r.error("negative user_id/video_id", "ids must be non-negative integers");
  }
  const std::int64_t date = r.required_int(c.date);
  const auto day = kuairand_day_number(date);
  if (!day) {
    throw r.error("column 'date': " + quoted(r.field(c.date)) + " is not a yyyymmdd date",
                  "fix or remove this row");
  }
  row.date = static_cast<std::int32_t>(date);
  row.day = *day;
  const std::int64_t hm = r.required_int(c.hourmin);
  if (hm < 0 || hm / 100 > 23 || hm % 100 > 59) {
    throw r.error("column 'hourmin': " + quoted(r.field(c.hourmin)) + " is not a time HHMM",
                  "fix or remove this row");
  }
  row.hourmin = static_cast<std::int32_t>(hm);
  row.time_ms = r.required_int(c.time_ms);
  for (int b = 0; b < kKuaiRandBehaviours; ++b) row.behaviour[b] = required_flag(r, c.behaviour[b]);
  row.play_time_ms = optional_double(r, c.play, s.missing_values);
  row.duration_ms = optional_double(r, c.duration, s.missing_values);
  row.profile_stay_time = optional_double(r, c.profile_stay, s.missing_values);
  row.comment_stay_time = optional_double(r, c.comment_stay, s.missing_values);
  if (row.play_time_ms < 0 || row.duration_ms < 0) {
    throw r.error("negative play_time_ms/duration_ms",
                  "times are milliseconds >= 0; fix or "
                  "remove this row");
  }
  row.is_profile_enter = required_flag(r, c.profile_enter);
  row.is_rand = required_flag(r, c.is_rand);
  const std::int64_t tab = r.required_int(c.tab);
  if (tab < 0 || tab >= kKuaiRandTabs) {
    throw r.error("column 'tab': " + std::to_string(tab) + " is outside 0..14",
                  "KuaiRand's tab (the app scenario) is in 0..14; fix or remove this row");
  }
  row.tab = static_cast<std::int32_t>(tab);

  ++s.rows;
  if (s.first_date == 0 || row.date < s.first_date) s.first_date = row.date;
  if (row.date > s.last_date) s.last_date = row.date;
  ++s.tab_rows[tab];
  if (!std::isnan(row.play_time_ms) && !std::isnan(row.duration_ms)) {
    ++s.tab_timed_rows[tab];
    s.tab_click_is_valid_play[tab] +=
        row.is_click() == (kuairand_valid_play(row.play_time_ms, row.duration_ms) ? 1 : 0);
  }
  for (int b = 0; b < kKuaiRandBehaviours; ++b) s.positives[b] += row.behaviour[b];
  if (options_.count_distinct) {
    const auto u = static_cast<std::uint64_t>(users_.intern(row.user_id));
    const auto v = static_cast<std::uint64_t>(items_.intern(row.video_id));
    s.users = users_.size();
    s.items = items_.size();
    // Open addressing on (u + 1) << 32 | v (never 0); grown at half load.
    if (2 * (pair_count_ + 1) > pairs_.size()) {
      std::vector<std::uint64_t> old(std::max<std::size_t>(1024, 2 * pairs_.size()), 0);
      old.swap(pairs_);
      for (std::uint64_t k : old) {
        if (k == 0) continue;
        std::size_t i = mix(k) & (pairs_.size() - 1);
        while (pairs_[i] != 0) i = (i + 1) & (pairs_.size() - 1);
        pairs_[i] = k;
      }
    }
    const std::uint64_t key = ((u + 1) << 32) | v;
    std::size_t i = mix(key) & (pairs_.size() - 1);
    while (pairs_[i] != 0 && pairs_[i] != key) i = (i + 1) & (pairs_.size() - 1);
    if (pairs_[i] == key) {
      ++s.duplicates;
    } else {
      pairs_[i] = key;
      ++pair_count_;
    }
  }
  return true;
}

std::string KuaiRandLogSummary::report() const {
  std::string s = file;
  if (parts.size() > 1) s += " (+" + std::to_string(parts.size() - 1) + " more part(s))";
  s += ": " + thousands(rows) + " rows";
  if (users || items) s += ", " + thousands(users) + " users x " + thousands(items) + " videos";
  s += ", dates " + std::to_string(first_date) + ".." + std::to_string(last_date) + "; " +
       thousands(missing_values) + " missing values, " + thousands(duplicates) +
       " duplicate (user, video) rows, 0 skipped; tabs (rows, is_click = valid play):";
  for (int k = 0; k < kKuaiRandTabs; ++k) {
    if (tab_rows[k] == 0) continue;
    char buf[64];
    const double agree = tab_timed_rows[k] ? static_cast<double>(tab_click_is_valid_play[k]) /
                                                 static_cast<double>(tab_timed_rows[k])
                                           : kNaN;
    std::snprintf(buf, sizeof buf, " %d: %s, %.1f %%;", k, thousands(tab_rows[k]).c_str(),
                  100.0 * agree);
    s += buf;
  }
  s += " positives:";
  for (int b = 0; b < kKuaiRandBehaviours; ++b) {
    s += " " + std::string(kuairand_behaviour_name(b)) + " " + thousands(positives[b]);
  }
  s += ".";
  for (const std::string& w : warnings) s += " WARNING: " + w + ".";
  return s;
}

// ---- User features ------------------------------------------------------------------------------

const std::vector<std::string>& kuairand_active_degrees() {
  static const std::vector<std::string> kDegrees = {
      "high_active",       "full_active",  "middle_active",   "UNKNOWN", "low_active",
      "single_low_active", "2_14_day_new", "30day_retention", "day_new"};
  return kDegrees;
}

std::optional<std::size_t> KuaiRandUserFeatures::numeric_column(std::string_view name) const {
  for (std::size_t i = 0; i < numeric_names.size(); ++i) {
    if (numeric_names[i] == name) return i;
  }
  return std::nullopt;
}

std::optional<std::size_t> KuaiRandUserFeatures::row_of(std::int64_t id) const {
  if (auto i = index.find(id)) return static_cast<std::size_t>(*i);
  return std::nullopt;
}

std::string KuaiRandUserFeatures::report() const {
  std::string s = file + ": " + thousands(rows) + " users; " +
                  std::to_string(active_degree_names.size()) + " user_active_degree values; " +
                  thousands(missing_values) + " empty cells, " + thousands(unknown_markers) +
                  " cells of -124 (unknown).";
  for (const std::string& w : warnings) s += " WARNING: " + w + ".";
  return s;
}

KuaiRandUserFeatures load_kuairand_user_features(const fs::path& csv) {
  CsvReader r(csv);
  KuaiRandUserFeatures out;
  out.file = r.path();
  const std::size_t uid = r.column("user_id");
  const std::size_t degree = r.column("user_active_degree");
  out.numeric_names = {"is_lowactive_period", "is_live_streamer", "is_video_author",
                       "follow_user_num",     "fans_user_num",    "friend_user_num",
                       "register_days"};
  for (int k = 0; k <= 17; ++k) out.numeric_names.push_back("onehot_feat" + std::to_string(k));
  out.range_names = {"follow_user_num_range", "fans_user_num_range", "friend_user_num_range",
                     "register_days_range"};
  out.range_values = {
      {"0", "(0,10]", "(10,50]", "(50,100]", "(100,150]", "(150,250]", "(250,500]", "500+"},
      {"0", "[1,10)", "[10,100)", "[100,1k)", "[1k,5k)", "[5k,1w)", "[1w,10w)"},
      {"0", "[1,5)", "[5,30)", "[30,60)", "[60,120)", "[120,250)", "250+"},
      {"15-30", "31-60", "61-90", "91-180", "181-365", "366-730", "730+"}};
  std::vector<std::size_t> listed;
  for (const auto& v : out.range_values) listed.push_back(v.size());
  out.active_degree_names = kuairand_active_degrees();
  const std::size_t listed_degrees = out.active_degree_names.size();
  std::vector<std::size_t> num_cols, range_cols;
  for (const std::string& n : out.numeric_names) num_cols.push_back(r.column(n));
  for (const std::string& n : out.range_names) range_cols.push_back(r.column(n));
  out.ranges.resize(range_cols.size());
  std::vector<double> values;
  while (r.next()) {
    const std::int64_t id = r.required_int(uid);
    if (id < 0) throw r.error("negative user_id", "ids must be non-negative integers");
    if (out.index.find(id)) {
      throw r.error("user_id " + std::to_string(id) + " appears a second time",
                    "user_features has one row per user; remove the repeated row");
    }
    out.index.intern(id);
    out.user_id.push_back(id);
    const std::string_view deg = trim(r.field(degree));
    if (is_missing_token(deg)) {
      ++out.missing_values;
      out.active_degree.push_back(-1);
    } else {
      out.active_degree.push_back(code_of(deg, out.active_degree_names, listed_degrees,
                                          "user_active_degree", out.warnings));
    }
    for (std::size_t c : num_cols) {
      double v = optional_double(r, c, out.missing_values);
      if (v == kUnknownMarker) {
        ++out.unknown_markers;
        v = kNaN;
      }
      values.push_back(v);
    }
    for (std::size_t k = 0; k < range_cols.size(); ++k) {
      const std::string_view f = trim(r.field(range_cols[k]));
      if (is_missing_token(f)) {
        ++out.missing_values;
        out.ranges[k].push_back(-1);
        continue;
      }
      out.ranges[k].push_back(
          code_of(f, out.range_values[k], listed[k], out.range_names[k], out.warnings));
    }
  }
  out.rows = r.records();
  out.numeric.rows = out.rows;
  out.numeric.cols = static_cast<std::int64_t>(num_cols.size());
  out.numeric.values = std::move(values);
  return out;
}

// ---- Video features -----------------------------------------------------------------------------

bool parse_kuairand_tag_list(std::string_view text, std::vector<std::int32_t>& out) {
  out.clear();
  text = trim(text);
  if (text.empty()) return true;
  for (;;) {
    const std::size_t comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size() || v < 0 ||
        v > std::numeric_limits<std::int32_t>::max()) {
      return false;
    }
    out.push_back(static_cast<std::int32_t>(v));
    if (comma == std::string_view::npos) return true;
    text.remove_prefix(comma + 1);
  }
}

std::int32_t KuaiRandVideoFeatures::first_tag(std::size_t row) const {
  const auto t = tags[static_cast<std::int64_t>(row)];
  return t.empty() ? -1 : t.front();
}

std::optional<std::size_t> KuaiRandVideoFeatures::row_of(std::int64_t id) const {
  if (auto i = index.find(id)) return static_cast<std::size_t>(*i);
  return std::nullopt;
}

std::string KuaiRandVideoFeatures::report() const {
  std::int64_t untagged = 0;
  for (std::int64_t i = 0; i < tags.size(); ++i) untagged += tags[i].empty();
  std::string s = file + ": " + thousands(rows) + " videos; " + thousands(missing_values) +
                  " empty cells; " + thousands(untagged) + " videos without a tag.";
  for (const std::string& w : warnings) s += " WARNING: " + w + ".";
  return s;
}

KuaiRandVideoFeatures load_kuairand_video_features(const fs::path& csv) {
  CsvReader r(csv);
  KuaiRandVideoFeatures out;
  out.file = r.path();
  const std::size_t vid = r.column("video_id"), author = r.column("author_id"),
                    type = r.column("video_type"), upload_dt = r.column("upload_dt"),
                    upload_type = r.column("upload_type"), visible = r.column("visible_status"),
                    duration = r.column("video_duration"), width = r.column("server_width"),
                    height = r.column("server_height"), music = r.column("music_id"),
                    music_type = r.column("music_type"), tag = r.column("tag");
  std::vector<std::int32_t> tags;
  auto text = [&](std::size_t col, std::vector<std::string>& dst) {
    const std::string_view f = r.field(col);
    if (is_missing_token(f)) {
      ++out.missing_values;
      dst.emplace_back();
    } else {
      dst.emplace_back(f);
    }
  };
  auto int_or = [&](std::size_t col, std::int64_t fallback) {
    const auto v = r.as_int(col);
    if (!v) ++out.missing_values;
    return v ? *v : fallback;
  };
  while (r.next()) {
    const std::int64_t id = r.required_int(vid);
    if (id < 0) throw r.error("negative video_id", "ids must be non-negative integers");
    if (out.index.find(id)) {
      throw r.error("video_id " + std::to_string(id) + " appears a second time",
                    "video_features_basic has one row per video; remove the repeated row");
    }
    out.index.intern(id);
    out.video_id.push_back(id);
    out.author_id.push_back(int_or(author, -1));
    text(type, out.video_type);
    text(upload_dt, out.upload_dt);
    text(upload_type, out.upload_type);
    text(visible, out.visible_status);
    out.video_duration.push_back(optional_double(r, duration, out.missing_values));
    if (out.video_duration.back() < 0) {
      throw r.error("column 'video_duration': " + quoted(r.field(duration)) + " is negative",
                    "durations are milliseconds >= 0; fix or remove this row");
    }
    out.server_width.push_back(optional_double(r, width, out.missing_values));
    out.server_height.push_back(optional_double(r, height, out.missing_values));
    out.music_id.push_back(int_or(music, -1));
    const std::int64_t mt = int_or(music_type, -1);
    if (mt < -1 || mt > std::numeric_limits<std::int32_t>::max()) {
      throw r.error("column 'music_type': " + quoted(r.field(music_type)) + " is out of range",
                    "music_type is a small non-negative integer; fix or remove this row");
    }
    out.music_type.push_back(static_cast<std::int32_t>(mt));
    if (is_missing_token(r.field(tag))) ++out.missing_values;
    if (!is_missing_token(r.field(tag)) && !parse_kuairand_tag_list(r.field(tag), tags)) {
      throw r.error("column 'tag': " + quoted(r.field(tag)) +
                        " is not a comma list of tag ids like \"12,65\"",
                    "fix or remove this row");
    }
    if (is_missing_token(r.field(tag))) tags.clear();
    out.tags.push_back(tags);
  }
  out.rows = r.records();
  return out;
}

}  // namespace stagesim::data
