#pragma once
// kuai_rand (Gao et al., CIKM 2022) readers: the interaction logs (streamed row by row; the 27K
// release's `_part1`/`_part2` splits read as one file), user_features and video_features_basic.
// Written for KuaiRand-pure (the release the calibration uses); the 1K and 27K files have the
// same columns and load with the same functions. See docs/datasets.md "KuaiRand".
//
// Quirks handled (all present in the fixtures under tests/fixtures/kuairand):
//   - user_active_degree has nine values in the file (the README lists four);
//   - -124 marks "unknown" in some 0/1 columns of user_features (read as missing, counted);
//   - empty onehot_feat* cells and 0/1 flags written as floats ("1.0");
//   - range columns quoted by pandas ("(0,10]", "[1,10)"), tag a quoted comma list ("12,65");
//   - integer columns with missing cells written as floats by pandas ("17200.0", "4.0");
//   - is_click means "valid play" in the single-column UI and a click in the two-column one,
//     told apart only by `tab` (see tab_semantics below).
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "environments/data/dense_matrix.hpp"
#include "environments/data/id_map.hpp"
#include "environments/data/sparse.hpp"

namespace stagesim::data {

class CsvReader;

// ---- Files --------------------------------------------------------------------------------------

enum class KuaiRandRelease { pure, k1, k27 };
// "pure" | "1k" | "27k"; DataError otherwise.
KuaiRandRelease parse_kuairand_release(std::string_view name);
std::string_view kuairand_release_name(KuaiRandRelease r);  // "pure", "1k", "27k"

enum class KuaiRandLog {
  standard_early,  // log_standard_4_08_to_4_21_*  (the same users' previous two weeks)
  standard_late,   // log_standard_4_22_to_5_08_*
  random,          // log_random_4_22_to_5_08_*    (randomly exposed videos)
};
std::string_view kuairand_log_name(KuaiRandLog log);  // "standard_early", ...

// "log_standard_4_08_to_4_21_pure.csv", "user_features_27k.csv", ...
std::string kuairand_log_file(KuaiRandLog log, KuaiRandRelease release);
std::string kuairand_user_features_file(KuaiRandRelease release);
std::string kuairand_video_features_file(KuaiRandRelease release);

// The directory holding the KuaiRand CSVs: `root` itself, or root/data, root/KuaiRand-Pure/data,
// root/KuaiRand-1K/data, root/KuaiRand-27K/data — the first holding `required_file` (or its
// `_part1` split). DataError listing every place tried otherwise.
std::filesystem::path locate_kuairand_dir(const std::filesystem::path& root,
                                          std::string_view required_file);

// The file(s) of one log: [dir/name] when it exists, else dir/stem_part1.csv, _part2, ... (every
// consecutive part that exists). DataError naming both spellings when neither exists.
std::vector<std::filesystem::path> kuairand_log_parts(const std::filesystem::path& dir,
                                                      std::string_view file_name);

// ---- Official counts ----------------------------------------------------------------------------

struct KuaiRandCounts {
  std::int64_t rows = 0;
  std::int64_t users = 0;  // 0 = not known / not applicable
  std::int64_t items = 0;
};
// KuaiRand-pure (README table): the two standard logs together 1,436,609 rows, 27,285 users,
// 7,551 videos; the random log 1,186,059 rows, 27,285 users, 7,583 videos; user_features 27,285.
KuaiRandCounts kuairand_pure_standard_counts();
KuaiRandCounts kuairand_pure_random_counts();
constexpr std::int64_t kKuaiRandPureUsers = 27285;
// "counts differ from the official WHAT (rows A vs B, ...): ..." when they differ, else "".
std::string kuairand_count_mismatch(const KuaiRandCounts& seen, const KuaiRandCounts& official,
                                    std::string_view what);

// ---- Logs ---------------------------------------------------------------------------------------

// The seven behaviours KuaiSim rewards, in this order everywhere (outputs, fits, reward weights).
enum class KuaiRandBehaviour {
  click,
  long_view,
  like,
  comment,
  forward,
  follow,
  hate,
};
constexpr int kKuaiRandBehaviours = 7;
// "click", "long_view", "like", ... (the world's names) and the log's columns ("is_click", ...).
std::string_view kuairand_behaviour_name(int b);
std::string_view kuairand_behaviour_column(int b);

// What is_click means in a tab.
enum class ClickMeaning : std::uint8_t { unknown, valid_play, click };
constexpr int kKuaiRandTabs = 15;  // tab is in 0..14
using TabSemantics = std::array<ClickMeaning, kKuaiRandTabs>;

struct KuaiRandLogRow {
  std::int64_t user_id = 0;
  std::int64_t video_id = 0;
  std::int32_t date = 0;     // yyyymmdd
  std::int32_t day = 0;      // days since 1970-01-01 (from date), for return gaps
  std::int32_t hourmin = 0;  // HHMM (the README says "HHSS"; 400 is 04:00)
  std::int64_t time_ms = 0;  // Unix milliseconds
  // The behaviours in KuaiRandBehaviour order: is_click, long_view, is_like, is_comment,
  // is_forward, is_follow, is_hate (0/1; "1.0" accepted).
  std::array<std::uint8_t, kKuaiRandBehaviours> behaviour{};
  double play_time_ms = 0;       // NaN where empty
  double duration_ms = 0;        // NaN where empty
  double profile_stay_time = 0;  // NaN where empty
  double comment_stay_time = 0;  // NaN where empty
  std::uint8_t is_profile_enter = 0;
  std::uint8_t is_rand = 0;
  std::int32_t tab = 0;  // 0..14

