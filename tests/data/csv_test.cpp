#include "environments/data/csv.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "tests/data/data_test_util.hpp"

namespace stagesim::data {
namespace {

using testing::DataErrorOf;
using testing::ExpectMessage;

std::filesystem::path WriteFile(const std::string& name, const std::string& text) {
  auto path = testing::TempDir() / name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::vector<std::vector<std::string>> ReadAll(const std::filesystem::path& p,
                                              std::size_t buffer = CsvReader::kDefaultBufferSize,
                                              std::vector<std::int64_t>* lines = nullptr) {
  CsvReader r(p, buffer);
  std::vector<std::vector<std::string>> rows;
  while (r.next()) {
    std::vector<std::string> row;
    for (std::size_t i = 0; i < r.size(); ++i) row.emplace_back(r.field(i));
    rows.push_back(row);
    if (lines) lines->push_back(r.line());
  }
  return rows;
}

TEST(ParseNumbers, Integers) {
  std::int64_t v = 0;
  EXPECT_EQ(parse_int64("123", v), ParseStatus::kOk);
  EXPECT_EQ(v, 123);
  EXPECT_EQ(parse_int64("20200705.0", v), ParseStatus::kOk);
  EXPECT_EQ(v, 20200705);
  EXPECT_EQ(parse_int64("-7.00", v), ParseStatus::kOk);
  EXPECT_EQ(v, -7);
  EXPECT_EQ(parse_int64("+4", v), ParseStatus::kOk);
  EXPECT_EQ(v, 4);
  EXPECT_EQ(parse_int64(" 12 ", v), ParseStatus::kOk);
  EXPECT_EQ(v, 12);
  EXPECT_EQ(parse_int64("", v), ParseStatus::kMissing);
  EXPECT_EQ(parse_int64("nan", v), ParseStatus::kMissing);
  EXPECT_EQ(parse_int64("NaN", v), ParseStatus::kMissing);
  EXPECT_EQ(parse_int64("7.5", v), ParseStatus::kBad);
  EXPECT_EQ(parse_int64("1e3", v), ParseStatus::kBad);
  EXPECT_EQ(parse_int64("12a", v), ParseStatus::kBad);
  EXPECT_EQ(parse_int64("abc", v), ParseStatus::kBad);
  EXPECT_EQ(parse_int64("99999999999999999999", v), ParseStatus::kBad);
}

TEST(ParseNumbers, Doubles) {
  double v = 0;
  EXPECT_EQ(parse_double("1.2734", v), ParseStatus::kOk);
  EXPECT_EQ(v, 1.2734);
  EXPECT_EQ(parse_double("1593898068.378", v), ParseStatus::kOk);
  EXPECT_EQ(v, 1593898068.378);
  EXPECT_EQ(parse_double("-2e-3", v), ParseStatus::kOk);
  EXPECT_EQ(v, -2e-3);
  EXPECT_EQ(parse_double("+0.5", v), ParseStatus::kOk);
  EXPECT_EQ(v, 0.5);
  EXPECT_EQ(parse_double("inf", v), ParseStatus::kOk);
  EXPECT_TRUE(std::isinf(v));
  EXPECT_EQ(parse_double("NaN", v), ParseStatus::kMissing);
  EXPECT_EQ(parse_double("", v), ParseStatus::kMissing);
  EXPECT_EQ(parse_double("1.2.3", v), ParseStatus::kBad);
  EXPECT_EQ(parse_double("0x10", v), ParseStatus::kBad);
  EXPECT_EQ(parse_double("++1", v), ParseStatus::kBad);
}

TEST(CsvReader, PandasQuirks) {
  // BOM, quoted commas, "" escapes, empty fields, CRLF, a quoted newline, a blank line, no final
  // newline.
  const std::string text =
      "\xEF\xBB\xBF"
      "id,feat,note\r\n"
      "1,\"[27, 9]\",\"say \"\"hi\"\"\"\r\n"
      "2,[8],\r\n"
      "\r\n"
      "3,\"(0,10]\",\"two\nlines\"\n"
      ",,\n"
      "4,\"\",last";
  auto p = WriteFile("quirks.csv", text);
  for (std::size_t buffer : {std::size_t{16}, std::size_t{17}, std::size_t{1} << 20}) {
    SCOPED_TRACE(buffer);
    std::vector<std::int64_t> lines;
    auto rows = ReadAll(p, buffer, &lines);
    std::vector<std::vector<std::string>> expected = {{"1", "[27, 9]", "say \"hi\""},
                                                      {"2", "[8]", ""},
                                                      {"3", "(0,10]", "two\nlines"},
                                                      {"", "", ""},
                                                      {"4", "", "last"}};
    EXPECT_EQ(rows, expected);
    EXPECT_EQ(lines, (std::vector<std::int64_t>{2, 3, 5, 7, 8}));
  }
  CsvReader r(p);
  EXPECT_EQ(r.header(), (std::vector<std::string>{"id", "feat", "note"}));
  EXPECT_EQ(r.column("note"), 2u);
  EXPECT_FALSE(r.find_column("nope").has_value());
}

TEST(CsvReader, TypedAccessAndMissing) {
  auto p = WriteFile("typed.csv", "a,b\n1.0,nan\n,2.5\n");
  CsvReader r(p);
  const std::size_t a = r.column("a");
  const std::size_t b = r.column("b");
  ASSERT_TRUE(r.next());
  EXPECT_EQ(r.as_int(a), 1);
  EXPECT_FALSE(r.as_double(b).has_value());
  EXPECT_TRUE(r.is_missing(b));
  ASSERT_TRUE(r.next());
  EXPECT_FALSE(r.as_int(a).has_value());
  EXPECT_EQ(r.required_double(b), 2.5);
  ExpectMessage(DataErrorOf([&] { r.required_int(a); }), {"typed.csv:3:", "'a'", "missing"});
  EXPECT_FALSE(r.next());
  EXPECT_EQ(r.records(), 2);
}

TEST(CsvReader, ManyRecordsAcrossBufferRefills) {
  std::string text = "u,v,w\n";
  for (int i = 0; i < 5000; ++i) {
    text +=
        std::to_string(i) + ",\"" + std::to_string(i * 7) + ",x\"," + std::to_string(i) + ".5\n";
  }
  auto p = WriteFile("many.csv", text);
  for (std::size_t buffer : {std::size_t{64}, std::size_t{4096}}) {
    CsvReader r(p, buffer);
    int n = 0;
    while (r.next()) {
      ASSERT_EQ(r.as_int(0), n);
      ASSERT_EQ(r.field(1), std::to_string(n * 7) + ",x");
      ASSERT_EQ(r.as_double(2), n + 0.5);
      ASSERT_EQ(r.line(), n + 2);
      ++n;
    }
    EXPECT_EQ(n, 5000);
  }
}

TEST(CsvReader, Errors) {
  ExpectMessage(DataErrorOf([] { CsvReader r(testing::TempDir() / "absent.csv"); }),
                {"absent.csv", "cannot open"});
  ExpectMessage(DataErrorOf([] { CsvReader r(WriteFile("empty.csv", "")); }),
                {"empty.csv", "empty file"});
  {
    CsvReader r(WriteFile("cols.csv", "a,b\n1,2\n"));
    ExpectMessage(DataErrorOf([&] { r.column("watch_ratio"); }),
                  {"cols.csv:1:", "missing column 'watch_ratio'"});
  }
  {
    CsvReader r(WriteFile("count.csv", "a,b\n1,2\n1,2,3\n"));
    ASSERT_TRUE(r.next());
    ExpectMessage(DataErrorOf([&] { r.next(); }), {"count.csv:3:", "expected 2 fields", "found 3"});
  }
  {
    CsvReader r(WriteFile("bad.csv", "a,b\n1,2\nx,3\n"));
    ASSERT_TRUE(r.next());
    ASSERT_TRUE(r.next());
    ExpectMessage(DataErrorOf([&] { r.as_int(0); }), {"bad.csv:3:", "column 'a'", "'x'"});
    ExpectMessage(DataErrorOf([&] { r.as_double(0); }), {"bad.csv:3:", "not a number"});
  }
}

TEST(CsvReader, MalformedFixtures) {
  auto read_all = [](const char* name) {
    CsvReader r(testing::Fixture(std::string("malformed/") + name));
    while (r.next()) {
    }
  };
  ExpectMessage(DataErrorOf([&] { read_all("small_matrix_truncated.csv"); }),
                {"small_matrix_truncated.csv:6:", "expected 8 fields", "found 3", "truncated"});
  ExpectMessage(DataErrorOf([&] { read_all("small_matrix_unterminated_quote.csv"); }),
                {"small_matrix_unterminated_quote.csv:3:", "unterminated"});
  ExpectMessage(DataErrorOf([&] { read_all("small_matrix_junk_after_quote.csv"); }),
                {"small_matrix_junk_after_quote.csv:4:", "after a closing quote"});
}

}  // namespace
}  // namespace stagesim::data
