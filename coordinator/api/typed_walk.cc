#include "coordinator/api/typed_walk.h"

namespace corral::api {

namespace wire = corral::schema::api;

bool read_fields_typed(wire::Request::Reader r) {
  switch (r.which()) {
    case wire::Request::RANGE: {
      auto range = r.getRange();
      (void)range.getKey();
      (void)range.getRangeEnd();
      break;
    }
    case wire::Request::PUT: {
      auto put = r.getPut();
      (void)put.getKey();
      (void)put.getValue();
      break;
    }
    default:
      return false;
  }
  (void)r.getToken();
  return true;
}

}  // namespace corral::api
