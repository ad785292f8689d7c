#include "coordinator/server/proposal_positions.h"

#include <catch2/catch.hpp>

namespace corral::server {

using Ids = std::vector<uint64_t>;

TEST_CASE("proposal positions: an entry of the same term at the index is ours, of another term it was lost",
          "[proposal_positions]") {
  ProposalPositions p;
  p.add(10, 3, {1, 2});
  p.add(11, 3, {3});
  CHECK(p.on_applied(9, 2).empty());
  CHECK(p.on_applied(10, 3).empty());  // ours: answered by its apply
  CHECK(p.size() == 1);
  CHECK(p.on_applied(11, 4) == Ids{3});  // a newer leader's entry took index 11
  CHECK(p.size() == 0);
}

TEST_CASE("proposal positions: indexes passed over (a snapshot) say nothing and are forgotten",
          "[proposal_positions]") {
  ProposalPositions p;
  p.add(5, 2, {7});
  p.add(6, 2, {8});
  p.add(9, 2, {9});
  CHECK(p.on_applied(8, 3).empty());  // 5 and 6 below the first applied index
  CHECK(p.size() == 1);
  CHECK(p.on_applied(9, 3) == Ids{9});
  CHECK(p.size() == 0);
}

TEST_CASE("proposal positions: an index taken again after a snapshot keeps only the newer record",
          "[proposal_positions]") {
  ProposalPositions p;
  p.add(4, 1, {1});
  p.add(4, 5, {2});
  CHECK(p.on_applied(4, 6) == Ids{2});
  p.clear();
  CHECK(p.size() == 0);
}

}  // namespace corral::server
