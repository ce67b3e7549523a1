# Header-only dependencies (fmt and spdlog in header-only mode) and the
# static libraries Debian ships. Only what the code uses today is required.
find_package(nlohmann_json 3.11 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Threads REQUIRED)

add_library(arle_deps_header_only INTERFACE)
target_compile_definitions(arle_deps_header_only INTERFACE FMT_HEADER_ONLY SPDLOG_HEADER_ONLY SPDLOG_FMT_EXTERNAL)
target_link_libraries(arle_deps_header_only INTERFACE nlohmann_json::nlohmann_json Threads::Threads)

# Tokenizer text processing: PCRE2 (JIT) and utf8proc, static when Debian ships the .a.
find_path(PCRE2_INCLUDE_DIR pcre2.h REQUIRED)
find_library(PCRE2_LIBRARY NAMES libpcre2-8.a pcre2-8 REQUIRED)
find_path(UTF8PROC_INCLUDE_DIR utf8proc.h REQUIRED)
find_library(UTF8PROC_LIBRARY NAMES libutf8proc.a utf8proc REQUIRED)
add_library(arle_text_deps INTERFACE)
target_include_directories(arle_text_deps INTERFACE ${PCRE2_INCLUDE_DIR} ${UTF8PROC_INCLUDE_DIR})
target_link_libraries(arle_text_deps INTERFACE ${PCRE2_LIBRARY} ${UTF8PROC_LIBRARY})
# utf8proc.h declares its functions dllimport-style unless told it is static.
target_compile_definitions(arle_text_deps INTERFACE UTF8PROC_STATIC)

# HTTP: Boost.Beast and Asio, header-only (server/http_server.cpp only).
find_package(Boost 1.81 REQUIRED)
add_library(arle_http_deps INTERFACE)
target_link_libraries(arle_http_deps INTERFACE Boost::headers Threads::Threads)
target_compile_definitions(arle_http_deps INTERFACE BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)
