#pragma once
// Runs the steps of one API request one after another: the commands of a batch or of a legacy
// /api body, the channels of a broadcast. A step that asks the engine may finish later (Redis;
// INSTANT_TEST_DEFER_ENGINE=1), and the steps after it wait, so replies keep the request's order
// (docs/architecture/threading.md, "Engine answers").
//
// When every step finishes before it returns (the memory engine) this is a plain loop: no
// allocation and no std::function per step, and no recursion (a batch of 10,000 commands must not
// grow the stack). A step that finishes later resumes the loop from its callback.
//
// Threading: single-threaded, on the loop of the request. Owned by a std::shared_ptr: a step that
// answers later keeps shared_from_this() in its callback until it calls StepDone().

#include <cstddef>
#include <memory>

namespace instant::api {

class InOrder : public std::enable_shared_from_this<InOrder> {
 public:
  InOrder() = default;
  virtual ~InOrder() = default;
  InOrder(const InOrder&) = delete;
  InOrder& operator=(const InOrder&) = delete;

  // Runs Step(0) .. Step(steps - 1), then Finish(). Called once; the caller holds a shared_ptr.
  void Start(size_t steps) {
    steps_ = steps;
    Run();
  }

 protected:
  // Starts step `i`, which calls StepDone() exactly once: before returning, or later on this loop.
  virtual void Step(size_t i) = 0;
  // Called once, after the last step is done (at once for zero steps).
  virtual void Finish() = 0;

  void StepDone() {
    waiting_ = false;
    if (!running_) Run();  // the step finished later: resume the loop here
  }

 private:
  void Run() {
    running_ = true;
    while (next_ < steps_) {
      waiting_ = true;
      Step(next_++);
      if (waiting_) {  // answers later; its StepDone() resumes
        running_ = false;
        return;
      }
    }
    running_ = false;
    Finish();
  }

  size_t steps_ = 0;
  size_t next_ = 0;
  bool running_ = false;
  bool waiting_ = false;
};

}  // namespace instant::api
