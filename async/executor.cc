#include "async/executor.h"

#include <pthread.h>

#include <algorithm>
#include <stdexcept>

namespace aio {

std::size_t ThreadPoolExecutor::default_max_workers() {
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  return std::min<std::size_t>(32, cores + 4);
}

ThreadPoolExecutor::ThreadPoolExecutor(std::size_t max_workers, std::string thread_name_prefix)
    : max_workers_(max_workers), thread_name_prefix_(std::move(thread_name_prefix)) {
  if (max_workers == 0) throw ValueError("ThreadPoolExecutor: max_workers must be at least 1");
}

ThreadPoolExecutor::~ThreadPoolExecutor() { shutdown(/*wait=*/true); }

void ThreadPoolExecutor::submit(internal::UniqueFunction job) {
  std::lock_guard lock(mutex_);
  if (shut_down_) throw RuntimeError("ThreadPoolExecutor::submit: cannot schedule new jobs after shutdown");
  jobs_.push_back(std::move(job));
  if (idle_workers_ > 0) {
    wake_worker_.notify_one();
  } else if (threads_.size() < max_workers_) {
    threads_.emplace_back(&ThreadPoolExecutor::work, this, threads_.size());
  }
}

void ThreadPoolExecutor::shutdown(bool wait, bool cancel_pending) {
  std::vector<std::thread> threads;
  std::deque<internal::UniqueFunction> dropped;
  {
    std::lock_guard lock(mutex_);
    shut_down_ = true;
    if (cancel_pending) dropped.swap(jobs_);
    wake_worker_.notify_all();
    if (wait) threads.swap(threads_);
  }
  for (std::thread& thread : threads) thread.join();
}

std::size_t ThreadPoolExecutor::thread_count() const {
  std::lock_guard lock(mutex_);
  return threads_.size();
}

void ThreadPoolExecutor::work(std::size_t index) {
  // Linux limits thread names to 15 characters.
  std::string name = thread_name_prefix_ + "_" + std::to_string(index);
  ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
  std::unique_lock lock(mutex_);
  for (;;) {
    ++idle_workers_;
    wake_worker_.wait(lock, [this] { return !jobs_.empty() || shut_down_; });
    --idle_workers_;
    if (jobs_.empty()) return;  // shut down and drained
    internal::UniqueFunction job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();  // jobs catch their own exceptions (run_in_executor does)
    job = {};
    lock.lock();
  }
}

ThreadPoolExecutor& EventLoop::default_executor() {
  if (!default_executor_) default_executor_ = std::make_shared<ThreadPoolExecutor>();
  return *default_executor_;
}

void EventLoop::shutdown_default_executor() {
  if (default_executor_) {
    default_executor_->shutdown(/*wait=*/true);
    default_executor_.reset();
  }
}

}  // namespace aio
