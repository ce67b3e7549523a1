# Header-only dependencies (fmt and spdlog in header-only mode) and the
# static libraries Debian ships. Only what the code uses today is required.
find_package(nlohmann_json 3.11 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Threads REQUIRED)

add_library(arle_deps_header_only INTERFACE)
target_compile_definitions(arle_deps_header_only INTERFACE FMT_HEADER_ONLY SPDLOG_HEADER_ONLY SPDLOG_FMT_EXTERNAL)
target_link_libraries(arle_deps_header_only INTERFACE nlohmann_json::nlohmann_json Threads::Threads)
