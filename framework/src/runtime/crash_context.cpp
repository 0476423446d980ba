#include "crash_context.hpp"

#include <weir/pipeline.hpp>

#include <algorithm>
#include <new>

namespace weir {
namespace {
// initial-exec: reading it is a plain load relative to the thread pointer,
// with no call into the dynamic linker that a signal handler could not make.
thread_local const char* stage_label __attribute__((tls_model("initial-exec"))) = nullptr;
constexpr std::size_t alternate_stack_bytes = 64 * 1024;
}  // namespace

const char* current_stage_label() noexcept { return stage_label; }

namespace runtime {

StageLabelScope::StageLabelScope(const char* label) noexcept : previous_(stage_label) { stage_label = label; }
StageLabelScope::~StageLabelScope() { stage_label = previous_; }

AlternateSignalStack::AlternateSignalStack() noexcept {
  const std::size_t size = std::max<std::size_t>(alternate_stack_bytes, SIGSTKSZ);
  memory_.reset(new (std::nothrow) char[size]);
  if (!memory_) return;  // without one, a stack overflow dies without a word; nothing else changes
  stack_t stack{};
  stack.ss_sp = memory_.get();
  stack.ss_size = size;
  if (sigaltstack(&stack, nullptr) != 0) memory_.reset();
}

AlternateSignalStack::~AlternateSignalStack() {
  if (!memory_) return;
  stack_t off{};
  off.ss_flags = SS_DISABLE;
  sigaltstack(&off, nullptr);
}

}  // namespace runtime
}  // namespace weir
