// A move-only `void()` callable, so that call_soon() accepts lambdas that own
// move-only state (a unique_ptr, a Task promise) where std::function cannot.
// One allocation per callable, like std::function for large captures.
#ifndef AIO_ASYNC_INTERNAL_UNIQUE_FUNCTION_H_
#define AIO_ASYNC_INTERNAL_UNIQUE_FUNCTION_H_

#include <memory>
#include <type_traits>
#include <utility>

namespace aio::internal {

class UniqueFunction {
 public:
  UniqueFunction() = default;
  template <class F,
            class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, UniqueFunction>>>
  UniqueFunction(F&& function)  // NOLINT: implicit like std::function
      : callable_(std::make_unique<Holder<std::decay_t<F>>>(std::forward<F>(function))) {}

  void operator()() { callable_->call(); }
  explicit operator bool() const noexcept { return callable_ != nullptr; }

 private:
  struct Callable {
    virtual ~Callable() = default;
    virtual void call() = 0;
  };
  template <class F>
  struct Holder final : Callable {
    explicit Holder(F&& f) : function(std::move(f)) {}
    explicit Holder(const F& f) : function(f) {}
    void call() override { function(); }
    F function;
  };
  std::unique_ptr<Callable> callable_;
};

}  // namespace aio::internal

#endif  // AIO_ASYNC_INTERNAL_UNIQUE_FUNCTION_H_
