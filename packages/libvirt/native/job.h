// One blocking libvirt call as a Promise (sharp's baton pattern): Work runs on a libuv pool
// thread and touches only plain C++ data; Done converts the result on the main thread.
#pragma once
#include <napi.h>

#include <functional>
#include <utility>

#include "errors.h"

namespace agentfleet {

template <typename T>
class Job final : public Napi::AsyncWorker {
 public:
  // Returns false after capturing the libvirt error into `err`.
  using Work = std::function<bool(T& out, LvError& err)>;
  using Done = std::function<Napi::Value(Napi::Env env, T& out)>;

  static Napi::Promise Run(Napi::Env env, Work work, Done done) {
    auto* job = new Job(env, std::move(work), std::move(done));
    Napi::Promise promise = job->deferred_.Promise();
    job->Queue();
    return promise;
  }

 private:
  Job(Napi::Env env, Work work, Done done)
      : Napi::AsyncWorker(env, "agentfleet:libvirt"),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        done_(std::move(done)) {}

  void Execute() override {
    ok_ = work_(out_, err_);
    // Drop captured references here, on the worker: a last unref may talk to the daemon.
    work_ = nullptr;
  }

  void OnOK() override {
    Napi::HandleScope scope(Env());
    if (ok_)
      deferred_.Resolve(done_(Env(), out_));
    else
      deferred_.Reject(err_.ToJs(Env()));
  }

  Napi::Promise::Deferred deferred_;
  Work work_;
  Done done_;
  T out_{};
  LvError err_;
  bool ok_ = false;
};

// A promise already rejected with a binding error (closed handle and the like).
inline Napi::Promise Rejected(Napi::Env env, const LvError& err) {
  auto deferred = Napi::Promise::Deferred::New(env);
  deferred.Reject(err.ToJs(env));
  return deferred.Promise();
}

}  // namespace agentfleet
