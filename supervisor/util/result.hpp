#pragma once
// A value or the reason there is none. Each adapter (Consul, systemd, ...)
// names its own Error type and uses Result<T, ThatError> through an alias.
// A refused CAS or lock is a value (false), not an error: errors are for "we
// do not know".
#include <utility>
#include <variant>

namespace hasup {

template <class T, class E>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}
  Result(E error) : state_(std::move(error)) {}
  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const { return std::get<0>(state_); }
  T& value() { return std::get<0>(state_); }
  const E& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, E> state_;
};

}  // namespace hasup
