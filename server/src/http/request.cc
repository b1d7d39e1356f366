#include "http/request.h"

#include "http/util.h"

namespace instant::http {

const Header* Request::FindHeader(std::string_view name) const {
  for (size_t i = 0; i < num_headers; ++i) {
    if (EqualsIgnoreCase(headers[i].name, name)) return &headers[i];
  }
  return nullptr;
}

std::string_view Request::Find(std::string_view name) const {
  const Header* h = FindHeader(name);
  return h != nullptr ? h->value : std::string_view();
}

}  // namespace instant::http
