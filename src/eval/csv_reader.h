#pragma once
// RFC 4180 CSV: fields separated by commas, records by \n or \r\n; a field
// in double quotes may hold commas, line breaks and "" (one quote). MMLU's
// files are in this form.

#include <string>
#include <string_view>
#include <vector>

namespace arle::eval {

using CsvRecord = std::vector<std::string>;

// Every record of `text`; a trailing line break ends the last record, not
// an empty one. Throws kInvalidArgument naming `what` and the line for an
// unterminated quote or a quote in the middle of an unquoted field.
std::vector<CsvRecord> parse_csv(std::string_view text, const std::string& what);

}  // namespace arle::eval
