#pragma once
// Which stage replica a thread is running plugin code for, kept where a
// crash handler can read it: a thread-local pointer to text made in advance.

#include <csignal>
#include <memory>

namespace weir::runtime {

// Sets the calling thread's label for its lifetime, restoring the previous
// one after. `label` must outlive the scope.
class StageLabelScope {
 public:
  explicit StageLabelScope(const char* label) noexcept;
  ~StageLabelScope();
  StageLabelScope(const StageLabelScope&) = delete;
  StageLabelScope& operator=(const StageLabelScope&) = delete;

 private:
  const char* previous_;
};

// An alternate signal stack for the calling thread, so a crash handler
// installed with SA_ONSTACK still runs when plugin code overflowed the stack.
class AlternateSignalStack {
 public:
  AlternateSignalStack() noexcept;
  ~AlternateSignalStack();
  AlternateSignalStack(const AlternateSignalStack&) = delete;
  AlternateSignalStack& operator=(const AlternateSignalStack&) = delete;

 private:
  std::unique_ptr<char[]> memory_;
};

}  // namespace weir::runtime
