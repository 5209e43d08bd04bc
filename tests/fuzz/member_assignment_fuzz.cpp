// libFuzzer target: any bytes as a group member's assignment (a group's leader writes them, and
// anyone can join a group) must neither crash nor read out of bounds, and every partition kept
// must be non-negative.
#include <cstdlib>

#include "kafka/member_assignment.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (auto partitions = orderstream::kafka::assigned_partitions(data, size, "orders"))
        for (auto p : *partitions)
            if (p < 0) std::abort();
    return 0;
}
