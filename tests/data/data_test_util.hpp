#pragma once
// Shared helpers for the dataset-reader tests (not a test itself: only *_test.cpp are compiled).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <set>
#include <string>

#include "environments/data/data_error.hpp"

namespace stagesim::data::testing {

inline std::filesystem::path Fixture(const std::string& relative) {
  return std::filesystem::path(STAGESIM_SOURCE_DIR) / "tests" / "fixtures" / relative;
}

// A directory for this test, emptied on the test's first call.
inline std::filesystem::path TempDir() {
  static std::set<std::string> seen;
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string test = std::string(info->test_suite_name()) + "." + info->name();
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("stagesim_data_tests_" + std::to_string(::getpid())) / test;
  if (seen.insert(test).second) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  return dir;
}

// Removes this process's temporary directories at exit.
inline const bool kCleanupRegistered = [] {
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::temp_directory_path() /
                                    ("stagesim_data_tests_" + std::to_string(::getpid())),
                                ec);
  });
  return true;
}();

// A python3 that can import numpy and scipy, or "" (tests needing it are skipped).
inline const std::string& PythonWithScipy() {
  static const std::string python = [] {
    for (const char* candidate : {"/usr/bin/python3", "python3"}) {
      std::string cmd = std::string(candidate) + " -c 'import numpy, scipy' >/dev/null 2>&1";
      if (std::system(cmd.c_str()) == 0) return std::string(candidate);
    }
    return std::string();
  }();
  return python;
}

// Runs `f`, which must throw DataError; returns its message ("" and a failure otherwise).
inline std::string DataErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected DataError, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected DataError, nothing was thrown";
  return "";
}

// The message is one line and contains every fragment.
inline void ExpectMessage(const std::string& message, std::initializer_list<std::string> parts) {
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_FALSE(message.empty());
  for (const std::string& p : parts) {
    EXPECT_NE(message.find(p), std::string::npos) << "'" << p << "' not in: " << message;
  }
}

}  // namespace stagesim::data::testing
