#pragma once
// The product version, set once in the top-level CMakeLists (project(instant VERSION ...)) and
// passed to every target that links instant_config as the INSTANT_VERSION compile definition, so
// `instant version`, the Prometheus build label and the HTTP Server header cannot drift apart.

#include <string_view>

#ifndef INSTANT_VERSION
#error "INSTANT_VERSION must be defined by the build (see server/src/config/CMakeLists.txt)"
#endif

namespace instant {

inline constexpr std::string_view kVersion = INSTANT_VERSION;

}  // namespace instant
