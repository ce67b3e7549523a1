#include "eval/csv_reader.h"

#include "common/error.h"

namespace arle::eval {

std::vector<CsvRecord> parse_csv(std::string_view text, const std::string& what) {
  std::vector<CsvRecord> records;
  CsvRecord record;
  std::string field;
  std::size_t i = 0, line = 1;
  bool field_started = false;  // something (even "") was read into this field
  auto end_field = [&] {
    record.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  auto end_record = [&] {
    end_field();
    records.push_back(std::move(record));
    record.clear();
  };
  while (i < text.size()) {
    const char c = text[i];
    if (c == '"' && !field_started) {
      const std::size_t opened = line;
      ++i;
      for (;;) {
        if (i >= text.size())
          throw_error(ErrorCode::kInvalidArgument, "{}:{}: unterminated quoted field", what, opened);
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (text[i] == '\n') ++line;
        field += text[i++];
      }
      field_started = true;
      if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
        throw_error(ErrorCode::kInvalidArgument, "{}:{}: text after a closing quote", what, line);
      }
    } else if (c == ',') {
      end_field();
      ++i;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_record();
      ++line;
      ++i;
    } else {
      if (c == '"') throw_error(ErrorCode::kInvalidArgument, "{}:{}: a quote inside an unquoted field", what, line);
      field += c;
      field_started = true;
      ++i;
    }
  }
  if (field_started || !record.empty()) end_record();
  return records;
}

}  // namespace arle::eval