  std::uint8_t is_click() const { return behaviour[0]; }
};

// valid_play as KuaiRand defines it: play >= duration when duration <= 7 s, else play > 7 s.
// long_view: play >= duration when duration <= 18 s, else play >= 18 s. False when either is NaN.
bool kuairand_valid_play(double play_time_ms, double duration_ms);
bool kuairand_long_view(double play_time_ms, double duration_ms);

struct KuaiRandLogSummary {
  std::string file;  // the first part; `parts` lists them all
  std::vector<std::string> parts;
  std::int64_t rows = 0;
  std::int64_t users = 0;  // distinct (when counted)
  std::int64_t items = 0;
  std::int64_t missing_values = 0;  // empty numeric cells (play time, durations, stay times)
  std::int64_t duplicates = 0;      // rows repeating an earlier (user, video) pair (re-watches)
  std::int32_t first_date = 0;      // yyyymmdd, 0 when no rows
  std::int32_t last_date = 0;
  std::array<std::int64_t, kKuaiRandTabs> tab_rows{};
  // Per tab: rows with both play time and duration, and among them rows whose is_click equals
  // kuairand_valid_play(play, duration). Agreement ~1 marks the single-column UI.
  std::array<std::int64_t, kKuaiRandTabs> tab_timed_rows{};
  std::array<std::int64_t, kKuaiRandTabs> tab_click_is_valid_play{};
  std::array<std::int64_t, kKuaiRandBehaviours> positives{};
  std::vector<std::string> warnings;

  // One paragraph: counts, dates, tabs, warnings.
  std::string report() const;
};

struct KuaiRandLogOptions {
  // Distinct users and videos and duplicate (user, video) rows in the summary: an id map each
  // and a hash set of pairs (16 bytes per distinct pair at most).
  bool count_distinct = true;
};

// Streams one log (all its parts, in order) row by row. Each part must have a header with the
// log's columns (looked up by name, extra columns ignored). Every malformed cell is a DataError
// "FILE:LINE: column 'C': ...; fix".
class KuaiRandLogReader {
 public:
  explicit KuaiRandLogReader(std::vector<std::filesystem::path> parts,
                             const KuaiRandLogOptions& options = {});
  ~KuaiRandLogReader();
  KuaiRandLogReader(const KuaiRandLogReader&) = delete;
  KuaiRandLogReader& operator=(const KuaiRandLogReader&) = delete;

  // The next row; false at the end of the last part (the summary is then final).
  bool next(KuaiRandLogRow& row);
  const KuaiRandLogSummary& summary() const { return summary_; }
  // File and line of the row last returned (for errors raised by callers).
  const std::string& path() const;
  std::int64_t line() const;

 private:
  struct Columns;
  bool open_part(std::size_t i);

