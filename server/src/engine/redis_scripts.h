#pragma once
// The Redis engine's Lua scripts (spec §8.2). Each runs atomically inside Redis, which is what
// gives history its guarantees: offsets are assigned, stored and PUBLISHed in one step, so every
// node's subscriber receives a channel's publications in offset order.
//
// All are loaded by every command connection's handshake (ClientOptions::preload_scripts) and
// then called with EVALSHA; the client falls back to EVAL on NOSCRIPT. Keys are declared in KEYS
// (Redis Cluster would need them hash-tagged; we do not support Cluster). Times are milliseconds;
// presence uses Redis's own clock (TIME), never a node's, so nodes with skewed clocks agree.
// Needs Redis >= 6.2 (exclusive XRANGE bounds "(id").
//
// Arguments (KEYS / ARGV) are documented above each source in redis_scripts.cc.

#include <vector>

#include "redis/script.h"

namespace instant::engine::redis_scripts {

// Publish with history (and HistoryStore::Add): idempotency check, epoch creation, HINCRBY top,
// XADD, trims, expiries, PUBLISH, idempotent result. Returns {offset, epoch, cached(0|1)}.
const redis::Script& AddHistory();
// Idempotent publish without history. Returns {0, "", cached(0|1)} (or the cached result).
const redis::Script& PublishOnce();
// History read. Returns {top, epoch, entries (XRANGE form), epoch_mismatch(0|1)}.
const redis::Script& ReadHistory();
// Presence add/refresh of one client.
const redis::Script& PresenceAdd();
// Drops expired entries, returns HGETALL of the data hash.
const redis::Script& PresenceGet();
// Drops expired entries, returns {clients, distinct users}.
const redis::Script& PresenceStats();

// Every script above, for ClientOptions::preload_scripts.
std::vector<const redis::Script*> All();

}  // namespace instant::engine::redis_scripts
