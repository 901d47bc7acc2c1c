#pragma once
// Text from the user (keys, values, file names, command-line words) quoted back in an error
// message: control bytes and invalid UTF-8 are escaped (so a NUL cannot cut the message and an
// ESC sequence cannot reach the terminal) and long input is cut, so every error stays one short
// line.
#include <cstddef>
#include <string>
#include <string_view>

namespace stagesim {

// `s` with control characters and invalid UTF-8 escaped (\n, \t, \0, \xNN), at most `max`
// characters of it, then "...(N bytes)" when cut.
std::string printable(std::string_view s, std::size_t max = 80);

// The last line of defence for a whole message: escaped like printable() and cut at `max`.
std::string printable_message(std::string_view s, std::size_t max = 2000);

}  // namespace stagesim
