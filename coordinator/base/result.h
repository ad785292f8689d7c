// A value or the typed error that explains why there is none, and its
// value-less twin. Shared by the server's corral::Error and the client's
// corral::client::Error: one template, two error types.
#pragma once

#include <utility>
#include <variant>

namespace corral {

template <typename T, typename E>
class BasicResult {
 public:
  BasicResult(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  BasicResult(E error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  const E& error() const { return std::get<1>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, E> v_;
};

// Success or an error, for operations with no value. E has an enum `code`
// whose zero value means ok, so that an ok status reads as code kOk.
template <typename E>
class BasicStatus {
 public:
  BasicStatus() { error_.code = {}; }
  BasicStatus(E error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  static BasicStatus ok_status() { return BasicStatus(); }
  bool ok() const { return ok_; }
  const E& error() const { return error_; }

 private:
  E error_{};
  bool ok_ = true;
};

}  // namespace corral
