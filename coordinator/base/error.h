// Errors inside the server are values: a code from one closed list and a
// message naming what was wrong. api/ maps them to wire errors in one place.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace corral {

enum class ErrorCode : uint8_t {
  kOk = 0,
  kBadRequest,        // malformed or nonsensical input
  kNotFound,          // key, lease, member that does not exist
  kLeaseNotFound,
  kCompacted,         // revision older than the compaction point
  kFutureRevision,    // revision newer than the current one
  kTooLarge,          // past a documented bound
  kNotLeader,
  kUnavailable,       // no leader, shutting down, peer unreachable
  kPermissionDenied,
  kStorage,           // the disk said no: I/O error, corruption
  kInternal,
};
const char* error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // kCompacted: the compact revision; kFutureRevision: the current revision.
  int64_t revision = 0;
};

// A value or an Error.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  const Error& error() const { return std::get<1>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, Error> v_;
};

// Success or an Error, for operations with no value.
class Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  static Status ok_status() { return Status(); }
  bool ok() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_{ErrorCode::kOk, {}};
  bool ok_ = true;
};

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace corral
