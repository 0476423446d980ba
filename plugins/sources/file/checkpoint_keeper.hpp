#pragma once
// The file source's side of at-least-once delivery. Every line read goes out
// with an acknowledgement; the checkpoint moves past a line only once that
// line and every line before it in the same file are finished (a contiguous
// low-water mark per file: replicas downstream finish lines out of order).
//
// A writer thread saves the checkpoint (atomically, fsync'ed) whenever the
// mark has moved, and the reader may be at most `max_in_flight` lines ahead
// of what the saved checkpoint covers; so a crash at any moment repeats at
// most `max_in_flight` lines, however slowly the disk syncs.
//
// A line whose copies failed or were dropped by policy is finished: the
// pipeline decided its fate and counted it. An abandoned one (a forced stop)
// is not: the mark stays before it, and the next run reads it again.

#include "checkpoint.hpp"

#include <weir_std/rate_limited.hpp>

#include <weir/message.hpp>

#include <spdlog/logger.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>

namespace weir::weir_std {

class CheckpointKeeper {
 public:
  // One reading of one file: a file replaced under its name (rotation) or
  // truncated starts a new ledger, and the old one's lines, still finishing,
  // no longer move the file's entry in the checkpoint.
  struct Ledger {
    std::string path;
    FilePosition committed;            // just after the last line finished in order
    struct Line {
      std::uint64_t end = 0;           // offset just after the line
      bool finished = false;
    };
    std::uint64_t first = 0;           // sequence number of lines.front()
    std::uint64_t next = 0;            // sequence number of the next line
    std::deque<Line> lines;            // from the oldest unfinished one
    bool current = true;
  };

  CheckpointKeeper(std::filesystem::path file, Checkpoint loaded, std::uint64_t max_in_flight,
                   std::chrono::nanoseconds min_interval, std::shared_ptr<spdlog::logger> logger)
      : state_(std::make_shared<State>()) {
    state_->file = std::move(file);
    state_->positions = std::move(loaded);
    state_->max_in_flight = max_in_flight;
    state_->min_interval = min_interval;
    state_->logger = std::move(logger);
  }
  ~CheckpointKeeper() { close(); }
  CheckpointKeeper(const CheckpointKeeper&) = delete;
  CheckpointKeeper& operator=(const CheckpointKeeper&) = delete;

  // Starts reading `path` at `start`; the handle stays valid for the
  // keeper's life.
  Ledger* open(const std::string& path, FilePosition start) {
    std::lock_guard lock(state_->mutex);
    start_writer();
    for (Ledger& ledger : state_->ledgers)
      if (ledger.path == path) ledger.current = false;
    state_->ledgers.push_back(Ledger{path, start, 0, 0, {}, true});
    auto known = state_->positions.find(path);
    if (known == state_->positions.end() || known->second.inode != start.inode ||
        known->second.device != start.device || known->second.offset != start.offset) {
      state_->positions[path] = start;
      state_->dirty = true;
      state_->changed.notify_all();
    }
    return &state_->ledgers.back();
  }

  // The acknowledgement of the line of `ledger` that ends at `end_offset`,
  // once fewer than `max_in_flight` lines are read and not yet covered by the
  // saved checkpoint (it waits for that); null when `stop` was requested
  // first. One lock round per line, and no wait set up when there is room.
  std::shared_ptr<Acknowledgement> track(Ledger& ledger, std::uint64_t end_offset, std::stop_token stop) {
    std::uint64_t sequence = 0;
    {
      std::unique_lock lock(state_->mutex);
      const auto has_room = [&] { return state_->read - state_->saved < state_->max_in_flight; };
      if (!has_room() && !state_->room.wait(lock, stop, has_room)) return nullptr;
      sequence = ledger.next++;
      ledger.lines.push_back({end_offset, false});
      ++state_->read;
    }
    return std::make_shared<LineAck>(state_, ledger, sequence);
  }

