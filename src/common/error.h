#pragma once
// arle::Error: the one exception type ARLE throws for anything a user can fix
// (bad file, bad flag, bad request). It carries a code so boundaries can map it
// (CLI exit code, HTTP status) and a message that says what to do.

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace arle {

enum class ErrorCode {
  kInvalidArgument,  // a flag, parameter or request field is wrong
  kNotFound,         // a file, model, tensor or route does not exist
  kInvalidModel,     // a model file exists but is malformed
  kUnsupported,      // well-formed, but ARLE does not implement it
  kIo,               // the OS refused (open, read, mmap)
  kOutOfMemory,      // an allocation failed
  kInternal,         // a bug in ARLE
};

std::string_view error_code_name(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

// throw_error(ErrorCode::kNotFound, "no tensor '{}' in {}", name, path);
template <typename... Args>
[[noreturn]] void throw_error(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(code, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace arle
