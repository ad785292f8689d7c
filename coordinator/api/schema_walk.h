// Reads every field of a Cap'n Proto struct through its schema, so that a
// pointer of the wrong kind (a struct where a list is declared, a list of
// words where Data is) throws here, inside the decoder's try, and not at a
// later read. totalSize() does not do this: it walks pointers without
// knowing their declared types.
#pragma once

#include <capnp/dynamic.h>

namespace corral::api {

// Throws kj::Exception on the first field whose pointer does not match its
// declared type (or past the reader's traversal or nesting limits).
void read_every_field(capnp::DynamicStruct::Reader reader);

}  // namespace corral::api
