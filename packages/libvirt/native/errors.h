// libvirt errors copied off the failing thread, turned into JS errors on the main thread.
#pragma once
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <napi.h>

#include <string>

namespace agentfleet {

// A libvirt error as plain data: safe to carry from a pool thread to the main thread.
struct LvError {
  int code = 0;
  int domain = 0;
  int level = 0;
  std::string message;
  std::string func;  // the C function that failed, e.g. "virDomainCreate"
  bool connectionLost = false;
  bool fromBinding = false;  // raised by this binding (closed handle), not by libvirt

  // Copies the calling thread's last libvirt error (virCopyLastError is thread-local, so this
  // must run on the thread that made the failing call, right after it). `conn` (optional) is
  // probed with virConnectIsAlive so a broken transport is reported as such.
  void Capture(const char* cFunc, virConnectPtr conn = nullptr);

  // An error raised by this binding itself (closed handle, bad argument), not by libvirt.
  static LvError Binding(int code, const char* cFunc, std::string message);

  // Builds the JS error through the factory registered by the TS layer (LibvirtError classes).
  Napi::Value ToJs(Napi::Env env) const;
};

// Installs the no-op libvirt error handler and remembers the JS error factory.
void SetErrorFactory(Napi::Env env, Napi::Function factory);

}  // namespace agentfleet
