// The terminal lines as JSON, shared by GET /api/outputs and the push stream.
#pragma once

#include <cstdint>
#include <string>

#include "capture/output_store.hpp"

namespace orderstream::http {

// The reference shape: {"producer":[{"timestamp":"HH:MM:SS","line":"…"}],…}.
void write_outputs(const capture::output_store& store, bool strip_ansi, std::string& out);

// Lines newer than `since`: {"seq":LAST,"terminals":{"producer":[{"seq":…,"timestamp":…,"line":…}]},
// "dropped":{"producer":N},"missed":["producer"]}. "missed" names the terminals whose ring dropped
// lines newer than `since` before they could be read: the reader fell behind there.
void write_outputs_since(const capture::output_store& store, std::uint64_t since, bool strip_ansi,
                         std::string& out);

}  // namespace orderstream::http