  // Saves what is finished and stops the writer. Called once every
  // acknowledgement has settled (the runtime stops sources after the drain).
  // Later settlements are not saved: stop() is the last commit.
  void close() {
    {
      std::lock_guard lock(state_->mutex);
      if (state_->closing) return;
      state_->closing = true;
      state_->changed.notify_all();
    }
    if (writer_.joinable()) writer_.join();
    std::lock_guard lock(state_->mutex);
    if (state_->dirty) save_now(*state_);
  }

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable changed;      // the writer: the mark moved, or closing
    std::condition_variable_any room;     // the reader: a save made room
    std::filesystem::path file;
    Checkpoint positions;                 // what the next save writes
    std::list<Ledger> ledgers;            // a list: handles stay valid
    std::uint64_t max_in_flight = 0;
    std::chrono::nanoseconds min_interval{0};
    std::uint64_t read = 0;               // lines handed on
    std::uint64_t finished_unsaved = 0;   // finished in order, not yet in a saved checkpoint
    std::uint64_t saved = 0;              // finished in order and saved (or of a retired ledger)
    bool dirty = false;
    bool closing = false;
    std::shared_ptr<spdlog::logger> logger;
    RateLimited save_errors;
  };

  class LineAck final : public TrackedAcknowledgement {
   public:
    LineAck(std::shared_ptr<State> state, Ledger& ledger, std::uint64_t sequence) noexcept
        : state_(std::move(state)), ledger_(ledger), sequence_(sequence) {}
    ~LineAck() override {
      if (failure() == AckFailure::abandoned) return;  // not handled: the mark stays before it
      finish(*state_, ledger_, sequence_);
    }

   private:
    std::shared_ptr<State> state_;  // the keeper's state outlives a message a plugin kept too long
    Ledger& ledger_;
    std::uint64_t sequence_;
  };

  static void finish(State& state, Ledger& ledger, std::uint64_t sequence) noexcept {
    std::lock_guard lock(state.mutex);
    ledger.lines[sequence - ledger.first].finished = true;
    std::uint64_t advanced = 0;
    while (!ledger.lines.empty() && ledger.lines.front().finished) {
      ledger.committed.offset = ledger.lines.front().end;
      ledger.lines.pop_front();
      ++ledger.first;
      ++advanced;
    }
    if (advanced == 0) return;
    if (ledger.current) {
      state.positions[ledger.path] = ledger.committed;
      state.finished_unsaved += advanced;
      state.dirty = true;
      state.changed.notify_all();
    } else {
      state.saved += advanced;
      state.room.notify_all();
    }
  }

  void start_writer() {
    if (!writer_.joinable()) writer_ = std::jthread([state = state_] { write_loop(*state); });
  }

  static void write_loop(State& state) {
    std::unique_lock lock(state.mutex);
    auto last_save = Clock::now() - state.min_interval;
    for (;;) {
      state.changed.wait(lock, [&] { return state.dirty || state.closing; });
      if (state.closing) return;  // close() saves what is left
      if (state.min_interval.count() > 0) {
        const auto due = last_save + state.min_interval;
        if (state.changed.wait_until(lock, due, [&] { return state.closing; })) return;
      }
      if (!save_now(state)) {
        // The disk refuses: try again after a pause (the error is logged,
        // rate-limited), unless the source is closing.
        if (state.changed.wait_for(lock, std::chrono::seconds(1), [&] { return state.closing; })) return;
      }
      last_save = Clock::now();
    }
  }

  // With the mutex held on entry and exit; released while the disk works.
  static bool save_now(State& state) {
    Checkpoint snapshot = state.positions;
    const std::uint64_t covered = state.finished_unsaved;
    state.finished_unsaved = 0;
    state.dirty = false;
    state.mutex.unlock();
    bool ok = true;
    try {
      save_checkpoint(state.file, snapshot);
    } catch (const std::exception& e) {
      ok = false;
      state.save_errors([&](std::uint64_t left_out) {
        state.logger->error("saving the checkpoint {} failed: {}{}", state.file.string(), e.what(),
                            left_out ? fmt::format(" ({} more failures since the last report)", left_out) : "");
      });
    }
    state.mutex.lock();
    if (ok) {
      state.saved += covered;
      state.room.notify_all();
    } else {
      state.finished_unsaved += covered;
      state.dirty = true;
    }
    return ok;
  }

  std::shared_ptr<State> state_;
  std::jthread writer_;
};

}  // namespace weir::weir_std
