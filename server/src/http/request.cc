#include "http/request.h"

#include "http/util.h"

namespace instant::http {

std::string_view Request::Find(std::string_view name) const {
  for (size_t i = 0; i < num_headers; ++i) {
    if (EqualsIgnoreCase(headers[i].name, name)) return headers[i].value;
  }
  return {};
}

bool Request::Has(std::string_view name) const {
  for (size_t i = 0; i < num_headers; ++i) {
    if (EqualsIgnoreCase(headers[i].name, name)) return true;
  }
  return false;
}

}  // namespace instant::http
