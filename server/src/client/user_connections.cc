#include "client/services.h"

namespace instant::client {

bool UserConnections::TryAdd(std::string_view user, int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counts_.find(std::string(user));
  if (it == counts_.end()) {
    counts_.emplace(std::string(user), 1);
    return true;
  }
  if (limit > 0 && it->second >= limit) return false;
  ++it->second;
  return true;
}

void UserConnections::Remove(std::string_view user) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counts_.find(std::string(user));
  if (it == counts_.end()) return;
  if (--it->second <= 0) counts_.erase(it);
}

int64_t UserConnections::users() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(counts_.size());
}

}  // namespace instant::client
