# The memory engine's history and presence stores (engine/history.h, engine/presence.h).
# Included from server/src/engine/CMakeLists.txt with `include(stores.cmake)`; paths are relative
# to that folder (include() keeps CMAKE_CURRENT_SOURCE_DIR).
instant_library(instant_engine_memory
  SOURCES memory_history.cc memory_presence.cc idempotency.cc
  DEPS instant_base)
instant_test(engine_test
  SOURCES memory_history_test.cc memory_presence_test.cc idempotency_test.cc
  DEPS instant_engine_memory)
