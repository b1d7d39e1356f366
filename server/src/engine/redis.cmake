# The Redis engine (issue 7): RedisEngine and its Redis-backed history and presence stores.
# Included from server/src/engine/CMakeLists.txt; paths are relative to that folder.
# Depends on the engine interfaces and the Redis client, never on hub/client/api/node.
instant_library(instant_engine_redis
  SOURCES redis_engine.cc redis_shards.cc redis_payload.cc redis_scripts.cc redis_history.cc
          redis_presence.cc redis_nodes.cc
  DEPS instant_engine instant_redis instant_protocol instant_base simdjson::simdjson)
# Codec tests, and engine tests against real redis-servers (/usr/bin/redis-server).
instant_test(engine_redis_test
  SOURCES redis_payload_test.cc redis_engine_test.cc ../redis/test_redis_server.cc
  DEPS instant_engine_redis)
