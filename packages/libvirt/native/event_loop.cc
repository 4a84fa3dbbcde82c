#include "event_loop.h"

#include <libvirt/libvirt.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace agentfleet::event_loop {

namespace {
std::once_flag registered;
std::mutex lock;
// A pointer, never a static std::thread: process.exit() skips the cleanup hook, and a joinable
// std::thread destroyed by static destructors calls std::terminate.
std::thread* loop = nullptr;
std::atomic<bool> keepRunning{false};
int environments = 0;  // guarded by `lock`

void RemoveSelf(int timer, void*) { virEventRemoveTimeout(timer); }
}  // namespace

void Register() {
  std::call_once(registered, [] { virEventRegisterDefaultImpl(); });
}

void Start(bool& envFlag) {
  std::lock_guard<std::mutex> guard(lock);
  if (!envFlag) {
    envFlag = true;
    environments++;
  }
  if (loop != nullptr) return;
  Register();
  keepRunning = true;
  loop = new std::thread([] {
    while (keepRunning.load()) virEventRunDefaultImpl();
  });
}

static void StopLocked();

void Leave(bool& envFlag) {
  std::lock_guard<std::mutex> guard(lock);
  if (!envFlag) return;
  envFlag = false;
  if (--environments == 0) StopLocked();
}

void Stop() {
  std::lock_guard<std::mutex> guard(lock);
  StopLocked();
}

static void StopLocked() {
  if (loop == nullptr) return;
  keepRunning = false;
  // Adding a timer interrupts the loop's poll(); the timer removes itself when it fires.
  virEventAddTimeout(0, RemoveSelf, nullptr, nullptr);
  loop->join();
  delete loop;
  loop = nullptr;
}

bool Running() {
  std::lock_guard<std::mutex> guard(lock);
  return loop != nullptr;
}

}  // namespace agentfleet::event_loop
