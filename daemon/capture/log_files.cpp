// See log_files.hpp.
#include "capture/log_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace orderstream::capture {
namespace {

// What tail() reads from the end of a file at most.
constexpr std::uint64_t max_tail_bytes = 32u << 20;

}  // namespace

log_files::log_files(log_file_options options) : options_(std::move(options)) {
    std::error_code error;
    std::filesystem::create_directories(options_.dir, error);
    if (error) throw std::runtime_error("cannot create the log directory " + options_.dir.string() + ": " + error.message());
    if (::access(options_.dir.c_str(), W_OK | X_OK) != 0)
        throw std::runtime_error("cannot write to the log directory " + options_.dir.string() + ": " + std::strerror(errno));
    thread_ = std::thread([this] { run(); });
}

log_files::~log_files() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
    for (auto& [terminal, file] : files_)
        if (file.fd >= 0) ::close(file.fd);
}

void log_files::write(const std::string& terminal, const char (&timestamp)[9], std::string_view text) {
    std::string line;
    line.reserve(text.size() + 10);
    line.append(timestamp, 8).append(1, ' ').append(text).append(1, '\n');
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (queued_bytes_ + line.size() > options_.max_queued_bytes) {
            ++dropped_;
            return;
        }
        queued_bytes_ += line.size();
        ++queued_total_;
        queue_.push_back({terminal, std::move(line)});
    }
    wake_.notify_one();
}

void log_files::flush() {
    std::unique_lock<std::mutex> lock(mutex_);
    const auto target = queued_total_;
    drained_.wait(lock, [&] { return written_total_ >= target || stop_; });
}

void log_files::run() {
    std::vector<entry> batch;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty() && stop_) return;
        batch.swap(queue_);
        queued_bytes_ = 0;
        lock.unlock();
        write_out(batch);
        const auto done = batch.size();
        batch.clear();
        lock.lock();
        written_total_ += done;
        drained_.notify_all();
    }
}

void log_files::write_out(std::vector<entry>& batch) {
    // Consecutive lines of one terminal go out in one write().
    for (std::size_t i = 0; i < batch.size();) {
        auto* file = file_for(batch[i].terminal);
        std::string chunk;
        std::size_t lines = 0, j = i;
        for (; j < batch.size() && batch[j].terminal == batch[i].terminal; ++j) {
            if (file && file->size + chunk.size() + batch[j].line.size() > options_.max_bytes && file->size + chunk.size() > 0) {
                put(*file, chunk, lines);
                chunk.clear();
                lines = 0;
                rotate(batch[i].terminal, *file);
                if (file->fd < 0) file = nullptr;
            }
            chunk += batch[j].line;
            ++lines;
        }
        if (file)
            put(*file, chunk, lines);
        else
            dropped_ += lines;
        i = j;
    }
}

void log_files::put(open_file& file, const std::string& chunk, std::size_t lines) {
    if (chunk.empty()) return;
    const ssize_t written = ::write(file.fd, chunk.data(), chunk.size());
    if (written == static_cast<ssize_t>(chunk.size())) {
        file.size += chunk.size();
        return;
    }
    // The disk is full (or a size limit reached): the lines are dropped, and a part written is
    // cut off again, so the file keeps whole lines.
    if (written > 0 && ::ftruncate(file.fd, static_cast<off_t>(file.size)) != 0) file.size += static_cast<std::uint64_t>(written);
    dropped_ += lines;
}

log_files::open_file* log_files::file_for(const std::string& terminal) {
    auto& file = files_[terminal];
    if (file.fd >= 0) return &file;
    file.fd = ::open(path(terminal).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (file.fd < 0) return nullptr;  // tried again with the next line
    struct stat info {};
    file.size = ::fstat(file.fd, &info) == 0 ? static_cast<std::uint64_t>(info.st_size) : 0;
    return &file;
}

void log_files::rotate(const std::string& terminal, open_file& file) {
    ::close(file.fd);
    file.fd = -1;
    const auto base = path(terminal).string();
    if (options_.backups > 0) {
        for (int i = options_.backups - 1; i >= 1; --i)
            ::rename((base + "." + std::to_string(i)).c_str(), (base + "." + std::to_string(i + 1)).c_str());
        ::rename(base.c_str(), (base + ".1").c_str());
    } else {
        ::truncate(base.c_str(), 0);
    }
    file.fd = ::open(base.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    file.size = 0;
}

std::vector<std::pair<std::string, std::string>> log_files::tail(const std::string& terminal, std::size_t max_lines) const {
    std::vector<std::pair<std::string, std::string>> lines;
    std::ifstream in(path(terminal), std::ios::binary);
    if (!in || max_lines == 0) return lines;
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::uint64_t>(in.tellg());
    const auto start = size > max_tail_bytes ? size - max_tail_bytes : 0;
    in.seekg(static_cast<std::streamoff>(start));
    std::string text(size - start, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));

    std::size_t end = text.size();
    while (end > 0 && lines.size() < max_lines) {
        if (text[end - 1] == '\n') --end;
        const auto newline = end == 0 ? std::string::npos : text.rfind('\n', end - 1);
        const std::size_t begin = newline == std::string::npos ? 0 : newline + 1;
        if (begin == 0 && start > 0) break;  // cut by the read: not a whole line
        std::string_view line(text.data() + begin, end - begin);
        if (line.size() >= 9 && line[2] == ':' && line[5] == ':' && line[8] == ' ')
            lines.emplace_back(std::string(line.substr(0, 8)), std::string(line.substr(9)));
        end = begin;
    }
    std::reverse(lines.begin(), lines.end());
    return lines;
}

}  // namespace orderstream::capture