  std::vector<std::filesystem::path> parts_;
  KuaiRandLogOptions options_;
  std::size_t part_ = 0;
  std::unique_ptr<CsvReader> reader_;
  std::unique_ptr<Columns> cols_;
  KuaiRandLogSummary summary_;
  IdMap users_, items_;
  // (user index, video index) pairs seen, open addressing (0 = empty slot): duplicate rows.
  std::vector<std::uint64_t> pairs_;
  std::size_t pair_count_ = 0;
};

// Days since 1970-01-01 of a yyyymmdd date; nullopt when it is not a calendar date.
std::optional<std::int32_t> kuairand_day_number(std::int64_t yyyymmdd);

// What is_click means per tab, from a log's summary: a tab with at least `min_rows` timed rows
// whose is_click agrees with valid_play on at least `agreement` of them is the single-column UI
// (valid_play); a tab with timed rows below that is the two-column UI (click); tabs without
// enough rows are unknown. (The maintainers' description: the most frequent tab is the
// single-column main feed, the second the two-column one; the rule above checks it per tab.)
TabSemantics infer_tab_semantics(const KuaiRandLogSummary& summary, double agreement = 0.98,
                                 std::int64_t min_rows = 1);

// ---- User features ------------------------------------------------------------------------------

// The nine user_active_degree values found in kuai_rand (the README lists only the first four):
// codes 0..8 in this order. Other spellings get codes 9, 10, ... and a warning.
const std::vector<std::string>& kuairand_active_degrees();

struct KuaiRandUserFeatures {
  std::vector<std::int64_t> user_id;
  std::vector<std::string> active_degree_names;  // code -> spelling (the nine, then others)
  std::vector<std::int32_t> active_degree;       // per row: a code into active_degree_names
  // is_lowactive_period, is_live_streamer, is_video_author, follow_user_num, fans_user_num,
  // friend_user_num, register_days, onehot_feat0..17: NaN where empty or -124.
  std::vector<std::string> numeric_names;
  DenseMatrix<double> numeric;
  // follow_user_num_range, fans_user_num_range, friend_user_num_range, register_days_range:
  // per column, the spellings (the README's lists first, then unlisted ones in order of
  // appearance) and per row a code into them (-1 where empty).
  std::vector<std::string> range_names;
  std::vector<std::vector<std::string>> range_values;
  std::vector<std::vector<std::int32_t>> ranges;  // [column][row]
  IdMap index;  // user_id -> row (ids are unique: a repeated user_id is a DataError)
  std::int64_t rows = 0;
  std::int64_t missing_values = 0;   // empty cells
  std::int64_t unknown_markers = 0;  // -124 cells
  std::vector<std::string> warnings;
  std::string file;

  std::optional<std::size_t> numeric_column(std::string_view name) const;
  std::optional<std::size_t> row_of(std::int64_t user_id) const;
  std::string report() const;
};
KuaiRandUserFeatures load_kuairand_user_features(const std::filesystem::path& csv);

// ---- Video features (basic) ---------------------------------------------------------------------

struct KuaiRandVideoFeatures {
  std::vector<std::int64_t> video_id;
  std::vector<std::int64_t> author_id;      // -1 where empty
  std::vector<std::string> video_type;      // "NORMAL", "AD" ("" where empty)
  std::vector<std::string> upload_dt;       // "2020-07-08"
  std::vector<std::string> upload_type;     // "ShortImport", ...
  std::vector<std::string> visible_status;  // kept as written
  std::vector<double> video_duration;       // ms, NaN where empty ("17200.0" accepted)
  std::vector<double> server_width;         // NaN where empty
  std::vector<double> server_height;        // NaN where empty
  std::vector<std::int64_t> music_id;       // -1 where empty
  std::vector<std::int32_t> music_type;     // -1 where empty ("4.0" accepted)
  IdLists tags;                             // "12,65" -> {12, 65}; empty cell -> {}
  IdMap index;  // video_id -> row (unique; a repeated video_id is a DataError)
  std::int64_t rows = 0;
  std::int64_t missing_values = 0;
  std::vector<std::string> warnings;
  std::string file;

  // The first listed tag, or -1 (CQR's default item group).
  std::int32_t first_tag(std::size_t row) const;
  std::optional<std::size_t> row_of(std::int64_t video_id) const;
  std::string report() const;
};
KuaiRandVideoFeatures load_kuairand_video_features(const std::filesystem::path& csv);

// Parses a comma list of non-negative integers ("12,65", "8", "", " 3, 4"); false otherwise.
bool parse_kuairand_tag_list(std::string_view text, std::vector<std::int32_t>& out);

}  // namespace stagesim::data
