// Intrusive, non-atomic reference counting for loop-thread objects (future and
// task states, callback handles). Non-atomic on purpose: these objects belong to
// one event loop and are only touched from its thread, and an atomic increment
// on every handle copy would cost more than the whole scheduling hot path.
#ifndef AIO_ASYNC_INTERNAL_REF_H_
#define AIO_ASYNC_INTERNAL_REF_H_

#include <cstdint>
#include <utility>

namespace aio::internal {

// Base for ref-counted objects. The object deletes itself (through its virtual
// destructor) when the last Ref goes away.
class RefCounted {
 public:
  RefCounted() = default;
  RefCounted(const RefCounted&) = delete;
  RefCounted& operator=(const RefCounted&) = delete;

  void add_ref() noexcept { ++references_; }
  void release_ref() noexcept {
    if (--references_ == 0) delete this;
  }
  std::uint32_t reference_count() const noexcept { return references_; }

 protected:
  virtual ~RefCounted() = default;

 private:
  std::uint32_t references_ = 0;
};

// Owning pointer to a RefCounted object.
template <class T>
class Ref {
 public:
  Ref() = default;
  explicit Ref(T* object) noexcept : object_(object) {
    if (object_) object_->add_ref();
  }
  Ref(const Ref& other) noexcept : Ref(other.object_) {}
  Ref(Ref&& other) noexcept : object_(std::exchange(other.object_, nullptr)) {}
  template <class U>
  Ref(const Ref<U>& other) noexcept : Ref(other.get()) {}
  Ref& operator=(Ref other) noexcept {
    std::swap(object_, other.object_);
    return *this;
  }
  ~Ref() {
    if (object_) object_->release_ref();
  }

  T* get() const noexcept { return object_; }
  T* operator->() const noexcept { return object_; }
  T& operator*() const noexcept { return *object_; }
  explicit operator bool() const noexcept { return object_ != nullptr; }
  friend bool operator==(const Ref& a, const Ref& b) noexcept { return a.object_ == b.object_; }

 private:
  T* object_ = nullptr;
};

}  // namespace aio::internal

#endif  // AIO_ASYNC_INTERNAL_REF_H_
