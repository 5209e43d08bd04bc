// libFuzzer target: the order decoder must classify any bytes without crashing, and an order it
// accepts must survive a round trip through to_json.
#include <cstdlib>

#include "orders/order.hpp"
#include "orders/order_decoder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto result = orderstream::orders::decode_order(data, size);
    if (result.ok()) {
        auto json = orderstream::orders::to_json(*result.value);
        auto again = orderstream::orders::decode_order(json.data(), json.size());
        if (!again.ok() || again.value->order_id != result.value->order_id) std::abort();
    } else if (result.detail.empty()) {
        std::abort();  // every refusal must say why
    }
    return 0;
}
